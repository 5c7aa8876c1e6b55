"""SVM-softness toy model (papers/svm_softness_toy_model.txt): numerics against references."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import compose_config, run_script
from scipy.special import expit
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from interplay import ConfigError
from interplay.softness_toy import (
    FeatureSpec,
    arrhenius_fit,
    balanced_sample,
    draw_sample,
    fit_rearrangement_given_softness,
    fit_svm,
    infer_energy,
    linear_fit,
    log_probability,
    rearrangement_probability,
    rfe_drop,
    run,
    sample_features,
    settings_from_cfg,
    true_barrier,
)

REQUIRED = {"inferred_energy_slope", "test_accuracy"}
TINY = [
    "softness.n_train=400",
    "softness.n_eval=1000",
    "softness.n_test=1000",
    "softness.sweep.n_train=[100,400]",
    "softness.sweep.C=[0.1,1.0]",
    "softness.sweep.n_repeats=1",
    "softness.sweep.figure_n_train=200",
    "softness.rfe.n_repeats=1",
    "softness.figure.dpi=40",
]


# -- eq. 4 -------------------------------------------------------------------------------------


def test_probability_has_arrhenius_limit_at_low_T():
    energy = np.array([0.5, 1.0, 3.0])
    for T in (0.02, 0.05, 0.1):
        ratio = rearrangement_probability(energy, T) / np.exp(-energy / T)
        # exact ratio 1/(1+exp(-E/T)) -> 1; at E/T >= 5 it is within exp(-5) < 7e-3 of 1
        np.testing.assert_allclose(ratio, 1.0 / (1.0 + np.exp(-energy / T)), rtol=1e-12)
        assert np.all(np.abs(ratio - 1.0) < np.exp(-5))


def test_probability_stays_below_one_at_high_T():
    energy = np.linspace(-5.0, 5.0, 11)
    for T in (10.0, 1e3, 1e6):
        p = rearrangement_probability(energy, T)
        assert np.all(p < 1.0) and np.all(p > 0.0)
        np.testing.assert_allclose(p, 0.5, atol=0.5 * 5.0 / T)  # |p - 1/2| <= |E|/(4T)
    assert np.all(np.diff(rearrangement_probability(energy, 1.0)) < 0)  # higher barrier, rarer


def test_sampled_rearrangements_follow_eq4_and_training_set_is_balanced():
    rng = np.random.default_rng(0)
    spec = FeatureSpec(n_relevant=3, n_noise=1, n_redundant=2)
    s = draw_sample(rng, 200_000, spec, T=1.0)
    np.testing.assert_allclose(s.energy, s.x[:, :3].sum(axis=1))  # eq. 3, a_k = 1
    np.testing.assert_allclose(s.x[:, 4:6], s.x[:, :2] ** 3)  # redundant columns
    # mean label = E[P] within 5 binomial standard errors
    p = rearrangement_probability(s.energy, 1.0)
    assert abs(s.y.mean() - p.mean()) < 5 * np.sqrt(0.25 / len(p))
    bal = balanced_sample(rng, 1000, spec, T=1.0)
    assert len(bal.y) == 1000 and bal.y.sum() == 500
    assert bal.energy[bal.y == 1].mean() < bal.energy[bal.y == 0].mean()


# -- softness and inference --------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_softness_is_decision_function_over_weight_norm():
    rng = np.random.default_rng(1)
    spec = FeatureSpec(n_relevant=4, n_noise=2)
    train = balanced_sample(rng, 2000, spec, T=1.0)
    model = fit_svm(train.x, train.y, C=0.5)
    ref_scaler = StandardScaler().fit(train.x)
    ref = LinearSVC(
        C=0.5, loss="hinge", dual=True, max_iter=20_000, intercept_scaling=10.0, random_state=0
    )
    ref.fit(ref_scaler.transform(train.x), train.y)
    x = sample_features(rng, 500, spec)
    z = ref_scaler.transform(x)
    expected = ref.decision_function(z) / np.linalg.norm(ref.coef_[0])
    np.testing.assert_allclose(model.softness(x), expected, rtol=1e-6, atol=1e-8)
    # geometric check: z - S w/|w| lies on the hyperplane w.z + b = 0
    w, b = model.weights, model.svm.intercept_[0]
    foot = z - model.softness(x)[:, None] * (w / np.linalg.norm(w))[None, :]
    np.testing.assert_allclose(foot @ w + b, 0.0, atol=1e-9)


def test_logistic_and_arrhenius_fits_recover_known_parameters():
    rng = np.random.default_rng(2)
    s = rng.standard_normal(200_000)
    y = (rng.random(s.size) < expit(0.3 - 1.7 * s)).astype(int)
    alpha, beta = fit_rearrangement_given_softness(s, y)
    assert abs(alpha - 0.3) < 0.03 and abs(beta + 1.7) < 0.03  # ~5 standard errors
    temps = [1.0, 1.5, 2.0, 4.0]
    barrier, sigma = np.array([2.0, -1.0, 0.5]), np.array([0.1, 0.0, -0.2])
    log_p = sigma[None, :] - barrier[None, :] / np.array(temps)[:, None]
    got_e, got_s = arrhenius_fit(temps, log_p)
    np.testing.assert_allclose(got_e, barrier, atol=1e-10)
    np.testing.assert_allclose(got_s, sigma, atol=1e-10)
    z = np.array([[-30.0, 0.0, 2.0]])
    np.testing.assert_allclose(log_probability(z[0, :1], np.zeros(1), np.zeros(1), "log"), -30.0)
    np.testing.assert_allclose(log_probability(np.zeros(1), np.ones(1), z[0], "logit"), z)
    assert linear_fit([0, 1, 2], [1, 3, 5])["slope"] == pytest.approx(2.0)


class _OracleModel:
    """Softness = -E / |a| (the true direction), prediction = sign of the true rule."""

    def __init__(self, spec: FeatureSpec):
        self.spec = spec

    def softness(self, x):
        return -true_barrier(x, self.spec) / (self.spec.coupling * np.sqrt(self.spec.n_relevant))

    def predict(self, x):
        return (self.softness(x) > 0).astype(int)


def test_inference_pipeline_is_exact_for_the_true_softness():
    """With S = -E/|a| the pipeline must return E itself: slope 1 up to logistic-fit noise
    (relative standard error of beta ~ 1/sqrt(n_eval) ~ 0.5 %, so 0.03 is > 5 sigma)."""
    rng = np.random.default_rng(3)
    spec = FeatureSpec(n_relevant=5, n_noise=0)
    temps = [1.0, 1.5, 2.0, 3.0]
    evals = [draw_sample(rng, 40_000, spec, T) for T in temps]
    test = draw_sample(rng, 20_000, spec, 1.5)
    inf = infer_energy(_OracleModel(spec), evals, temps, test)
    assert inf.energy_fit["slope"] == pytest.approx(1.0, abs=0.03)
    assert inf.energy_fit["r2"] > 0.999
    assert inf.barrier_vs_softness["slope"] == pytest.approx(-np.sqrt(5), rel=0.03)
    assert inf.test_accuracy == pytest.approx(inf.bayes_accuracy)


def test_large_balanced_training_set_gives_unbiased_barrier():
    """Fig. 1 (Sec. III) at reduced size: 4 relevant + 2 noise features, 20000 balanced
    training points. Over seeds 0-5 we measured slopes 0.976-1.019 (std ~0.015, from the
    direction error of w, O(d/n), and the logistic fits); tolerance 0.06 = 4 std."""
    rng = np.random.default_rng(0)
    spec = FeatureSpec(n_relevant=4, n_noise=2)
    temps = [1.0, 1.5, 2.0, 3.0]
    model = fit_svm(*_xy(balanced_sample(rng, 20_000, spec, 1.5)), C=1.0)
    evals = [draw_sample(rng, 20_000, spec, T) for T in temps]
    inf = infer_energy(model, evals, temps, draw_sample(rng, 20_000, spec, 1.5))
    assert inf.energy_fit["slope"] == pytest.approx(1.0, abs=0.06)
    assert inf.test_accuracy > inf.bayes_accuracy - 0.01
    w = model.weights / np.linalg.norm(model.weights)
    assert np.all(np.abs(w[4:]) < 0.05)  # noise columns get (almost) no weight


def _xy(sample):
    return sample.x, sample.y


def test_rfe_drops_the_smallest_weight():
    rng = np.random.default_rng(4)
    spec = FeatureSpec(n_relevant=3, n_noise=2)
    train = balanced_sample(rng, 4000, spec, 0.5)
    model = fit_svm(train.x, train.y, 1.0, columns=[0, 1, 2, 3])
    kept = rfe_drop(model)
    dropped = set(range(4)) - set(kept.tolist())
    assert len(kept) == 3 and dropped == {int(np.argmin(np.abs(model.weights)))}
    assert dropped == {3}  # the noise column


# -- configs and entry point -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["large_data", "data_size", "redundant", "rfe"])
def test_experiment_composes_with_softness_config(kind, tmp_path):
    cfg = compose_config([f"experiment=softness_toy_{kind}"], "softness", tmp_path)
    st = settings_from_cfg(cfg)
    assert st.kind == kind
    if kind in ("redundant", "rfe"):
        assert st.spec.n_features == 20 and st.spec.n_redundant == 10


@pytest.mark.parametrize("kind", ["data_size", "redundant", "rfe"])
def test_tiny_runs_write_results(kind, tmp_path):
    rfe_short = ["softness.rfe.min_features=14"]  # 7 RFE steps instead of 20
    cfg = compose_config([f"experiment=softness_toy_{kind}", *TINY, *rfe_short], "softness")
    results = run(cfg, tmp_path)
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert REQUIRED <= set(on_disk) and on_disk["kind"] == kind
    assert 0.4 < results["test_accuracy"] <= 1.0
    assert list(tmp_path.glob("*.png")) and list(tmp_path.glob("*.csv"))
    if kind == "rfe":
        assert 14 <= on_disk["rfe_best_n_features"] <= 20


def test_entry_point_writes_results_json(tmp_path):
    run_script(["softness.py", f"hydra.run.dir={tmp_path}", *TINY[:3], "softness.figure.dpi=40"])
    results = json.loads((tmp_path / "results.json").read_text())
    assert REQUIRED <= set(results) and results["kind"] == "large_data"
    assert (tmp_path / "fig1_large_data.png").stat().st_size > 0


@pytest.mark.parametrize(
    "override, key",
    [
        ("softness.svm.C=-1", "softness.svm.C"),
        ("softness.kind=nope", "softness.kind"),
        ("softness.temperatures=[2.0,2.0]", "softness.temperatures"),
        ("softness.features.n_redundant=11", "softness.features.n_redundant"),
        ("softness.features.redundant_power=2", "softness.features.redundant_power"),
        ("softness.n_train=2", "softness.n_train"),
        ("softness.inference.log_prob=ln", "softness.inference.log_prob"),
        (
            "softness.inference.softness_quantiles=[0.9,0.1]",
            "softness.inference.softness_quantiles",
        ),
    ],
)
def test_bad_config_raises_config_error(override, key):
    cfg = compose_config([override], "softness")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        settings_from_cfg(cfg)
