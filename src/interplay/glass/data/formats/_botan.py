"""Shiba et al. 2023 (BOTAN) reader: one npz per configuration *and* time index ``tc``.

``isoconfig_N{N}T{T}_{i}_tc{XX}.npz`` with ``types``, ``initial_positions`` (N, 3) in [0, L) and
``positions`` (n_runs, N, 3) unwrapped. The files of one configuration form one unit and are
merged into one :class:`~interplay.glass.data.Configuration`; the propensity (thesis eq. 2.17)
is recomputed from the runs, and the propensities of the two halves of the runs are kept for the
labels' noise ceiling (``Configuration.propensity_halves``). ``tc01..tc10`` are the GlassBench
times at T = 0.44 in order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from interplay.core import DataError
from interplay.glass.data._configuration import (
    Configuration,
    join_halves,
    open_npz,
    propensity_and_halves,
    require_finite,
    require_keys,
    wrap_into_box,
)
from interplay.glass.data._tau_alpha import TauAlpha
from interplay.glass.data.formats._glassbench import KNOWN_TIMES
from interplay.glass.data.formats._registry import Reader

#: BOTAN time index of τα: tc07 (t = 4120 at T = 0.44, the GlassBench grid; DESIGN.md).
TAU_ALPHA_TC = 7

_NAME_RE = re.compile(r"isoconfig_N(?P<n>\d+)T(?P<T>[0-9.]+)_(?P<i>\d+)_tc(?P<tc>\d+)\.npz$")


class BotanReader(Reader):
    """Shiba et al. 2023 iso-configurational runs, one file per configuration and ``tc``."""

    name = "botan"
    source = "Shiba et al. 2023 BOTAN dataset (isoconfig_N4096T{T}_{i}_tc{XX}.npz files)"
    suffixes = (".npz",)
    known_times = KNOWN_TIMES
    first_time_index = 1  # tc01 is the first GlassBench time

    def __init__(self, box: float | None = None, density: float = 1.2) -> None:
        self.box = box  # the files store no box: L = (N / density)^(1/3) unless given
        self.density = density

    def detect(self, path: Path) -> bool:
        return _NAME_RE.search(path.name) is not None

    def temperature(self, path: Path) -> float | None:
        m = _NAME_RE.search(path.name)
        return None if m is None else float(m["T"])

    def units(self, files: list[Path]) -> list[list[Path]]:
        """Files grouped by configuration ``N{N}T{T}_{i}``, in index order."""
        groups: dict[str, list[Path]] = defaultdict(list)
        for p in files:
            m = _NAME_RE.search(p.name)
            if m is not None:
                groups[f"N{m['n']}T{m['T']}_{m['i']}"].append(p)
        return [groups[k] for k in sorted(groups, key=lambda k: int(k.rsplit("_", 1)[1]))]

    def time_grid(self, units: list[list[Path]], T: float) -> tuple[np.ndarray, np.ndarray]:
        """The ``tc`` indices every configuration has (file names suffice)."""
        sets = [{int(_NAME_RE.search(p.name)["tc"]) for p in u} for u in units]
        idx = np.array(sorted(set.intersection(*sets)), dtype=np.int64)
        return idx, self.grid_times(T, idx)

    def tau_alpha(
        self,
        units: list[list[Path]],
        T: float,
        time_indices: np.ndarray,
        times: np.ndarray,
        metadata: Mapping,
    ) -> TauAlpha:
        """``tc07`` at every temperature (the files may lack it: then the models report at the
        closest time index they have)."""
        t = float(self.grid_times(T, np.array([TAU_ALPHA_TC]))[0])
        return TauAlpha(TAU_ALPHA_TC, t, t, f"BOTAN tc{TAU_ALPHA_TC:02d} = tau_alpha")

    def read(self, files: list[Path]) -> list[Configuration]:
        return [merge_time_indices([self.read_file(p) for p in files])]

    def read_file(self, path: Path) -> Configuration:
        """One BOTAN file: one configuration at one time index ``tc``."""
        m = _NAME_RE.search(path.name)
        if m is None:
            raise DataError(
                f"{path}: not a BOTAN file name (isoconfig_N{{N}}T{{T}}_{{i}}_tc{{XX}}.npz)"
            )
        data = open_npz(path)
        keys = ("types", "initial_positions", "positions")
        require_keys(path, data, keys, self.name, self.source)
        types = data["types"].astype(np.int64)
        n = types.size
        if int(m["n"]) != n:
            raise DataError(f"{path}: file name says N={m['n']} but types has {n} entries")
        runs = data["positions"]
        if runs.ndim != 3 or runs.shape[1:] != (n, 3):
            raise DataError(f"{path}: positions has shape {runs.shape}, expected (n_runs, {n}, 3)")
        runs = require_finite(path, "positions", runs, ("run", "particle", "xyz"))
        # no box in the file: L from N and the density, checked against the positions' span
        L = self.box if self.box is not None else (n / self.density) ** (1.0 / 3.0)
        box_arr = np.full(3, float(L))
        wrapped = wrap_into_box(data["initial_positions"], box_arr, path, "initial_positions")
        start = data["initial_positions"].astype(np.float64)
        T = float(m["T"])
        tc = np.array([int(m["tc"])])
        prop, halves = propensity_and_halves(runs, start)
        return Configuration(
            positions=wrapped,
            types=types,
            box=box_arr,
            temperature=T,
            times=self.grid_times(T, tc),
            time_indices=tc,
            propensity=prop[None],
            propensity_halves=None if halves is None else halves[:, None],
            name=f"N{n}T{m['T']}_{m['i']}",
            source=self.name,
            files=(str(path),),
            metadata={"n_runs": int(runs.shape[0]), "index": int(m["i"])},
        ).validate()


def merge_time_indices(configs: list[Configuration]) -> Configuration:
    """Merge single-time-index files of one configuration (sorted by time index)."""
    first = configs[0]
    for c in configs[1:]:
        same = (
            c.types.shape == first.types.shape
            and np.array_equal(c.types, first.types)
            and np.allclose(c.positions, first.positions, atol=1e-9)
        )
        if not same:
            raise DataError(
                f"{c.files[0]} and {first.files[0]} claim to be configuration {first.name} but "
                "hold different types / initial positions"
            )
    idx = np.concatenate([c.time_indices for c in configs])
    if np.unique(idx).size != idx.size:
        raise DataError(f"{first.name}: duplicated time indices {sorted(idx.tolist())}")
    order = np.argsort(idx)
    n = first.n_particles
    halves = join_halves(
        [c.propensity_halves for c in configs], [c.time_indices.size for c in configs], n
    )
    return replace(
        first,
        time_indices=idx[order],
        times=np.concatenate([c.times for c in configs])[order],
        propensity=np.concatenate([c.propensity for c in configs])[order],
        propensity_halves=None if halves is None else halves[:, order],
        files=tuple(f for c in configs for f in c.files),
    ).validate()
