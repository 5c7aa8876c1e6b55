"""The real-data diagnostics (softness_toy.diagnose) on toy data with a known barrier."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.softness_toy import (
    DiagnosticSettings,
    FeatureSpec,
    LabelledSet,
    diagnose,
    draw_sample,
)


def test_diagnose_recovers_the_barrier_variance_and_rfe_finds_the_relevant_features():
    """3 relevant + 3 noise Gaussian features, E = sum of the relevant ones (Var E = 3), eq. 4
    at T = 1, 1.5, 2: the Arrhenius inference must give Var(dE) ~ 3 (Sec. V: it can only be
    lower when the barrier is learned wrongly) and RFE must peak at the 3 relevant features.
    Tolerance 10 %: the logistic-fit noise (a few % per T) is amplified by the 1/T fit."""
    rng = np.random.default_rng(5)
    spec = FeatureSpec(n_relevant=3, n_noise=3)
    data = []
    for T in (1.0, 1.5, 2.0):
        train, test = draw_sample(rng, 2000, spec, T), draw_sample(rng, 20_000, spec, T)
        data.append(LabelledSet(T, train.x, train.y, test.x, test.y, np.zeros(20_000, int)))
    st = DiagnosticSettings(C=0.1, rfe_drop_fraction=0.01, rfe_min_features=1, n_bootstrap=20)
    summary, fit, barrier, frame = diagnose(data, st, spec.names())
    assert summary["inferred_barrier_variance"] == pytest.approx(3.0, rel=0.1)
    lo, hi = summary["inferred_barrier_variance_lo"], summary["inferred_barrier_variance_hi"]
    assert lo < summary["inferred_barrier_variance"] < hi
    assert summary["rfe_best_n_features"] == 3
    assert frame["n_features"].tolist() == [6, 5, 4, 3, 2, 1]
    assert set(frame.loc[frame["n_features"] == 3, "kept"].item().split(",")) == {
        "rel0", "rel1", "rel2"}  # fmt: skip
    # the inferred barrier is the true one up to a constant: dE(S) has slope -sqrt(3) per
    # unit of softness in standardized units (std of x is 1 in the pooled training set)
    assert fit.barrier_vs_softness["r2"] > 0.99
    assert barrier.size == 60_000


def test_newton_logistic_fit_equals_sklearn():
    """The Newton MLE of P(R|S) against scikit-learn's unregularized LogisticRegression."""
    from scipy.special import expit
    from sklearn.linear_model import LogisticRegression

    from interplay.softness_toy import fit_rearrangement_given_softness

    rng = np.random.default_rng(0)
    s = rng.standard_normal(5000)
    y = (rng.random(s.size) < expit(-3.0 + 1.5 * s)).astype(int)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(s[:, None], y)
    got = fit_rearrangement_given_softness(s, y)
    np.testing.assert_allclose(got, [ref.intercept_[0], ref.coef_[0, 0]], rtol=1e-6)
    with pytest.raises(ValueError, match="both"):
        fit_rearrangement_given_softness(s, np.zeros(s.size))
