"""Re-run the iso-configurational runs of a stored configuration from its recorded seeds.

The pipeline stores only the propensity averaged over all runs (``md_prop``, eq. 2.17); the
labels' noise ceiling needs two independent half-averages (``md_prop_halves``). Every file
written by ``interplay-simulate`` records what replays its runs exactly: the starting
positions ``initial_positions`` (float64, as LAMMPS held them) and the velocity seed of every
run (``iso_seeds`` in the ``.json``). :func:`replay_iso_runs` integrates the runs again;
:func:`write_propensity_halves` checks that their mean reproduces the stored ``md_prop`` (a
replay that does not reproduce it is an error, not a ceiling) and writes the halves beside
the configuration as ``<stem>.halves.npy`` -- a new file: the configuration is never touched.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from interplay.core import DataError, atomic_open
from interplay.glass.simulation._lammps import KASimulation
from interplay.glass.simulation._pipeline import iso_run_displacements

log = logging.getLogger(__name__)

#: Suffix of the half-average propensities written beside a configuration ``<stem>.npz``.
HALVES_SUFFIX = ".halves.npy"


def halves_path(configuration: str | Path) -> Path:
    """Where the half-averages of ``<stem>.npz`` live: ``<stem>.halves.npy``."""
    configuration = Path(configuration)
    return configuration.with_name(configuration.stem + HALVES_SUFFIX)


def read_recorded(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays of a configuration file and its ``.json`` metadata (seeds, dt, settings)."""
    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not meta_path.exists():
        raise DataError(f"{path}: no {meta_path.name} beside it; only files written by "
                        "interplay-simulate record the seeds a replay needs.")  # fmt: skip
    meta = json.loads(meta_path.read_text())
    if not meta.get("iso_seeds"):
        raise DataError(f"{meta_path}: no iso_seeds recorded; the runs cannot be replayed.")
    with np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}, meta


def replay_iso_runs(
    data: dict[str, np.ndarray], meta: dict, x0: np.ndarray | None = None, progress: bool = False
) -> np.ndarray:
    """Displacements |r_i(t) - r_i(0)| of every recorded iso run, shape (n_runs, n_t, N).

    ``data`` / ``meta``: :func:`read_recorded`; ``x0`` replaces the stored starting positions
    (``interplay-repair`` starts from the wrapped ones)."""
    x0 = np.asarray(data["initial_positions"] if x0 is None else x0, dtype=np.float64)
    box = np.broadcast_to(np.asarray(data["box"], dtype=np.float64), (3,))
    dt = float(meta["settings"]["dt"])
    grid_steps = np.rint(np.asarray(data["times"]) / dt).astype(np.int64)
    temperature = float(data["temperature"])
    seeds = [int(seed) for seed in meta["iso_seeds"]]
    if progress:
        from tqdm import tqdm

        seeds = tqdm(seeds, desc="iso runs", leave=False)
    with KASimulation(data["types"], box, dt=dt) as sim:
        return np.stack(
            [iso_run_displacements(sim, x0, temperature, seed, grid_steps) for seed in seeds]
        )


def write_propensity_halves(
    configuration: str | Path, rtol: float = 1e-5, progress: bool = False
) -> Path:
    """Replay the runs, check them against the stored ``md_prop``, write ``<stem>.halves.npy``
    (float32, shape (2, n_t, N): mean of runs 1..n/2 and of n/2+1..n)."""
    path = Path(configuration)
    out = halves_path(path)
    if out.exists():
        raise DataError(f"{out} exists; delete it to recompute (it is never overwritten).")
    data, meta = read_recorded(path)
    disp = replay_iso_runs(data, meta, progress=progress)
    stored = np.asarray(data["md_prop"], dtype=np.float64)
    replayed = disp.mean(axis=0)
    error = float(np.max(np.abs(replayed - stored) / np.maximum(np.abs(stored), 1e-3)))
    if error > rtol:
        raise DataError(
            f"{path}: the replayed runs do not reproduce md_prop (max relative difference "
            f"{error:.2e} > {rtol:g}); a different LAMMPS build or settings? No halves written."
        )
    half = disp.shape[0] // 2
    halves = np.stack([disp[:half].mean(axis=0), disp[half : 2 * half].mean(axis=0)])
    with atomic_open(out, "wb") as handle:
        np.save(handle, halves.astype(np.float32), allow_pickle=False)
    log.info("%s: %d runs replayed (max rel. difference %.1e): wrote %s", path, len(disp),
             error, out.name)  # fmt: skip
    return out
