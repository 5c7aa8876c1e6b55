"""Physics observables of predicted and true propensity fields (thesis §2.4.3).

* Pearson correlation per timescale and particle type: per configuration then averaged over
  configurations (Bapst / GlassBench convention), and pooled over all configurations.
* Pseudo-binarised mobility ``c_i(t) = (tanh(20 (m_i(t) - 0.44)) + 1) / 2``.
* Self-overlap fluctuations ``chi4^s(t) = N_A [<Q^s(t)^2> - <Q^s(t)>^2]`` with
  ``Q^s(t) = (1/N_A) sum_{i in A} c_i(t)``, ``<.>`` over configurations. ``center=True``
  first shifts each configuration's propensities so that their A mean is the mean over all
  configurations (``m_i - <m>_conf + <m>_all``): a few test configurations differ mostly in
  their mean mobility, which then dominates chi4 (issue [glass-eval]); the centred chi4 keeps
  only how the mobility is spread within configurations. It is exactly invariant under
  per-configuration offsets of the propensity that average to zero over the configurations
  (a common shift moves every configuration relative to the threshold 0.44: that is physics).
* Spatial correlation ``G4(r, t) = (V/N_A) < sum_{i != j in A} c~_i c~_j delta(r - r_ij) >``
  with ``c~_i = c_i - <c>`` (``<c>`` over all A particles of all configurations), radially
  averaged over shells (divided by the shell volume). ``normalization="intensive"`` uses
  ``V/N_A^2`` instead (Lacevic et al.; then ``chi4 ~ rho_A * integral G4``).

All functions take plain numpy arrays: propensities ``(N, T)`` per configuration. How they are
evaluated, logged and plotted for a model is declared once in ``_standard.py`` (the registry).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

C_THRESHOLD = 0.44  # §2.4.3, as in Jung, Biroli & Berthier (2023)
C_SHARPNESS = 20.0


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two 1-D arrays (nan when either is constant)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    xc, yc = x - x.mean(), y - y.mean()
    denom = np.sqrt((xc * xc).sum() * (yc * yc).sum())
    return float((xc * yc).sum() / denom) if denom > 0 else float("nan")


def pearson_per_config(
    preds: Sequence[np.ndarray],
    trues: Sequence[np.ndarray],
    types: Sequence[np.ndarray],
    particle_type: int = 0,
) -> dict[str, np.ndarray]:
    """Pearson per configuration and timescale on particles of ``particle_type``.

    Returns ``per_config`` (n_conf, T), ``mean`` (T,) = mean over configurations,
    ``pooled`` (T,) = one correlation over all configurations' particles together, and
    ``sums`` (n_conf, 6, T) = per configuration ``(n, x, y, xx, yy, xy)`` summed over its
    particles (x, y centred on the pooled means), from which any resample of configurations
    gives its pooled Pearson (the bootstrap, ``_bootstrap.py``).
    """
    per_config, pooled_p, pooled_t = [], [], []
    for p, t, ty in zip(preds, trues, types, strict=True):
        p, t = _as_2d(p), _as_2d(t)
        mask = np.asarray(ty) == particle_type
        per_config.append([pearson(p[mask, k], t[mask, k]) for k in range(t.shape[1])])
        pooled_p.append(p[mask])
        pooled_t.append(t[mask])
    per_config = np.asarray(per_config, dtype=np.float64)
    pp, tt = np.concatenate(pooled_p), np.concatenate(pooled_t)
    pooled = np.array([pearson(pp[:, k], tt[:, k]) for k in range(tt.shape[1])])
    mp, mt = pp.mean(axis=0), tt.mean(axis=0)
    sums = np.stack(
        [
            np.stack([np.full(mt.shape, float(len(x))), *_moments(x - mp, y - mt)])
            for x, y in zip(pooled_p, pooled_t, strict=True)
        ]
    )
    with warnings.catch_warnings():  # a configuration with a constant field has NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(per_config, axis=0)
    return {"per_config": per_config, "mean": mean, "pooled": pooled, "sums": sums}


def _moments(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    return x.sum(0), y.sum(0), (x * x).sum(0), (y * y).sum(0), (x * y).sum(0)


def mobility_c(
    m: np.ndarray, threshold: float = C_THRESHOLD, sharpness: float = C_SHARPNESS
) -> np.ndarray:
    """``c_i = (tanh(sharpness (m_i - threshold)) + 1) / 2`` (§2.4.3)."""
    return 0.5 * (np.tanh(sharpness * (np.asarray(m, dtype=np.float64) - threshold)) + 1.0)


def chi4(
    props: Sequence[np.ndarray],
    types: Sequence[np.ndarray],
    particle_type: int = 0,
    threshold: float = C_THRESHOLD,
    center: bool = False,
) -> np.ndarray:
    """``chi4^s(t) = N_A (<Q^2> - <Q>^2)`` over configurations, per timescale: (T,).

    ``center``: remove each configuration's mean propensity of the A particles (replaced by
    the mean over configurations) before thresholding (module doc)."""
    ms = [_as_2d(m)[np.asarray(ty) == particle_type] for m, ty in zip(props, types, strict=True)]
    if center:
        means = np.array([m.mean(axis=0) for m in ms])  # (n_conf, T)
        ms = [m - mu + means.mean(axis=0) for m, mu in zip(ms, means, strict=True)]
    qs, n_a = [], []
    for m in ms:
        qs.append(mobility_c(m, threshold).mean(axis=0))
        n_a.append(len(m))
    q = np.asarray(qs)  # (n_conf, T)
    return float(np.mean(n_a)) * (np.mean(q * q, axis=0) - np.mean(q, axis=0) ** 2)


def g4(
    positions: Sequence[np.ndarray],
    boxes: Sequence[np.ndarray],
    props: Sequence[np.ndarray],
    types: Sequence[np.ndarray],
    r_edges: np.ndarray,
    particle_type: int = 0,
    threshold: float = C_THRESHOLD,
    normalization: str = "thesis",
    chunk: int = 256,
) -> np.ndarray:
    """Radially averaged ``G4(r, t)`` at the bin centres of ``r_edges``: (n_bins, T).

    ``positions`` (N, 3) are the initial positions, ``boxes`` the box lengths (3,) (periodic
    minimum image). ``normalization``: "thesis" (V/N_A) or "intensive" (V/N_A^2).
    """
    if normalization not in ("thesis", "intensive"):
        raise ValueError(f"normalization={normalization!r}: use 'thesis' or 'intensive'")
    r_edges = np.asarray(r_edges, dtype=np.float64)
    cs = []
    for m, ty in zip(props, types, strict=True):
        cs.append(mobility_c(_as_2d(m)[np.asarray(ty) == particle_type], threshold))
    c_mean = np.concatenate(cs).mean(axis=0)  # <c(t)> over all A particles and configurations
    shell = 4.0 / 3.0 * np.pi * (r_edges[1:] ** 3 - r_edges[:-1] ** 3)
    n_t = cs[0].shape[1]
    total = np.zeros((len(r_edges) - 1, n_t))
    for pos, box, ty, c in zip(positions, boxes, types, cs, strict=True):
        box = np.broadcast_to(np.asarray(box, dtype=np.float64).ravel(), (3,))
        x = np.asarray(pos, dtype=np.float64)[np.asarray(ty) == particle_type]
        ct = c - c_mean
        n_a = len(x)
        acc = np.zeros_like(total)
        for start in range(0, n_a, chunk):
            d = x[start : start + chunk, None, :] - x[None, :, :]
            d -= box * np.round(d / box)
            r = np.sqrt((d * d).sum(-1))  # (chunk, n_a)
            rows = np.arange(start, min(start + chunk, n_a))
            r[np.arange(len(rows)), rows] = -1.0  # exclude i == j
            bins = np.searchsorted(r_edges, r, side="right") - 1
            ok = (bins >= 0) & (bins < len(r_edges) - 1) & (r >= 0)
            ii, jj = np.nonzero(ok)
            b = bins[ii, jj]
            prod = ct[rows[ii]] * ct[jj]  # (pairs, T)
            for k in range(n_t):
                acc[:, k] += np.bincount(b, weights=prod[:, k], minlength=len(acc))
        volume = float(np.prod(box))
        norm = volume / n_a if normalization == "thesis" else volume / n_a**2
        total += norm * acc / shell[:, None]
    return total / len(cs)


def _as_2d(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[:, None] if a.ndim == 1 else a
