"""Bapst et al. 2020 (DeepMind glassy_dynamics) reader: pickled dict(s) per file."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from interplay.core import DataError
from interplay.glass.data._io import (
    Configuration,
    _propensity,
    _require,
    _wrap,
)


def _bapst_dicts(path: Path) -> list[dict]:
    try:
        with open(path, "rb") as handle:
            obj = pickle.load(handle)  # noqa: S301 - user-supplied research data
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{path}: cannot unpickle ({exc})") from exc
    items = obj if isinstance(obj, list) else [obj]
    if not all(isinstance(d, dict) for d in items):
        raise DataError(f"{path}: expected a dict (or list of dicts) per configuration")
    return items


def _bapst_config(path: Path, d: dict, k: int) -> Configuration:
    keys = ("positions", "types", "box", "time", "time_indices")
    _require(path, d, keys, "bapst")
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
    for j in range(idx.size):
        if j < len(runs):
            r = np.asarray(runs[j], dtype=np.float64)
            if r.ndim != 3 or r.shape[1:] != (n, 3):
                raise DataError(
                    f"{path}: trajectory_target_positions[{j}] has shape {r.shape}, "
                    f"expected (n_runs, {n}, 3)"
                )
            prop[j] = _propensity(r, pos)
        elif targets is not None and len(targets) == idx.size:
            prop[j] = np.asarray(targets[j], dtype=np.float64)
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
        positions=_wrap(pos, box),
        types=types,
        box=box,
        temperature=float(meta["temperature"]),
        times=time[idx],
        time_indices=idx,
        propensity=prop,
        name=stem,
        source="bapst",
        files=(str(path),),
        metadata={**meta, "is_values": np.asarray(d.get("is_values", [])).tolist()},
    ).validate()


def load_bapst(path: str | Path) -> list[Configuration]:
    path = Path(path)
    return [_bapst_config(path, d, k) for k, d in enumerate(_bapst_dicts(path))]
