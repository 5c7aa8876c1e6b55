"""Binary-classification metrics, batched over independent resamplings.

Every function takes arrays of shape ``(K, n)`` -- K independent models (quenched
resamplings) evaluated on n samples each -- and returns one value per model, shape ``(K,)``.
Labels are 0/1 (1 = positive = anomaly). Undefined ratios (e.g. precision with no positive
prediction) are 0, as in scikit-learn's ``zero_division=0``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

METRIC_NAMES = (
    "accuracy",
    "balanced_accuracy",
    "recall",
    "specificity",
    "precision",
    "f1",
    "error",
    "roc_auc",
)


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Area under the ROC curve via the Mann-Whitney rank statistic (ties count 1/2)."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    labels = np.atleast_2d(np.asarray(labels)).astype(bool)
    ranks = rankdata(scores, axis=1)  # average ranks for ties
    n_pos = labels.sum(axis=1)
    n_neg = labels.shape[1] - n_pos
    u_stat = (ranks * labels).sum(axis=1) - n_pos * (n_pos + 1) / 2.0
    auc = _safe_ratio(u_stat, n_pos * n_neg)
    auc[(n_pos == 0) | (n_neg == 0)] = np.nan  # undefined with a single class
    return auc


def classification_metrics(
    scores: np.ndarray, labels: np.ndarray, threshold: float = 0.0
) -> dict[str, np.ndarray]:
    """All metrics of :data:`METRIC_NAMES` for predictions ``scores > threshold``.

    For a perceptron the score is the pre-activation ``h`` and the threshold 0 (equivalently
    0.5 on the sigmoid output). Definitions follow thesis eqs. 1.110-1.119.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    labels = np.atleast_2d(np.asarray(labels)).astype(bool)
    predicted = scores > threshold
    tp = (predicted & labels).sum(axis=1)
    fp = (predicted & ~labels).sum(axis=1)
    tn = (~predicted & ~labels).sum(axis=1)
    fn = (~predicted & labels).sum(axis=1)
    recall = _safe_ratio(tp, tp + fn)
    specificity = _safe_ratio(tn, tn + fp)
    precision = _safe_ratio(tp, tp + fp)
    accuracy = _safe_ratio(tp + tn, tp + tn + fp + fn)
    return {
        "accuracy": accuracy,
        "balanced_accuracy": 0.5 * (recall + specificity),
        "recall": recall,
        "specificity": specificity,
        "precision": precision,
        "f1": _safe_ratio(2 * precision * recall, precision + recall),
        "error": 1.0 - accuracy,
        "roc_auc": roc_auc(scores, labels),
    }
