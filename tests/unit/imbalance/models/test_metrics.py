"""Batched classification metrics against scikit-learn (an independent implementation)."""

import numpy as np
import pytest
from sklearn import metrics as skm

from interplay.imbalance.models import classification_metrics, roc_auc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_agree_with_sklearn_on_random_predictions(seed):
    rng = np.random.default_rng(seed)
    labels = (rng.random((4, 300)) < [[0.1], [0.3], [0.5], [0.8]]).astype(int)
    scores = rng.normal(size=(4, 300)) + 0.7 * labels
    scores[:, :20] = np.round(scores[:, :20])  # ties for the AUC
    ours = classification_metrics(scores, labels, threshold=0.0)
    for k in range(4):
        pred = (scores[k] > 0).astype(int)
        y = labels[k]
        expected = {
            "accuracy": skm.accuracy_score(y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "recall": skm.recall_score(y, pred),
            "specificity": skm.recall_score(1 - y, 1 - pred),
            "precision": skm.precision_score(y, pred, zero_division=0),
            "f1": skm.f1_score(y, pred, zero_division=0),
            "roc_auc": skm.roc_auc_score(y, scores[k]),
        }
        for name, value in expected.items():
            assert ours[name][k] == pytest.approx(value, abs=1e-12), name
        assert ours["error"][k] == pytest.approx(1 - expected["accuracy"])


def test_precision_without_positive_predictions_is_zero_and_auc_single_class_is_nan():
    out = classification_metrics(np.full((1, 5), -1.0), np.array([[0, 1, 0, 1, 0]]))
    assert out["precision"][0] == 0 and out["f1"][0] == 0 and out["recall"][0] == 0
    assert np.isnan(roc_auc(np.arange(4.0)[None], np.zeros((1, 4))))[0]
