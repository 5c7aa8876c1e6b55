"""Dynamical observables used by the data pipeline: self-intermediate scattering and τα.

``F_s(k, t) = < sin(k |Δr_i(t)|) / (k |Δr_i(t)|) >_i`` is the isotropic (orientation-averaged)
self-intermediate scattering function; the conventional wave number for the KA mixture is the
position of the first peak of S_AA(q), k = 7.25 (Kob & Andersen, PRE 51, 4626 (1995)).
The structural relaxation time τα is where F_s first drops below 1/e.
"""

from __future__ import annotations

import numpy as np

K_PEAK = 7.25


def self_intermediate_scattering(displacements: np.ndarray, k: float = K_PEAK) -> np.ndarray:
    """``F_s(k, t)`` from displacements ``(n_t, N, 3)`` or ``(N, 3)`` of the chosen particles."""
    d = np.asarray(displacements, dtype=np.float64)
    r = np.linalg.norm(d, axis=-1)
    # np.sinc(x) = sin(pi x)/(pi x): exact 1 at r = 0
    return np.sinc(k * r / np.pi).mean(axis=-1)


def tau_alpha(times: np.ndarray, fs: np.ndarray, level: float = float(np.exp(-1.0))) -> float:
    """First time where ``fs`` crosses ``level`` (log-linear interpolation); NaN if never."""
    times = np.asarray(times, dtype=np.float64)
    fs = np.asarray(fs, dtype=np.float64)
    below = np.flatnonzero(fs < level)
    if below.size == 0:
        return float("nan")
    j = int(below[0])
    if j == 0:
        return float(times[0])
    t0, t1 = times[j - 1], times[j]
    f0, f1 = fs[j - 1], fs[j]
    w = (f0 - level) / (f0 - f1)
    if t0 > 0:
        return float(np.exp(np.log(t0) + w * (np.log(t1) - np.log(t0))))
    return float(t0 + w * (t1 - t0))


def log_time_grid(t_min: float, t_max: float, n: int, dt: float) -> np.ndarray:
    """``n`` log-spaced times in ``[t_min, t_max]`` rounded to whole MD steps (increasing)."""
    steps = np.unique(np.maximum(1, np.rint(np.geomspace(t_min, t_max, n) / dt).astype(np.int64)))
    return steps * dt
