"""Shiba et al. 2023 (BOTAN) reader: one npz per configuration and time index ``tc``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from interplay.core import DataError
from interplay.glass.data._io import (
    _BOTAN_RE,
    Configuration,
    _open_npz,
    _propensity,
    _require,
    _times_for,
    _wrap,
)


def load_botan(path: str | Path, box: float | None = None, density: float = 1.2) -> Configuration:
    """One BOTAN file: one configuration at one time index ``tc``."""
    path = Path(path)
    m = _BOTAN_RE.search(path.name)
    if m is None:
        raise DataError(
            f"{path}: not a BOTAN file name (isoconfig_N{{N}}T{{T}}_{{i}}_tc{{XX}}.npz)"
        )
    data = _open_npz(path)
    _require(path, data, ("types", "initial_positions", "positions"), "botan")
    types = data["types"].astype(np.int64)
    n = types.size
    if int(m["n"]) != n:
        raise DataError(f"{path}: file name says N={m['n']} but types has {n} entries")
    start = data["initial_positions"].astype(np.float64)
    runs = data["positions"]
    if runs.ndim != 3 or runs.shape[1:] != (n, 3):
        raise DataError(f"{path}: positions has shape {runs.shape}, expected (n_runs, {n}, 3)")
    L = box if box is not None else (n / density) ** (1.0 / 3.0)
    box_arr = np.full(3, float(L))
    T = float(m["T"])
    tc = np.array([int(m["tc"])])
    return Configuration(
        positions=_wrap(start, box_arr),
        types=types,
        box=box_arr,
        temperature=T,
        times=_times_for(T, tc, one_based=True),
        time_indices=tc,
        propensity=_propensity(runs, start)[None],
        name=f"N{n}T{m['T']}_{m['i']}",
        source="botan",
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
    return replace(
        first,
        time_indices=idx[order],
        times=np.concatenate([c.times for c in configs])[order],
        propensity=np.concatenate([c.propensity for c in configs])[order],
        files=tuple(f for c in configs for f in c.files),
    ).validate()
