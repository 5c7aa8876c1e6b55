"""The crossover temperature T* of thesis Figs. 1.8 and 1.10 (§1.3.3, "Interplay between noise
and CI").

The thesis describes T* only in words: below it "the performance is optimal, and largely
unaffected by the noise level", above it "the performance degrades". We make that an *onset*
definition on the balanced accuracy ``a(T)`` (eq. 1.115):

    a(T*) = a_0 - drop * (a_0 - 1/2),

with ``a_0 = a(T_min)`` the low-temperature plateau (the lowest T of the curve) and ``drop``
the fraction of the margin above chance that has been lost (default 0.1, in
``conf/experiment/theory_fig1_8.yaml``). Why this one: (i) it is the onset the text describes,
not the midpoint of the decay, which the SGD sweep (T_eff <= lr = 0.05) may never reach;
(ii) measuring the drop relative to the margin above chance makes curves with different plateaus
(different ρ_train) comparable; (iii) it needs no model of the high-T tail. T* is the first
crossing, interpolated linearly in (log T, a); NaN when the curve never falls that far.

The same function serves the replica curves and the SGD sweep; for the latter
:func:`crossover_interval` propagates the s.e.m. of every point (parametric bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interplay.core import ConfigError


def crossover_temperature(
    temps: Sequence[float], values: Sequence[float], drop: float = 0.1, chance: float = 0.5
) -> float:
    """T* where ``values`` (balanced accuracy vs T) first falls ``drop`` of its margin above
    ``chance`` below its lowest-T value; NaN if it never does (or the curve is all NaN)."""
    if not 0.0 < drop < 1.0:
        raise ConfigError(f"T* drop={drop} must be a fraction in (0, 1), e.g. 0.1.")
    t = np.asarray(temps, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape or t.ndim != 1:
        raise ConfigError(f"T* needs matching 1-D T and metric arrays, got {t.shape}, {v.shape}.")
    if np.any(t <= 0):
        raise ConfigError("T* is interpolated in log T: every temperature must be > 0.")
    order = np.argsort(t)
    t, v = t[order], v[order]
    keep = np.isfinite(v)
    t, v = t[keep], v[keep]
    if len(t) < 2:
        return float("nan")
    level = v[0] - drop * (v[0] - chance)
    below = np.nonzero(v <= level)[0]
    below = below[below > 0]
    if len(below) == 0 or v[0] <= chance:
        return float("nan")
    k = int(below[0])
    x0, x1 = np.log(t[k - 1]), np.log(t[k])
    y0, y1 = v[k - 1], v[k]
    frac = 1.0 if y1 == y0 else (y0 - level) / (y0 - y1)
    return float(np.exp(x0 + frac * (x1 - x0)))


def crossover_interval(
    temps: Sequence[float],
    means: Sequence[float],
    sems: Sequence[float],
    drop: float = 0.1,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """T* of a measured curve (mean ± s.e.m. per T, independent runs) with a 68% interval.

    Parametric bootstrap: every point is redrawn from N(mean, sem²), T* is recomputed, and the
    16th / 84th percentiles of the finite draws are reported with the fraction of draws that
    never cross (``frac_nan``; a large one means the sweep does not reach T*).
    """
    rng = np.random.default_rng(seed)
    m = np.asarray(means, dtype=float)
    s = np.nan_to_num(np.asarray(sems, dtype=float), nan=0.0)
    draws = np.array(
        [
            crossover_temperature(temps, m + s * rng.standard_normal(m.shape), drop)
            for _ in range(n_boot)
        ]
    )
    ok = draws[np.isfinite(draws)]
    lo, hi = np.percentile(ok, [16, 84]) if len(ok) else (np.nan, np.nan)
    return {
        "T_star": crossover_temperature(temps, m, drop),
        "T_star_lo": float(lo),
        "T_star_hi": float(hi),
        "frac_nan": float(1.0 - len(ok) / n_boot),
    }
