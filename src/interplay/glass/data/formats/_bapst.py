"""Bapst et al. 2020 (DeepMind glassy_dynamics) reader: pickled dict(s) per file.

Each dict holds ``positions``, ``types``, ``box``, ``time``, ``time_indices``,
``trajectory_target_positions`` (per time index, the runs' positions), optional ``targets`` and
``metadata`` (with the temperature: file names do not state it, so the configurations read are
filtered by temperature after reading). The propensity (thesis eq. 2.17) is recomputed from the
runs where they are stored, otherwise taken from ``targets``; where runs are stored, the
propensities of their two halves are kept for the labels' noise ceiling (NaN rows elsewhere).

The pickles are read with :func:`interplay.core.load_array_pickle` (numpy arrays and builtin
containers only), never with ``pickle.load``: a crafted file cannot run code (docs/ka_data.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from interplay.core import DataError, load_array_pickle
from interplay.glass.data._configuration import (
    Configuration,
    join_halves,
    propensity_and_halves,
    require_finite,
    require_keys,
    wrap_into_box,
)
from interplay.glass.data._tau_alpha import TauAlpha, tau_alpha_from_fs
from interplay.glass.data.formats._registry import Reader


def _bapst_dicts(path: Path) -> list[dict]:
    # plain pickle.load would call any global the file names: a crafted pickle runs code.
    # The restricted unpickler rebuilds numpy arrays and builtin containers only.
    obj = load_array_pickle(path)
    items = obj if isinstance(obj, list) else [obj]
    if not all(isinstance(d, dict) for d in items):
        raise DataError(f"{path}: expected a dict (or list of dicts) per configuration")
    return items


class BapstReader(Reader):
    """One pickle per unit, holding one configuration or a list of them."""

    name = "bapst"
    source = 'Bapst et al. 2020 DeepMind "glassy_dynamics" data (aggregated_data_*.pickle)'
    suffixes = (".pickle", ".pkl")

    def tau_alpha(
        self,
        units: list[list[Path]],
        T: float,
        time_indices: np.ndarray,
        times: np.ndarray,
        metadata: Mapping,
    ) -> TauAlpha | None:
        """Where F_s at ``is_values`` (one per time index) crosses 1/e
        (:func:`~interplay.glass.data._tau_alpha.tau_alpha_from_fs`)."""
        return tau_alpha_from_fs(time_indices, times, metadata.get("is_values", []))

    def read(self, files: list[Path]) -> list[Configuration]:
        return [self.read_dict(p, d, k) for p in files for k, d in enumerate(_bapst_dicts(p))]

    def read_dict(self, path: Path, d: dict, k: int) -> Configuration:
        """Configuration ``k`` of the pickle ``path``."""
        keys = ("positions", "types", "box", "time", "time_indices")
        require_keys(path, d, keys, self.name, self.source)
        pos = np.asarray(d["positions"], dtype=np.float64)
        types = np.asarray(d["types"]).astype(np.int64)
        n = types.size
        box = np.asarray(d["box"], dtype=np.float64).reshape(-1)
        if box.size == 1:
            box = np.full(3, box[0])
        idx = np.asarray(d["time_indices"], dtype=np.int64)
        time = np.asarray(d["time"], dtype=np.float64)
        if idx.max(initial=-1) >= time.size:
            raise DataError(f"{path}: time_indices {idx.tolist()} exceed the {time.size} times")
        runs = d.get("trajectory_target_positions") or []
        targets = d.get("targets")
        if len(runs) > idx.size:
            raise DataError(f"{path}: {len(runs)} trajectory sets for {idx.size} time indices")
        prop = np.empty((idx.size, n))
        halves: list[np.ndarray | None] = [None] * idx.size
        for j in range(idx.size):
            if j < len(runs):
                r = np.asarray(runs[j], dtype=np.float64)
                if r.ndim != 3 or r.shape[1:] != (n, 3):
                    raise DataError(
                        f"{path}: trajectory_target_positions[{j}] has shape {r.shape}, "
                        f"expected (n_runs, {n}, 3)"
                    )
                key = f"trajectory_target_positions[{j}]"
                r = require_finite(path, key, r, ("run", "particle", "xyz"))
                prop[j], half = propensity_and_halves(r, pos)
                halves[j] = None if half is None else half[:, None]
            elif targets is not None and len(targets) == idx.size:
                prop[j] = require_finite(path, f"targets[{j}]", targets[j], minimum=0.0)
            else:
                raise DataError(
                    f"{path}: no trajectories and no `targets` for time index {idx[j]} "
                    f"(targets: {None if targets is None else len(targets)} entries)"
                )
        meta = dict(d.get("metadata") or {})
        if "temperature" not in meta:
            raise DataError(f"{path}: metadata has no temperature (keys {sorted(meta)})")
        stem = path.stem if k == 0 else f"{path.stem}_{k}"
        return Configuration(
            positions=wrap_into_box(pos, box, path),
            types=types,
            box=box,
            temperature=float(meta["temperature"]),
            times=time[idx],
            time_indices=idx,
            propensity=prop,
            propensity_halves=join_halves(halves, [1] * idx.size, n),
            name=stem,
            source=self.name,
            files=(str(path),),
            metadata={**meta, "is_values": np.asarray(d.get("is_values", [])).tolist()},
        ).validate()
