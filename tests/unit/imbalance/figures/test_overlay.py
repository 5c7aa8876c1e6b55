"""The SGD overlay of the theory figures: one series per curve, matched by value, α checked."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from interplay.core import DataError, pyplot
from interplay.imbalance.figures import check_overlay_constant, load_overlay, overlay


def _summary(tmp_path, with_job_config: bool):
    sweep = tmp_path / "sweep"
    (sweep / "summary").mkdir(parents=True)
    path = sweep / "summary" / "summary.csv"
    pd.DataFrame(
        {
            "data.batch_size": [1, 10, 100],
            "T_eff_mean": [0.5, 0.05, 0.005],
            "balanced_accuracy_mean": [0.6, 0.7, 0.72],
            "balanced_accuracy_sem": [0.01] * 3,
        }
    ).to_csv(path, index=False)
    if with_job_config:
        (sweep / "0" / ".hydra").mkdir(parents=True)
        cfg = {"data": {"alpha": 2.0, "b0": -0.6, "rho_train": 0.5, "N": 100}, "model": {"lr": 0.5}}
        (sweep / "0" / ".hydra" / "config.yaml").write_text(yaml.safe_dump(cfg))
    return path


def test_sweep_constants_come_from_the_job_config_and_select_one_series(tmp_path):
    table = load_overlay(str(_summary(tmp_path, True)))
    assert table["data.alpha"].eq(2.0).all() and table["data.rho_train"].eq(0.5).all()
    plt = pyplot()
    fig, ax = plt.subplots()
    for rho in (0.3, 0.5, 0.7):  # three theory curves: only rho = 0.5 gets the points
        overlay(
            ax,
            table,
            "T_eff_mean",
            "balanced_accuracy",
            "C0",
            where={"data.rho_train": rho},
            label=f"SGD {rho}",
        )
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["SGD 0.5"]
    plt.close(fig)
    assert len(check_overlay_constant(table, "data.alpha", 2.0)) == 3
    with pytest.raises(DataError, match=r"data.alpha in \[2.0\].*1.1"):
        check_overlay_constant(table, "data.alpha", 1.1)


def test_missing_constant_is_an_error_naming_overlay_fixed(tmp_path):
    path = _summary(tmp_path, False)
    table = load_overlay(str(path))
    plt = pyplot()
    fig, ax = plt.subplots()
    with pytest.raises(DataError, match="overlay_fixed.data.rho_train"):
        overlay(ax, table, "T_eff_mean", "balanced_accuracy", "C0", where={"data.rho_train": 0.5})
    with pytest.raises(DataError, match="overlay_fixed.data.alpha"):
        check_overlay_constant(table, "data.alpha", 2.0)
    plt.close(fig)
    fixed = load_overlay(str(path), {"data.rho_train": 0.5})
    assert fixed["data.rho_train"].eq(0.5).all()


def test_a_csv_outside_summary_reads_no_neighbouring_job_configs(tmp_path):
    """Only collect's <sweep>/summary/summary.csv has jobs beside it; a CSV elsewhere must not
    pick up unrelated runs that happen to sit next to its folder."""
    _summary(tmp_path, True)  # a sweep at alpha = 2 under tmp_path/sweep
    loose = tmp_path / "sweep" / "0" / "mine.csv"  # its parent's parent holds that sweep
    pd.DataFrame({"data.rho_train": [0.5], "R_mean": [0.4], "R_sem": [0.01]}).to_csv(loose)
    table = load_overlay(str(loose), fixed={"data.alpha": 1.1})
    assert table["data.alpha"].eq(1.1).all()
