"""Bootstrap intervals over test configurations and the centred chi4 (issue [glass-eval])."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy import stats

from interplay.core import ConfigError
from interplay.glass.observables import BootstrapSpec, chi4, evaluate_fields, observable_results
from interplay.glass.observables._bootstrap import pooled_interval, resample_indices


def _correlated(rng, rho: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (prediction, label) pairs of Pearson correlation ``rho`` (bivariate normal)."""
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1.0 - rho**2) * rng.normal(size=n)
    return x[:, None], y[:, None] + 1.0  # labels positive-ish, like propensities


def test_percentile_interval_covers_the_truth_at_the_stated_rate():
    """200 synthetic test sets, each of 30 configurations whose true correlation is drawn from
    U(0.5, 0.8): the 95 % interval of the mean per-configuration Pearson covers the expected
    per-configuration Pearson within binomial error of 0.95."""
    rng = np.random.default_rng(1)
    n_exp, n_conf, n_part = 200, 30, 50
    # truth: E[r] of a sample Pearson of n points, averaged over U(0.5, 0.8) (Olkin-Pratt bias)
    grid = np.linspace(0.5, 0.8, 301)
    truth = np.mean(grid * (1 - (1 - grid**2) / (2 * n_part)))
    spec = BootstrapSpec(n=400, level=0.95, seed=0)
    covered = 0
    for _ in range(n_exp):
        pairs = [_correlated(rng, rng.uniform(0.5, 0.8), n_part) for _ in range(n_conf)]
        preds, trues = zip(*pairs, strict=True)
        types = [np.zeros(n_part, int)] * n_conf
        obs = evaluate_fields(preds, trues, types, type_names=("A",), bootstrap=spec)
        covered += bool(obs["pearson_A_lo"][0] <= truth <= obs["pearson_A_hi"][0])
    rate = covered / n_exp
    assert abs(rate - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_exp), rate


def test_pooled_interval_from_sums_matches_the_pooled_pearson():
    rng = np.random.default_rng(2)
    preds, trues = zip(*[_correlated(rng, 0.6, 40) for _ in range(5)], strict=True)
    types = [np.zeros(40, int)] * 5
    obs = evaluate_fields(preds, trues, types, type_names=("A",))
    from interplay.glass.observables import pearson_per_config

    res = pearson_per_config(preds, trues, types)
    idx = np.array([[0, 0, 3, 4, 4]])  # one resample, by hand
    lo, hi = pooled_interval(res["sums"], idx, 0.95)
    pp = np.concatenate([preds[i] for i in idx[0]])[:, 0]
    tt = np.concatenate([trues[i] for i in idx[0]])[:, 0]
    assert lo[0] == pytest.approx(stats.pearsonr(pp, tt)[0], rel=1e-10) == hi[0]
    assert obs["pearson_pooled_A_lo"][0] <= obs["pearson_pooled_A"][0]
    assert obs["pearson_pooled_A"][0] <= obs["pearson_pooled_A_hi"][0]


def test_one_configuration_gives_nan_intervals_and_says_why(caplog):
    rng = np.random.default_rng(3)
    p, t = _correlated(rng, 0.5, 40)
    with caplog.at_level(logging.INFO):
        obs = evaluate_fields([p], [t], [np.zeros(40, int)], type_names=("A",))
    assert np.isnan(obs["pearson_A_lo"]).all() and np.isnan(obs["pearson_A_mean_hi"])
    assert np.isfinite(obs["pearson_A"]).all()
    assert "nothing to resample" in caplog.text
    assert resample_indices(5, BootstrapSpec(n=0)) is None  # n = 0: intervals switched off


def test_bootstrap_spec_from_config():
    spec = BootstrapSpec.from_config({"n": 10, "level": 0.9, "seed": 3})
    assert spec == BootstrapSpec(10, 0.9, 3) and BootstrapSpec.from_config(None) is None
    with pytest.raises(ConfigError, match="level"):
        BootstrapSpec(level=1.5)
    with pytest.raises(ConfigError, match="unknown keys"):
        BootstrapSpec.from_config({"n_boot": 3})


def test_centered_chi4_removes_a_per_configuration_offset_exactly():
    rng = np.random.default_rng(4)
    props = [rng.gamma(2.0, 0.22, size=(80, 3)) for _ in range(6)]
    types = [(rng.random(80) < 0.2).astype(int) for _ in range(6)]
    offsets = rng.uniform(-0.2, 0.2, size=(6, 3))
    offsets -= offsets.mean(axis=0)  # differences between configurations, no common shift
    shifted = [m + d for m, d in zip(props, offsets, strict=True)]  # per-config mean mobility
    centered = chi4(props, types, center=True)
    np.testing.assert_allclose(chi4(shifted, types, center=True), centered, rtol=1e-12)
    assert not np.allclose(chi4(shifted, types), chi4(props, types))
    # identical configurations up to an offset: the centred chi4 vanishes
    same = [props[0] + d for d in (0.0, 0.1, -0.05)]
    np.testing.assert_allclose(chi4(same, [types[0]] * 3, center=True), 0.0, atol=1e-14)
    assert (chi4(same, [types[0]] * 3) > 0).all()


def test_chi4_warning_below_ten_configurations(caplog):
    rng = np.random.default_rng(5)

    def make(n: int) -> list[np.ndarray]:
        return [rng.gamma(2.0, 0.22, size=(30, 2)) for _ in range(n)]

    for n, warn in ((3, True), (10, False)):
        trues = make(n)
        with caplog.at_level(logging.WARNING):
            obs = evaluate_fields(make(n), trues, [np.zeros(30, int)] * n, type_names=("A",))
        assert observable_results(obs) == {"chi4_n_configs": n, "chi4_warning": warn}
        assert "chi4_true_centered" in obs and obs["chi4_pred_centered"].shape == (2,)
    assert "chi4 from 3 test configuration(s)" in caplog.text
