"""Every dataset knows its τα as one of its own time indices (issue [glass-eval] item 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import BAPST, BOTAN, EMBEDDED_KA3D

from interplay.core import ConfigError
from interplay.glass.data import (
    BapstDataModule,
    GlassBenchDataModule,
    KA3DDataModule,
    ShibaDataModule,
    tau_alpha_column,
    tau_alpha_from_fs,
)

needs_botan = pytest.mark.skipif(not BOTAN.is_dir(), reason="shared BOTAN sample missing")
needs_bapst = pytest.mark.skipif(not BAPST.is_dir(), reason="shared Bapst sample missing")


@pytest.mark.skipif(not EMBEDDED_KA3D.is_dir(), reason="embedded dataset missing")
@pytest.mark.parametrize("T, time", [(0.8, 2.335), (0.9, 1.74), (1.0, 1.255)])
def test_ka3d_tau_alpha_from_the_simulation_metadata(T, time):
    """The json files store tau_alpha (2.5-3.3 at T = 0.8): the median's closest grid time."""
    dm = KA3DDataModule(root=str(EMBEDDED_KA3D), T=T, cache=False)
    assert dm.tau_alpha_index == 7 and dm.tau_alpha == pytest.approx(time)
    assert KA3DDataModule(root=str(EMBEDDED_KA3D), T=T, time_indices="tau_alpha").time_indices == [
        7
    ]


@needs_botan
def test_botan_tc07():
    dm = ShibaDataModule(root=str(BOTAN), T=0.44, cache=False)
    assert dm.tau_alpha_index == 7 and dm.tau_alpha == 4120.0


@needs_bapst
@pytest.mark.parametrize("name, index", [("test_large", 143), ("test_small", 142)])
def test_bapst_where_fs_is_one_over_e(tmp_path, name, index):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "aggregated_data_0.pickle").symlink_to(BAPST / f"{name}.pickle")
    dm = BapstDataModule(root=str(tmp_path), T=0.44, cache=False)
    assert dm.tau_alpha_index == index and dm.tau_alpha > 5000.0


def test_bapst_rule_interpolates_between_bracketing_indices():
    idx, times = [3, 5, 7, 9], [1.0, 10.0, 100.0, 1000.0]
    # F_s = 1/e between t = 10 (0.5) and t = 100 (0.3): log t interpolated -> closer to 100
    tau = tau_alpha_from_fs(idx, times, [0.9, 0.5, 0.3, 0.1])
    w = (0.5 - math.exp(-1)) / 0.2
    assert tau.estimate == pytest.approx(10 ** (1 + w)) and tau.index == 7
    assert tau_alpha_from_fs(idx, times, [0.9, 0.8, 0.7, 0.6]) is None  # never decays to 1/e


def test_glassbench_grid_at_T044_and_unknown_elsewhere(tmp_path, lattice_positions):
    rng = np.random.default_rng(0)
    n = 100
    box = (n / 1.2) ** (1 / 3)
    for T in (0.44, 0.5):
        d = tmp_path / f"T{T}" / "train"
        d.mkdir(parents=True)
        for i in range(2):
            np.savez(
                d / f"N{n}T{T}_{i}.npz",
                types=(rng.random(n) < 0.2).astype(np.int64),
                initial_positions=lattice_positions(rng, n, box),
                md_prop=rng.random((10, n)),
            )
    dm = GlassBenchDataModule(root=str(tmp_path), T=0.44, cache=False)
    assert dm.tau_alpha_index == 6 and dm.tau_alpha == 4120.0  # the 7th time of the grid
    other = GlassBenchDataModule(root=str(tmp_path), T=0.5, cache=False)
    assert other.tau_alpha_index is None and math.isnan(other.tau_alpha)
    with pytest.raises(ConfigError, match="no tau_alpha known"):
        _ = GlassBenchDataModule(root=str(tmp_path), T=0.5, time_indices="tau_alpha").time_indices


def test_tau_alpha_column_when_tau_alpha_is_not_predicted():
    assert tau_alpha_column([0, 7, 9], 7) == (1, True)
    # uni-variate at another index: the closest in log time (1.35 is closer to 2.335 than 7)
    assert tau_alpha_column([6, 9], 7, [1.35, 7.0], 2.335) == (0, False)
    assert tau_alpha_column([8, 9], 7, [4.04, 7.0], 2.335) == (0, False)
    assert tau_alpha_column([3, 9], 7, None) == (1, False)  # no times: by index distance
    assert tau_alpha_column([3, 9], None) == (0, False)  # unknown: the first
