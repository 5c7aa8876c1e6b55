"""The comparison command's body (``interplay-compare``) on its composed conf/compare.yaml."""

from __future__ import annotations

import json

from helpers import compose_config

from interplay.glass.analysis import compare_from_config


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
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert data[0]["results"]["n_parameters"] > 0
