"""Generalisation metrics of the Gibbs student at the RS saddle point (thesis eqs. 1.110-1.119).

A fresh test sample has teacher field ``y`` and student field ``x`` jointly standard normal
with correlation ``R`` (the spherical constraint fixes both norms), so every test metric is a
function of ``(R, b)`` alone:

* recall ``r = P(x + b > 0 | y + b0 > 0) = Φ2(b0, b; R) / Φ(b0)`` (eq. 1.117),
* specificity ``s = P(x + b < 0 | y + b0 < 0) = Φ2(-b0, -b; R) / Φ(-b0)`` (eq. 1.119),

and, with ``ρ_test`` the fraction of positives of the test distribution (eq. 1.36),
accuracy ``a = ρ_test r + (1-ρ_test) s``, generalisation error ``ε_g = 1 - a`` (eq. 1.110),
balanced accuracy ``(r + s)/2``, precision ``ρ_test r / (ρ_test r + (1-ρ_test)(1-s))`` and
``F1 = 2 p r / (p + r)``. The same functions score single Monte Carlo samples ``(R, b)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from interplay.imbalance.theory._integrals import bvn_cdf

#: Test metrics written for every grid point, in the order of the ``results.csv`` columns.
TEST_METRICS = (
    "gen_error",
    "recall",
    "specificity",
    "accuracy",
    "balanced_accuracy",
    "precision",
    "f1",
)


def recall_specificity(R, b, b0) -> tuple[np.ndarray, np.ndarray]:
    """True-positive and true-negative rates of a student (R, b) against teacher bias b0."""
    R, b, b0 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (R, b, b0)))
    finite = np.isfinite(b)
    bf = np.where(finite, b, 0.0)
    recall = bvn_cdf(b0, bf, R) / ndtr(b0)  # eq. 1.117
    specificity = bvn_cdf(-b0, -bf, R) / ndtr(-b0)  # eq. 1.119
    # trivial phase b = ±inf: the student labels everything positive (+inf) or negative (-inf)
    recall = np.where(finite, recall, (b > 0).astype(float))
    specificity = np.where(finite, specificity, (b < 0).astype(float))
    return recall, specificity


def metrics_from_rates(recall, specificity, rho_test) -> dict[str, np.ndarray]:
    """All :data:`TEST_METRICS` from recall, specificity and the test fraction of positives."""
    r = np.asarray(recall, dtype=float)
    s = np.asarray(specificity, dtype=float)
    rho = np.asarray(rho_test, dtype=float)
    accuracy = rho * r + (1.0 - rho) * s
    tp, fp = rho * r, (1.0 - rho) * (1.0 - s)
    precision = np.divide(tp, tp + fp, out=np.zeros(np.broadcast(tp, fp).shape), where=tp + fp > 0)
    pr = precision + r
    f1 = np.divide(2.0 * precision * r, pr, out=np.zeros(np.broadcast(pr, r).shape), where=pr > 0)
    return {
        "gen_error": 1.0 - accuracy,  # eq. 1.110
        "recall": r + 0.0 * rho,
        "specificity": s + 0.0 * rho,
        "accuracy": accuracy,
        "balanced_accuracy": 0.5 * (r + s) + 0.0 * rho,
        "precision": precision,
        "f1": f1,
    }


def generalization_metrics(R, b, b0, rho_test) -> dict[str, np.ndarray]:
    """Test metrics of the student ``(R, b)`` on a test set with positive fraction ``rho_test``."""
    recall, specificity = recall_specificity(R, b, b0)
    return metrics_from_rates(recall, specificity, rho_test)
