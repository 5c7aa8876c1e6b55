"""The labels' noise ceiling (issue [glass-eval] item 2): split-half reliability of the
iso-configurational runs and Spearman-Brown, on a synthetic case where it is known and on the
real BOTAN / Bapst samples; NaN (with a log line) where the data stores no runs (ka3d)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from helpers import BAPST, BOTAN, EMBEDDED_KA3D

from interplay.glass.data import load_directory, load_many
from interplay.glass.data.formats import propensity_and_halves
from interplay.glass.observables import (
    BootstrapSpec,
    evaluate_fields,
    observable_metrics,
    pearson,
    plot_pearson_vs_time,
    spearman_brown,
)


def _halves(configs) -> list[np.ndarray]:
    """(2, N, T) per configuration, the layout of ``Fields.label_halves``."""
    return [np.moveaxis(c.propensity_halves, 1, 2) for c in configs]


def _evaluate(configs, halves=True) -> dict[str, np.ndarray]:
    labels = [c.propensity.T for c in configs]
    return evaluate_fields(
        labels,
        labels,
        [c.types for c in configs],
        label_halves=_halves(configs) if halves else None,
        bootstrap=BootstrapSpec(n=200),
    )


def test_spearman_brown_values():
    np.testing.assert_allclose(spearman_brown([1.0, 0.5, 0.0, -0.3]), [1.0, np.sqrt(2 / 3), 0, 0])
    assert np.isnan(spearman_brown(np.nan))


def test_ceiling_on_synthetic_labels_with_known_noise():
    """labels = signal + independent run noise: with signal variance s^2 and per-run noise
    sigma^2, halves of n/2 runs have r = s^2 / (s^2 + 2 sigma^2 / n) and the ceiling is the
    Pearson of the signal with the n-run average, sqrt(s^2 / (s^2 + sigma^2 / n))."""
    rng = np.random.default_rng(0)
    n_conf, n_part, n_runs, T = 4, 4000, 16, 2
    s2 = np.array([1.0, 0.25])  # per timescale
    sigma2 = np.array([8.0, 8.0])  # r = 0.5 and 0.2, ceiling sqrt(2/3) and sqrt(1/3)
    r_true = s2 / (s2 + 2 * sigma2 / n_runs)
    ceiling_true = np.sqrt(s2 / (s2 + sigma2 / n_runs))
    preds, labels, types, halves, signal_rho = [], [], [], [], []
    for _ in range(n_conf):
        signal = rng.normal(0, np.sqrt(s2), (n_part, T)) + 3.0
        runs = signal[None] + rng.normal(0, np.sqrt(sigma2), (n_runs, n_part, T))
        h = np.stack([runs[: n_runs // 2].mean(0), runs[n_runs // 2 :].mean(0)])
        labels.append(runs.mean(0))
        preds.append(signal)  # the ideal predictor
        types.append((np.arange(n_part) % 5 == 0).astype(np.int64))  # 80:20 A:B
        halves.append(h)
        signal_rho.append([pearson(signal[:, k], labels[-1][:, k]) for k in range(T)])
    obs = evaluate_fields(preds, labels, types, bootstrap=BootstrapSpec(n=300), label_halves=halves)
    # sampling error of a Pearson over ~3200 A particles x 4 configurations: ~0.01
    np.testing.assert_allclose(obs["reliability_A"], r_true, atol=0.03)
    np.testing.assert_allclose(obs["ceiling_A"], ceiling_true, atol=0.02)
    np.testing.assert_allclose(obs["ceiling_B"], ceiling_true, atol=0.04)  # 800 B particles
    # the ceiling is what the ideal predictor reaches against the labels
    np.testing.assert_allclose(obs["ceiling_A"], obs["pearson_A"], atol=0.02)
    np.testing.assert_allclose(np.mean(signal_rho, axis=0), ceiling_true, atol=0.02)
    assert (obs["ceiling_A_lo"] <= obs["ceiling_A"]).all()
    assert (obs["ceiling_A"] <= obs["ceiling_A_hi"]).all()
    # keys: the headline at τα (column 1 here), per time index, with intervals
    obs["tau_alpha_column"] = np.asarray(1)
    metrics = {k: v for k, v, _ in observable_metrics(obs, [3, 7])}
    assert metrics["test/ceiling_A"] == pytest.approx(float(obs["ceiling_A"][1]))
    assert metrics["test/ceiling_A_t3"] == pytest.approx(float(obs["ceiling_A"][0]))
    assert {"test/ceiling_B_t7", "test/ceiling_A_lo", "test/ceiling_A_hi"} <= set(metrics)


def test_halves_from_runs_average_to_the_propensity():
    rng = np.random.default_rng(1)
    start = rng.uniform(0, 5, (30, 3))
    runs = start[None] + rng.normal(0, 1, (8, 30, 3))
    full, halves = propensity_and_halves(runs, start)
    assert halves.shape == (2, 30)
    np.testing.assert_allclose(halves.mean(0), full)
    odd_full, odd_halves = propensity_and_halves(runs[:7], start)  # halves of 3 runs each
    np.testing.assert_allclose(odd_halves[1], propensity_and_halves(runs[3:6], start)[0])
    assert propensity_and_halves(runs[:1], start)[1] is None


def test_pearson_figure_draws_the_ceiling(tmp_path):
    obs = {
        "pearson_A": np.array([0.5, 0.6]),
        "pearson_pooled_A": np.array([0.5, 0.6]),
        "ceiling_A": np.array([0.9, 0.92]),
    }
    assert plot_pearson_vs_time(obs, tmp_path / "p.png", [1.0, 10.0], tau_column=1).is_file()


@pytest.mark.skipif(not BOTAN.is_dir(), reason="shared BOTAN sample missing")
def test_ceiling_on_botan_test_configurations():
    """32 runs per file: ceiling at tc07 (τα) in (0, 1]; literature ≈ 0.92 (Shiba data)."""
    configs = load_directory(BOTAN / "test", T=0.44)
    assert [int(c.time_indices[0]) for c in configs] == [7, 7, 7]
    assert all(c.propensity_halves.shape == (2, 1, 4096) for c in configs)
    obs = _evaluate(configs)
    ceiling = float(obs["ceiling_A"][0])
    per_config = spearman_brown(obs["reliability_per_config_A"][:, 0])
    print(f"BOTAN tc07 ceiling_A = {ceiling:.4f}, per configuration {np.round(per_config, 4)}")
    assert 0.85 < ceiling <= 1.0  # measured 0.926 (401-403: 0.922, 0.945, 0.909)
    assert np.isfinite(obs["ceiling_B"]).all()


@pytest.mark.skipif(not BAPST.is_dir(), reason="shared Bapst sample missing")
def test_ceiling_on_bapst_pickles():
    """test_small stores 30 runs at every time index; test_large only at the first (the other
    labels are stored averages): NaN there."""
    (small,) = load_many(BAPST / "test_small.pickle")
    obs = _evaluate([small])
    assert np.isfinite(obs["ceiling_A"]).all() and (obs["ceiling_A"] <= 1).all()
    (large,) = load_many(BAPST / "test_large.pickle")
    obs = _evaluate([large])
    assert np.isfinite(obs["ceiling_A"][0]) and np.isnan(obs["ceiling_A"][1:]).all()


@pytest.mark.skipif(not EMBEDDED_KA3D.is_dir(), reason="embedded dataset missing")
def test_ceiling_is_nan_without_runs(caplog):
    """ka3d files store only the average over runs; the replayed halves (<stem>.halves.npy)
    exist for the test split only, so the training files have no ceiling."""
    T = sorted(p.name for p in EMBEDDED_KA3D.glob("T*"))[-1][1:]
    configs = load_directory(EMBEDDED_KA3D / f"T{T}" / "train", T=float(T))[:2]
    assert all(c.propensity_halves is None for c in configs)
    with caplog.at_level(logging.WARNING, logger="interplay.glass.observables"):
        obs = _evaluate(configs, halves=False)
    assert np.isnan(obs["ceiling_A"]).all() and obs["ceiling_A"].shape == (10,)
    assert sum("noise ceiling" in r.message for r in caplog.records) == 1
    metrics = {k: v for k, v, _ in observable_metrics(obs, list(range(10)))}
    assert np.isnan(metrics["test/ceiling_A"]) and np.isnan(metrics["test/ceiling_B_t3"])


@pytest.mark.skipif(not EMBEDDED_KA3D.is_dir(), reason="embedded dataset missing")
def test_ka3d_test_split_has_replayed_halves_and_a_ceiling():
    configs = load_directory(EMBEDDED_KA3D / "T0.8" / "test", T=0.8)
    for c in configs:  # the halves average to the stored md_prop (float32 rounding)
        np.testing.assert_allclose(c.propensity_halves.mean(axis=0), c.propensity, rtol=1e-5)
    obs = _evaluate(configs)
    assert np.isfinite(obs["ceiling_A"]).all() and (obs["ceiling_A"] < 1).all()
    assert 0.8 < obs["ceiling_A"][7] < 0.95  # at tau_alpha (index 7); measured 0.889
