"""Bayes accuracy with E0 != 0 and the positive barriers of Appendix A (Fig. 7)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compose_config
from scipy.integrate import quad
from scipy.special import expit
from scipy.stats import norm

from interplay import ConfigError
from interplay.softness_toy import (
    FeatureSpec,
    bayes_prediction,
    draw_sample,
    run,
    settings_from_cfg,
)


def _accuracy_of_threshold(threshold: float, e0: float, sigma: float, T: float) -> float:
    """Independent reference: expected accuracy of "R iff E < threshold" for E ~ N(e0, sigma^2)
    and eq. 4, by quadrature: int p(E) [1(E < t) P(R|E) + 1(E >= t) (1 - P(R|E))] dE."""

    def integrand(e: float) -> float:
        p_r = expit(-e / T)
        return norm.pdf(e, e0, sigma) * (p_r if e < threshold else 1.0 - p_r)

    lo, hi = e0 - 12 * sigma, e0 + 12 * sigma
    return quad(integrand, lo, hi, points=[threshold], limit=200)[0]


@pytest.mark.parametrize("e0", [0.0, 2.0, 10.0])
def test_bayes_rule_is_E_below_zero_and_matches_quadrature(e0):
    """The sample accuracy of bayes_prediction agrees with the quadrature within 5 binomial
    standard errors, and no other threshold (in particular the old E < E0) does better."""
    spec = FeatureSpec(n_relevant=4, n_noise=0, barrier_offset=e0)  # sigma_E = 2
    T = 1.0
    s = draw_sample(np.random.default_rng(7), 200_000, spec, T)
    got = float(np.mean(bayes_prediction(s.energy) == s.y))
    ref = _accuracy_of_threshold(0.0, e0, 2.0, T)
    assert abs(got - ref) < 5 * np.sqrt(ref * (1 - ref) / s.y.size)
    for t in (-1.0, -0.3, 0.3, 1.0, e0 + 0.5):
        assert _accuracy_of_threshold(t, e0, 2.0, T) < ref
    if e0:
        assert _accuracy_of_threshold(e0, e0, 2.0, T) < ref - 0.05  # the old rule, far worse


def test_positive_barriers_run_svm_never_beats_bayes(tmp_path):
    tiny = ["softness.n_train=1000", "softness.n_eval=2000", "softness.n_test=2000",
            "softness.figure.dpi=40"]  # fmt: skip
    cfg = compose_config(["experiment=softness_toy_positive_barriers", *tiny], "softness")
    results = run(cfg, tmp_path)
    assert results["kind"] == "positive_barriers"
    assert results["positive_barrier_fraction"] == pytest.approx(norm.cdf(10 / np.sqrt(10)))
    # Bayes is optimal on the test distribution: the SVM (trained balanced) is below it
    assert results["test_accuracy"] <= results["bayes_accuracy"] + 0.01
    assert results["test_rearranging_fraction"] < 0.1  # natural, rare rearrangements
    assert (tmp_path / "fig7_positive_barriers.png").stat().st_size > 0
    assert not (tmp_path / "fig1_large_data.png").exists()


def test_positive_barriers_needs_a_positive_offset():
    cfg = compose_config(
        ["experiment=softness_toy_positive_barriers", "softness.features.barrier_offset=0"],
        "softness",
    )
    with pytest.raises(ConfigError, match=r"softness\.features\.barrier_offset"):
        settings_from_cfg(cfg)
