"""Numerical building blocks of the replica theory (thesis §1.3.2): Gaussian integrals whose
integrands contain sharp steps, and the bivariate normal CDF.

Every energetic integral of the RS free energy (eqs. 1.78-1.79) and of the saddle-point
equations (eqs. 1.89-1.91) reduces to a one-dimensional Gaussian average ``∫ Dz f(z)`` whose
integrand holds up to two smoothed steps: the teacher boundary (the probability that a sample
with student field ``sqrt(q) z`` is a positive, a step of width ``sqrt(1 - R^2/q)``) and the
student boundary (the thermal probability that the student says "positive", a step of width
``sqrt(1 - q)``). As ``R -> 1`` (and ``q -> 1``) both widths vanish, and any *fixed* grid
(Gauss-Hermite included) misses the step. :func:`gauss_average_nodes` therefore builds a
composite Gauss-Legendre rule whose panels are refined geometrically around every step, at
its own scale: the accuracy is uniform in the widths (checked against adaptive
``scipy.integrate.quad`` in ``tests/test_replica.py``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from scipy.special import log_ndtr, ndtr, owens_t

#: Half-width of the integration range in units of the Gaussian's standard deviation.
#: The discarded mass is ``2*H(10) ~ 1.5e-23``.
Z_MAX = 10.0
#: Panel edges around a step at ``c`` with width ``w`` are ``c + w * STEP_OFFSETS``.
STEP_OFFSETS = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0, 14.0, 20.0])
#: Panel edges of the background (smooth Gaussian) part of every rule.
BASE_EDGES = np.array([-Z_MAX, -7.0, -5.0, -3.5, -2.0, -1.0, 0.0, 1.0, 2.0, 3.5, 5.0, 7.0, Z_MAX])
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@functools.lru_cache(maxsize=8)
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def gauss_average_nodes(
    steps: Sequence[tuple[float, float]], n_per_panel: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``z`` and weights ``w`` with ``sum(w * f(z)) ≈ ∫ Dz f(z)`` (``Dz`` = standard normal).

    ``steps`` lists ``(centre, width)`` of the sharp features of ``f``; the panels are refined
    around each centre at scale ``width`` (any width > 0, from 1e-12 to 1e12). Between panel
    edges ``f`` must be smooth. The Gaussian density is folded into the weights.
    """
    edges = [BASE_EDGES]
    for centre, width in steps:
        if not (math.isfinite(centre) and math.isfinite(width)) or width <= 0.0:
            continue
        pts = np.concatenate([centre - width * STEP_OFFSETS, centre + width * STEP_OFFSETS[1:]])
        edges.append(pts[(pts > -Z_MAX) & (pts < Z_MAX)])
    e = np.unique(np.concatenate(edges))
    e = e[np.concatenate([[True], np.diff(e) > 1e-13 * (1.0 + np.abs(e[1:]))])]
    x, w = _legendre(n_per_panel)
    half = 0.5 * np.diff(e)
    mid = 0.5 * (e[1:] + e[:-1])
    z = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    wz = (half[:, None] * w[None, :]).ravel() * np.exp(-0.5 * z * z - LOG_SQRT_2PI)
    return z, wz


def log_normal_pdf(x: np.ndarray) -> np.ndarray:
    """log φ(x), φ the standard normal density."""
    return -0.5 * np.square(x) - LOG_SQRT_2PI


def bvn_cdf(h, k, rho) -> np.ndarray:
    """Bivariate standard normal CDF ``P(X < h, Y < k)`` with correlation ``rho`` (vectorised).

    Owen's T representation (Owen 1956), exact to double precision for ``|rho| < 1``; the
    limits ``rho = ±1`` are handled in closed form. Exact zeros of ``h`` or ``k`` are shifted by
    1e-150 (the function is continuous there) to select the right branch of Owen's formula.
    """
    h, k, rho = np.broadcast_arrays(
        np.asarray(h, dtype=float), np.asarray(k, dtype=float), np.asarray(rho, dtype=float)
    )
    h = np.where(h == 0.0, 1e-150, h)
    k = np.where(k == 0.0, 1e-150, k)
    out = np.empty(h.shape)
    hi = rho >= 1.0
    lo = rho <= -1.0
    mid = ~(hi | lo)
    out[hi] = ndtr(np.minimum(h[hi], k[hi]))
    out[lo] = np.maximum(0.0, ndtr(h[lo]) - ndtr(-k[lo]))
    hm, km, rm = h[mid], k[mid], rho[mid]
    s = np.sqrt((1.0 - rm) * (1.0 + rm))
    with np.errstate(over="ignore"):
        a_h = (km - rm * hm) / (hm * s)
        a_k = (hm - rm * km) / (km * s)
    corr = np.where(hm * km < 0.0, 0.5, 0.0)
    val = 0.5 * (ndtr(hm) + ndtr(km)) - owens_t(hm, a_h) - owens_t(km, a_k) - corr
    out[mid] = np.clip(val, 0.0, 1.0)
    return out if out.ndim else out[()]


def log_sigmoid_mix(a: np.ndarray, log_e: float, log_s: float) -> np.ndarray:
    """``log(e^{-β} + (1 - e^{-β}) Φ(a))`` in log space (``log_e = -β``, ``log_s = log(1-e^{-β})``).

    This is the log of the thermal weight ``∫Dx exp(-β Θ(error))`` of a positive sample whose
    student mean field is ``a`` (argument of eq. 1.78); ``a -> -a`` gives the negative-sample
    weight of eq. 1.79.
    """
    return np.logaddexp(log_e, log_s + log_ndtr(a))


def log_sigmoid_mix_prime(a: np.ndarray, log_e: float, log_s: float) -> np.ndarray:
    """d/da of :func:`log_sigmoid_mix`: ``(1-e^{-β}) φ(a) / (e^{-β} + (1-e^{-β}) Φ(a))`` ≥ 0."""
    return np.exp(log_s + log_normal_pdf(a) - log_sigmoid_mix(a, log_e, log_s))
