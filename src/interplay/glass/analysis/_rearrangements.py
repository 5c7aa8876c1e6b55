"""Per-particle (structure, rearrangement) pairs of a glass dataset for the softness
diagnostics of papers/svm_softness_toy_model.txt (Sec. V on real data, docs/softness_toy.md).

Structure: the Boattini-Smallenburg-Filion descriptors (docs/baselines.md) on the periodic
neighbour list. Rearrangement: the embedded ka3d files store only the iso-configurational mean
displacement md_prop (n_t, N) at ten log-spaced times per temperature (no trajectories, so no
p_hop), hence R = 1 iff that mean |dr| at one fixed time t_R exceeds a threshold a. t_R must be
the same at every T (P(R|S, T) is a probability per fixed time window, eq. 1); the stored grids
differ by T, so log |dr| is interpolated linearly in log t between the stored times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from interplay.core import ConfigError, DataError
from interplay.glass.data import Configuration, load_directory, periodic_neighbor_list
from interplay.glass.nn import DescriptorSpec, compute_descriptors


def displacement_at(config: Configuration, t: float) -> np.ndarray:
    """(N,) iso-configurational mean |dr| at time ``t``: log-log interpolation between the
    stored times (exact at a stored time); DataError outside the stored range."""
    times = np.asarray(config.times, dtype=float)
    if not np.all(np.isfinite(times)) or not times[0] <= t <= times[-1]:
        raise DataError(
            f"{config.name or config.files}: rearrangement time t_R={t} is outside the stored "
            f"times {times.tolist()}; choose t_R inside the range common to every temperature."
        )
    if np.any(config.propensity <= 0):
        raise DataError(f"{config.name}: non-positive mean displacement; cannot interpolate in log")
    log_p = np.log(config.propensity)
    log_t = np.log(times)
    j = int(np.clip(np.searchsorted(log_t, np.log(t)), 1, len(times) - 1))
    w = (np.log(t) - log_t[j - 1]) / (log_t[j] - log_t[j - 1])
    return np.exp((1 - w) * log_p[j - 1] + w * log_p[j])


@dataclass
class ParticleSet:
    """Descriptors, labels and configuration index of the chosen particles of some files."""

    x: np.ndarray  # (n, n_descriptors)
    y: np.ndarray  # (n,) 1 = rearranged
    group: np.ndarray  # (n,) index of the configuration the particle belongs to
    displacement: np.ndarray  # (n,) the mean |dr| at t_R that defines y


def rearrangement_set(
    directory: str | Path,
    t_rearrange: float,
    threshold: float,
    spec: DescriptorSpec,
    particle_type: int = 0,
    cutoff: float = 2.0,
    max_configs: int | None = None,
) -> ParticleSet:
    """Every configuration of ``directory``: descriptors of the particles of ``particle_type``
    (0 = A, as in ref. [8]) and R = [mean |dr|(t_rearrange) > threshold]."""
    if not threshold > 0:
        raise ConfigError(f"threshold={threshold}: the displacement threshold must be > 0 (sigma)")
    configs = load_directory(directory)
    if not configs:
        raise DataError(f"{directory}: no configurations (expected ka3d .npz files)")
    xs, ys, gs, ds = [], [], [], []
    for k, c in enumerate(configs[:max_configs]):
        edge_index, edge_vec = periodic_neighbor_list(c.positions, c.box, cutoff)
        desc = compute_descriptors(
            torch.as_tensor(edge_index), torch.as_tensor(edge_vec), torch.as_tensor(c.types), spec
        ).numpy()
        keep = c.types == particle_type
        if not keep.any():
            raise DataError(f"{c.name}: no particle of type {particle_type}")
        disp = displacement_at(c, t_rearrange)[keep]
        xs.append(desc[keep])
        ds.append(disp)
        ys.append((disp > threshold).astype(np.int8))
        gs.append(np.full(int(keep.sum()), k))
    return ParticleSet(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs),
                       np.concatenate(ds))  # fmt: skip
