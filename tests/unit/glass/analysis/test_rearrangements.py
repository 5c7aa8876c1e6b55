"""Rearrangement labels of the softness diagnostics on ka3d (glass.analysis.rearrangement_set)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import EMBEDDED_KA3D

from interplay.core import ConfigError, DataError
from interplay.glass.analysis import displacement_at, rearrangement_set
from interplay.glass.data import load
from interplay.glass.nn import DescriptorSpec

TEST_DIR = EMBEDDED_KA3D / "T0.9" / "test"


def test_displacement_is_exact_at_stored_times_and_log_log_between():
    c = load(sorted(TEST_DIR.glob("*.npz"))[0])
    np.testing.assert_allclose(displacement_at(c, float(c.times[3])), c.propensity[3], rtol=1e-12)
    t_mid = float(np.sqrt(c.times[3] * c.times[4]))  # geometric mean -> geometric mean
    expected = np.sqrt(c.propensity[3] * c.propensity[4])
    np.testing.assert_allclose(displacement_at(c, t_mid), expected, rtol=1e-12)
    with pytest.raises(DataError, match="outside the stored times"):
        displacement_at(c, float(c.times[-1]) * 1.5)


def test_rearrangement_set_labels_type_a_particles_by_threshold():
    spec = DescriptorSpec(angular_centers=(), cg_levels=0)  # radial shells only: fast
    ps = rearrangement_set(TEST_DIR, 1.0, 0.35, spec, max_configs=1)
    c = load(sorted(TEST_DIR.glob("*.npz"))[0])
    assert ps.x.shape == (int(np.sum(c.types == 0)), spec.n_features)
    np.testing.assert_array_equal(ps.y, (ps.displacement > 0.35).astype(np.int8))
    assert 0 < ps.y.mean() < 0.5 and np.all(ps.group == 0)
    with pytest.raises(ConfigError, match="threshold"):
        rearrangement_set(TEST_DIR, 1.0, 0.0, spec, max_configs=1)


def test_softness_glass_pipeline_writes_figures_1_and_6(tmp_path):
    """softness_glass.py's glue in-process (a subprocess costs ~20 s of imports): one
    configuration per split and T, radial descriptors only."""
    import importlib.util
    import json

    from helpers import ROOT, compose_config

    from interplay.softness_toy import diagnostic_settings_from_cfg, run_real_data

    cfg = compose_config([
        "softness_glass.max_configs=1", "softness_glass.descriptors.angular_centers=[]",
        "softness_glass.descriptors.cg_levels=0", "softness_glass.bootstrap.n=5",
        "softness_glass.rfe.drop_fraction=0.5", f"softness_glass.root={ROOT / 'data/ka3d'}",
    ], "softness_glass")  # fmt: skip
    spec = importlib.util.spec_from_file_location("softness_glass", ROOT / "softness_glass.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    data, names = script.labelled_sets(cfg.softness_glass)
    assert [d.T for d in data] == [0.8, 0.9, 1.0] and len(names) == data[0].x_train.shape[1]
    st = diagnostic_settings_from_cfg(cfg.softness_glass)
    run_real_data(data, st, names, tmp_path, dpi=40, label="ka3d")
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["inferred_barrier_variance_lo"] <= res["inferred_barrier_variance_hi"]
    assert 0.4 < res["balanced_accuracy"] < 1.0
    assert (tmp_path / "fig1_real.png").stat().st_size > 0
    assert (tmp_path / "fig6_rfe_real.png").stat().st_size > 0
