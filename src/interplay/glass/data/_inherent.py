"""Inherent structures and per-particle energies for configurations read from any dataset.

:func:`add_inherent_structures` quenches a :class:`~interplay.glass.data._io.Configuration` to its
inherent structure with FIRE in LAMMPS (the same driver as the simulation pipeline, thesis
§2.1.3 "Inherent Structures") and adds the inherent positions and the per-particle KA potential
energies of the thermal and inherent positions. Results are cached in
``<data dir>/.interplay_cache/inherent/<name>.npz`` or, when the data directory is read-only,
under ``$INTERPLAY_CACHE`` (default ``~/.cache/interplay``); user data is never modified.

:func:`ka_energy_numpy` is an independent numpy implementation of the KA per-particle energy
(used by the tests to check LAMMPS and the stored dataset).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np

from interplay.core import write_npz
from interplay.glass.data._configuration import Configuration
from interplay.glass.data._graph import periodic_neighbor_list
from interplay.glass.simulation import CUTOFF_FACTOR, EPSILON, SIGMA

CACHE_VERSION = 1


def default_cache_root() -> Path:
    return Path(os.environ.get("INTERPLAY_CACHE", Path.home() / ".cache" / "interplay"))


def data_dir_writable(directory: Path) -> bool:
    """Whether a data directory may receive a cache sub-directory.

    Read-only by permission bits counts as read-only even for root (who could write anyway):
    a directory marked ``r-x`` holds user data that must stay untouched.
    """
    directory = Path(directory)
    try:
        mode = directory.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWUSR) and os.access(directory, os.W_OK)


def cache_path(config: Configuration, cache_dir: str | Path | None = None) -> Path:
    """Where the quench of ``config`` is cached (next to the data when writable)."""
    key = hashlib.sha256(
        ("|".join(config.files) + f"|{config.name}|v{CACHE_VERSION}").encode()
    ).hexdigest()[:16]
    name = f"{config.name or 'config'}_{key}.npz"
    if cache_dir is not None:
        return Path(cache_dir) / "inherent" / name
    if config.files:
        data_dir = Path(config.files[0]).parent
        if data_dir_writable(data_dir):
            return data_dir / ".interplay_cache" / "inherent" / name
    return default_cache_root() / "inherent" / name


def ka_energy_numpy(positions: np.ndarray, types: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Per-particle KA energy (half of every truncated-and-shifted pair term), ``(N,)``."""
    types = np.asarray(types).astype(np.int64)
    edge_index, vec = periodic_neighbor_list(positions, box, CUTOFF_FACTOR * SIGMA.max())
    j, i = edge_index
    a, b = types[i], types[j]
    r2 = (vec * vec).sum(1)
    sig2, eps = SIGMA[a, b] ** 2, EPSILON[a, b]
    rc2 = (CUTOFF_FACTOR**2) * sig2
    s6 = (sig2 / r2) ** 3
    s6c = (sig2 / rc2) ** 3
    v = 4 * eps * (s6 * s6 - s6) - 4 * eps * (s6c * s6c - s6c)
    v = np.where(r2 < rc2, v, 0.0)
    return 0.5 * np.bincount(i, weights=v, minlength=types.size)


def quench(
    positions: np.ndarray, types: np.ndarray, box: np.ndarray, ftol: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FIRE quench; returns (inherent positions, E_pot thermal, E_pot inherent per particle)."""
    from interplay.glass.simulation import KASimulation

    with KASimulation(types, box) as sim:
        sim.set_positions(positions)
        e_thermal = sim.per_particle_energy()
        sim.minimize_fire(ftol)
        x_is = sim.positions()
        e_is = sim.per_particle_energy()
    return x_is, e_thermal, e_is


def add_inherent_structures(
    config: Configuration,
    cache_dir: str | Path | None = None,
    ftol: float = 1e-8,
    force: bool = False,
) -> Configuration:
    """``config`` with inherent positions and thermal / IS per-particle energies (cached)."""
    if (
        not force
        and config.inherent_positions is not None
        and config.epot is not None
        and config.epot_inherent is not None
    ):
        return config
    path = cache_path(config, cache_dir)
    if path.exists() and not force:
        with np.load(path, allow_pickle=False) as data:
            if np.allclose(data["positions"], config.positions, atol=1e-9):
                return replace(
                    config,
                    inherent_positions=config.inherent_positions
                    if config.inherent_positions is not None
                    else data["inherent_positions"],
                    epot=data["epot"],
                    epot_inherent=data["epot_inherent"],
                )
    if config.inherent_positions is not None:  # the dataset's own IS: only the energies
        from interplay.glass.simulation import KASimulation

        x_is = config.inherent_positions
        with KASimulation(config.types, config.box) as sim:
            sim.set_positions(config.positions)
            e_th = sim.per_particle_energy()
            sim.set_positions(x_is)
            e_is = sim.per_particle_energy()
    else:
        x_is, e_th, e_is = quench(config.positions, config.types, config.box, ftol)
    write_npz(
        path,
        positions=config.positions,
        inherent_positions=x_is,
        epot=e_th,
        epot_inherent=e_is,
    )
    return replace(config, inherent_positions=x_is, epot=e_th, epot_inherent=e_is)
