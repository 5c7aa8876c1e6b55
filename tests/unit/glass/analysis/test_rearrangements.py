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
