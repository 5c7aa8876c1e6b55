"""The observables registry: one declaration makes an observable logged, saved and plotted."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import compose_config

from interplay.glass.observables import (
    Fields,
    FigureContext,
    compute_observables,
    observable_metrics,
    register_observable,
    registered_observables,
    unregister_observable,
)


def _mean_abs_error(f: Fields) -> dict[str, np.ndarray]:
    """A toy observable: mean |pred - label| per timescale over all particles."""
    diffs = [np.abs(np.asarray(p) - np.asarray(t)) for p, t in zip(f.preds, f.trues, strict=True)]
    return {"toy_mae": np.concatenate(diffs).mean(axis=0)}


def _mae_metrics(obs, time_indices, stage):
    return {f"{stage}/toy_mae_t{t}": obs["toy_mae"][k] for k, t in enumerate(time_indices)}


def _mae_figure(obs, out_dir, ctx: FigureContext):
    path = out_dir / "toy_mae.png"
    path.write_bytes(b"not really a png")  # the contract: write one file, return its path
    return path


@pytest.fixture
def toy_observable():
    register_observable(
        "toy_mae", _mean_abs_error, _mae_metrics, _mae_figure, stages=("val", "test")
    )
    try:
        yield
    finally:
        unregister_observable("toy_mae")


def test_builtin_observables_in_order():
    assert [o.name for o in registered_observables()] == ["pearson", "chi4", "g4", "ceiling"]
    assert [o.name for o in registered_observables("val")] == ["pearson"]


def test_registration_contract():
    with pytest.raises(ValueError, match="already registered"):
        register_observable("pearson", _mean_abs_error)
    with pytest.raises(ValueError, match="stages"):
        register_observable("bad", _mean_abs_error, stages=("train",))
    assert "bad" not in [o.name for o in registered_observables()]


def test_metrics_keys_follow_the_dataset_time_indices(toy_observable):
    rng = np.random.default_rng(0)
    trues = [rng.random((20, 2)) for _ in range(3)]
    preds = [t + 0.1 * rng.normal(size=t.shape) for t in trues]
    types = [np.r_[np.zeros(15, int), np.ones(5, int)] for _ in range(3)]
    obs = compute_observables(Fields(preds, trues, types, tau_alpha_column=1))
    metrics = {key: value for key, value, _ in observable_metrics(obs, [4, 9])}
    assert list(metrics)[:5] == [
        "test/pearson_A", "test/pearson_A_mean", "test/pearson_A_t4", "test/pearson_pooled_A_t4",
        "test/pearson_A_t9",
    ]  # fmt: skip
    # the headline keys are read at tau_alpha (column 1 = time index 9), not at the first index
    assert metrics["test/pearson_A"] == metrics["test/pearson_A_t9"] != metrics["test/pearson_A_t4"]
    assert metrics["test/pearson_B"] == metrics["test/pearson_B_t9"]
    assert metrics["test/pearson_A_mean"] == pytest.approx(np.mean(obs["pearson_A"]))
    expected = {"test/chi4_true_t9", "test/chi4_pred_t4", "test/toy_mae_t4", "test/toy_mae_t9",
                "test/chi4_true_centered_t9", "test/chi4_pred_centered_t4"}  # fmt: skip
    assert expected <= set(metrics) and not any(k.endswith("_lo") for k in metrics)  # no spec
    val = compute_observables(Fields(preds, trues, types, tau_alpha_column=1), stage="val")
    val_metrics = observable_metrics(val, [4, 9], "val")
    assert val_metrics[0][1] == pytest.approx(val["pearson_A"][1])
    assert [(k, bar) for k, _, bar in val_metrics] == [
        ("val/pearson_A", True),
        ("val/pearson_A_mean", False),
        ("val/toy_mae_t4", False),
        ("val/toy_mae_t9", False),
    ]


def test_registered_observable_reaches_results_npz_and_figures(toy_observable, tmp_path):
    """No other module edited: a tiny real run logs, saves and plots the toy observable."""
    from interplay.runs import train_and_test

    overrides = [
        "data=ka3d", "data.max_configs=8", "model=descriptor_ridge", "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
        "callbacks=none", "logger=csv", "num_threads=1",
    ]  # fmt: skip
    train_and_test(compose_config(overrides, output_dir=tmp_path))
    results = json.loads((tmp_path / "results.json").read_text())
    assert "test/toy_mae_t9" in results and results["test/toy_mae_t9"] > 0
    assert "test/pearson_A_t9" in results and "test/chi4_true_t9" in results
    # ka3d T = 0.8: tau_alpha is time index 7 (t = 2.335); the headline is read there
    assert results["tau_alpha_index"] == 7 and results["tau_alpha"] == pytest.approx(2.335)
    assert results["tau_alpha_selected"] is True and results["headline_time_index"] == 7
    assert results["test/pearson_A"] == results["test/pearson_A_t7"]
    lo, hi = results["test/pearson_A_lo"], results["test/pearson_A_hi"]
    assert lo <= results["test/pearson_A"] <= hi or np.isnan(lo)
    assert results["chi4_warning"] is True  # max_configs=8 leaves fewer than 10 test configs
    with np.load(tmp_path / "observables.npz") as saved:
        assert "toy_mae" in saved.files and "g4_true" in saved.files
    for name in ("pearson_vs_time", "chi4_vs_time", "g4_vs_r", "toy_mae"):
        assert (tmp_path / f"{name}.png").exists(), name
