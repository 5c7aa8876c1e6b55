"""GlassBench (Jung et al. roadmap) reader; also reads this package's simulations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interplay.core import DataError
from interplay.glass.data._io import (
    _GB_RE,
    Configuration,
    _open_npz,
    _require,
    _times_for,
    _wrap,
)


def load_glassbench(path: str | Path, density: float = 1.2) -> Configuration:
    path = Path(path)
    data = _open_npz(path)
    _require(path, data, ("types", "initial_positions", "md_prop"), "glassbench")
    types = data["types"].astype(np.int64)
    n = types.size
    prop = np.asarray(data["md_prop"], dtype=np.float64)
    if prop.ndim != 2:
        raise DataError(f"{path}: md_prop has shape {prop.shape}, expected (n_t, {n})")
    if prop.shape[1] != n and prop.shape[0] == n:
        prop = prop.T
    if prop.shape[1] != n:
        raise DataError(f"{path}: md_prop has shape {prop.shape}, expected (n_t, {n})")
    m = _GB_RE.search(path.name)
    if "temperature" in data:
        T = float(data["temperature"])
    elif m is not None:
        T = float(m["T"])
    else:
        raise DataError(f"{path}: no temperature key and no N{{N}}T{{T}}_{{i}}.npz file name")
    box = data.get("box")
    box = (
        np.full(3, (n / density) ** (1.0 / 3.0))
        if box is None
        else np.broadcast_to(np.asarray(box, np.float64), (3,)).copy()
    )
    idx = (
        np.asarray(data["time_indices"], np.int64)
        if "time_indices" in data
        else np.arange(prop.shape[0])
    )
    times = (
        np.asarray(data["times"], np.float64)
        if "times" in data
        else _times_for(T, idx, one_based=False)
    )
    inh = data.get("initial_positions_inherent")
    return Configuration(
        positions=_wrap(data["initial_positions"].astype(np.float64), box),
        types=types,
        box=box,
        temperature=T,
        times=times,
        time_indices=idx,
        propensity=prop,
        inherent_positions=None if inh is None else _wrap(inh.astype(np.float64), box),
        epot=None if "epot" not in data else data["epot"].astype(np.float64),
        epot_inherent=None if "epot_inherent" not in data else data["epot_inherent"].astype(float),
        name=path.stem,
        source="glassbench",
        files=(str(path),),
    ).validate()
