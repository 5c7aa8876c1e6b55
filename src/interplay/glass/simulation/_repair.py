"""Recompute the propensity of stored configurations whose reference positions left the box.

Pipeline versions before the ``wrap_into_box`` fix stored ``initial_positions`` straight from
LAMMPS, which only folds atoms into ``[0, L)`` at re-neighbouring: a few particles per
configuration sat just outside the box. The iso-configurational runs start from the wrapped
positions, so those particles' |r(t) - r(0)| was measured from a reference one box length
away (md_prop ~ L). This command re-runs the iso-configurational trajectories of the affected
files with the *same* seeds, time grid and time step (recorded in each file's metadata) and
rewrites ``initial_positions`` (wrapped) and ``md_prop`` atomically. The trajectories are the
same as the original ones, so unaffected particles must come out unchanged: the command checks
that and reports the largest deviation.

    interplay-repair data/ka3d/T1.0 data/ka3d/T0.9 [--workers 2]
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from interplay.core import DataError, write_json, write_npz
from interplay.glass.simulation._lammps import wrap_into_box
from interplay.glass.simulation._replay import read_recorded, replay_iso_runs


def affected_particles(initial_positions: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Particles whose stored reference position lies outside ``[0, L)``."""
    return ((initial_positions < 0) | (initial_positions >= box)).any(axis=1)


def repair_file(path: str | Path) -> dict:
    """Recompute ``md_prop`` of one configuration file if it is affected; return a report."""
    path = Path(path)
    data, meta = read_recorded(path)
    box = np.broadcast_to(data["box"], (3,))
    bad = affected_particles(data["initial_positions"], box)
    if not bad.any():
        return {"file": path.name, "affected": 0}
    start = time.perf_counter()
    x0 = wrap_into_box(data["initial_positions"], box)
    md_prop = replay_iso_runs(data, meta, x0).mean(axis=0).astype(np.float32)
    deviation = float(np.abs(md_prop[:, ~bad] - data["md_prop"][:, ~bad]).max())
    if deviation > 1e-4:
        raise DataError(
            f"{path}: recomputed propensity of unaffected particles deviates by {deviation:.2e}"
            " from the stored one: the trajectories are not reproduced; file left unchanged."
        )
    write_npz(path, **{**data, "initial_positions": x0, "md_prop": md_prop})
    report = {
        "file": path.name,
        "affected": int(bad.sum()),
        "unaffected_max_deviation": deviation,
        "seconds": time.perf_counter() - start,
    }
    meta["propensity_repair"] = {k: v for k, v in report.items() if k != "file"}
    write_json(path.with_suffix(".json"), meta)
    return report


def repair_dirs(dirs: Sequence[str | Path], workers: int = 2) -> Iterator[dict]:
    """Body of ``interplay-repair``: :func:`repair_file` on every configuration file under
    ``dirs`` (recursively; checkpoint states skipped), ``workers`` in parallel; yields each
    file's report as it is done."""
    files = sorted(f for d in dirs for f in Path(d).rglob("*.npz") if ".state" not in f.parts)
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(repair_file, files)
