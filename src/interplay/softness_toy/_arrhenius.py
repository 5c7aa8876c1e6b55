"""The softness -> barrier inference of Schoenholz et al. (ref. [8]) that the paper tests
(Sec. II, Figs. 1a-c), on arrays only: it needs softness values and rearrangement labels per
temperature, never a true energy, so the toy model and real glass data share it.

P(R|S, T) by logistic regression per T (Fig. 1a), Arrhenius fit log P = Sigma(S) - dE(S)/T at
fixed S (Fig. 1b, eq. 1), dE(S) linear in S (Fig. 1c); the inferred barrier of a particle is
dE at its softness and the diagnostic of Sec. V is its variance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit
from scipy.stats import linregress

LOG_PROB_MODES = ("logit", "log")


def fit_rearrangement_given_softness(
    softness: np.ndarray, y: np.ndarray, tol: float = 1e-10, max_iter: int = 100
) -> tuple[float, float]:
    """Unregularized logistic regression logit P(R|S) = alpha + beta S (Sec. II).

    The maximum-likelihood fit by Newton's method on the two parameters (the log-likelihood
    is concave; steps are halved until it increases): the same estimate as scikit-learn's
    ``LogisticRegression(C=inf)`` at a fraction of its cost, which matters for the bootstrap
    of the real-data diagnostics (hundreds of fits).
    """
    s = np.asarray(softness, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.min() == y.max():
        raise ValueError("logistic fit of P(R|S) needs both rearranging and other particles")
    design = np.column_stack([np.ones_like(s), s])
    theta = np.array([np.log(y.mean() / (1 - y.mean())), 0.0])

    def loglik(th: np.ndarray) -> float:
        z = design @ th
        return float(np.sum(y * z - np.logaddexp(0.0, z)))

    current = loglik(theta)
    for _ in range(max_iter):
        p = expit(design @ theta)
        grad = design.T @ (y - p)
        hess = (design * (p * (1 - p))[:, None]).T @ design
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while loglik(theta + t * step) < current - 1e-12 and t > 1e-8:
            t /= 2
        theta = theta + t * step
        current = loglik(theta)
        if np.max(np.abs(t * step)) < tol * (1 + np.max(np.abs(theta))):
            break
    return float(theta[0]), float(theta[1])


def log_probability(
    alpha: np.ndarray, beta: np.ndarray, s: np.ndarray, mode: str = "logit"
) -> np.ndarray:
    """(n_T, n_S) table of log P(R|S,T) (``log``) or log P/(1-P) (``logit``).

    The two agree where P << 1 (the Arrhenius regime of eq. 1); ``logit`` removes the
    saturation at P -> 1 of the negative barriers that centring (Sec. II) creates.
    """
    z = np.asarray(alpha)[:, None] + np.asarray(beta)[:, None] * np.asarray(s)[None, :]
    if mode == "logit":
        return z
    if mode == "log":
        return log_expit(z)
    raise ValueError(f"mode={mode!r} must be one of {LOG_PROB_MODES}")


def arrhenius_fit(temperatures: Sequence[float], log_p: np.ndarray) -> tuple[np.ndarray, ...]:
    """Least squares log P(S, T) = Sigma(S) - dE(S) / T at every S (Fig. 1b); -> (dE, Sigma)."""
    inv_t = 1.0 / np.asarray(temperatures, dtype=float)
    slope, intercept = np.polyfit(inv_t, log_p, deg=1)
    return -slope, intercept


def linear_fit(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Ordinary least squares y = intercept + slope x with r^2."""
    fit = linregress(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return {
        "slope": float(fit.slope),
        "intercept": float(fit.intercept),
        "r2": float(fit.rvalue**2),
    }


@dataclass
class ArrheniusFit:
    """Figs. 1a-c for one softness model: logistic fits, Arrhenius table, dE(S)."""

    temperatures: np.ndarray
    alpha: np.ndarray  # (n_T,) logistic intercepts
    beta: np.ndarray  # (n_T,) logistic slopes
    s_grid: np.ndarray  # softness values of Fig. 1b
    log_p: np.ndarray  # (n_T, n_S)
    barrier_grid: np.ndarray  # dE(S) on s_grid (Fig. 1c)
    sigma_grid: np.ndarray  # Sigma(S) on s_grid
    barrier_vs_softness: dict[str, float]  # linear fit dE = e0 + e1 S

    def inferred_barrier(self, softness: np.ndarray) -> np.ndarray:
        """dE at each softness from the linear fit of Fig. 1c (the paper's inferred barrier)."""
        fit = self.barrier_vs_softness
        return fit["intercept"] + fit["slope"] * np.asarray(softness, dtype=float)


def softness_arrhenius(
    softness_by_T: Sequence[np.ndarray],
    y_by_T: Sequence[np.ndarray],
    temperatures: Sequence[float],
    s_reference: np.ndarray,
    mode: str = "logit",
    n_grid: int = 9,
    quantiles: tuple[float, float] = (0.05, 0.95),
) -> ArrheniusFit:
    """Figs. 1a-c: one logistic fit per temperature (``softness_by_T[i]``, ``y_by_T[i]`` at
    ``temperatures[i]``), the Arrhenius fit at ``n_grid`` softness values spanning the
    ``quantiles`` of ``s_reference``, and the linear fit dE(S)."""
    coefs = [fit_rearrangement_given_softness(s, y) for s, y in zip(softness_by_T, y_by_T)]
    alpha, beta = (np.array(v) for v in zip(*coefs))
    s_grid = np.quantile(s_reference, np.linspace(*quantiles, n_grid))
    log_p = log_probability(alpha, beta, s_grid, mode)
    barrier, sigma = arrhenius_fit(temperatures, log_p)
    return ArrheniusFit(
        temperatures=np.asarray(temperatures, dtype=float),
        alpha=alpha,
        beta=beta,
        s_grid=s_grid,
        log_p=log_p,
        barrier_grid=barrier,
        sigma_grid=sigma,
        barrier_vs_softness=linear_fit(s_grid, barrier),
    )
