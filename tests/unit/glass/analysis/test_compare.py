"""The comparison command's body (``interplay-compare``) on its composed conf/compare.yaml."""

from __future__ import annotations

import json

import pytest
from helpers import compose_config

from interplay.core import ConfigError
from interplay.glass.analysis import compare_from_config
from interplay.glass.analysis._compare import Row, budget_warning, compare, markdown_table


def test_compare_quick_writes_table(tmp_path):
    cfg = compose_config(
        ["quick=true", "models=[descriptor_ridge,se3gnn_invariant]", f"out={tmp_path}"],
        config_name="compare",
    )
    rows = compare_from_config(cfg)
    assert [r.error for r in rows] == [None, None]
    table = (tmp_path / "comparison.md").read_text()
    assert "| descriptor_ridge |" in table and "| se3gnn_invariant |" in table
    assert "ρ_A t9" in table and "parameters" in table
    assert "ρ_A(τα) [95% CI]" in table and "ceiling_A(τα)" in table
    assert "| closed form |" in table  # the ridge has no optimizer steps to compare
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert data[0]["results"]["n_parameters"] > 0


def _row(model, steps, rho=0.4):
    results = {
        "test/pearson_A": rho,
        "test/pearson_A_lo": rho - 0.1,
        "test/pearson_A_hi": rho + 0.1,
        "optimizer_steps": steps,
        "n_parameters": 10.0,
    }
    return Row(model, "ka3d", "run", results)


def test_unequal_step_budgets_are_named():
    same = [_row("se3gnn_small", 120), _row("bapst_gnn", 120), _row("descriptor_ridge", 0)]
    assert budget_warning(same) is None  # closed-form models do not count
    rows = [_row("se3gnn_small", 360), _row("bapst_gnn", 120, rho=0.2)]
    warning = budget_warning(rows)
    assert "se3gnn_small 360" in warning and "bapst_gnn 120" in warning
    table = markdown_table(rows)
    assert "Unequal budgets" in table and "0.400 [0.300, 0.500]" in table


def test_default_models_exist_and_unknown_ones_are_named(tmp_path):
    cfg = compose_config(config_name="compare")
    for name in cfg.models:  # every default row is a model config train.py can compose
        compose_config([f"model={name}"])
    with pytest.raises(ConfigError, match="models=\\['nope'\\]: unknown"):
        compare(["nope"], ["ka3d"], tmp_path, cfg.dataset_settings)
