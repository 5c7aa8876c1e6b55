"""Readers of the real KA dataset formats (data under ../shared/data, never copied here)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from helpers import BAPST, BOTAN, EMBEDDED_KA3D

from interplay.core import DataError, write_npz
from interplay.glass import data as gio

needs_botan = pytest.mark.skipif(not BOTAN.is_dir(), reason="shared BOTAN sample missing")
needs_bapst = pytest.mark.skipif(not BAPST.is_dir(), reason="shared Bapst sample missing")


@needs_botan
def test_botan_single_file():
    path = BOTAN / "test" / "isoconfig_N4096T0.44_401_tc07.npz"
    c = gio.load(path)
    assert c.source == "botan" and c.name == "N4096T0.44_401"
    assert c.positions.shape == (4096, 3) and c.types.dtype == np.int64
    assert set(np.unique(c.types)) == {0, 1} and (c.types == 0).sum() == 3277
    np.testing.assert_allclose(c.box, (4096 / 1.2) ** (1 / 3))
    assert c.inherent_positions is None and c.temperature == 0.44
    assert c.time_indices.tolist() == [7] and c.times.tolist() == [4120.0]
    # propensity = iso-average of |r(t) - r(0)| over the 32 stored runs (thesis eq. 2.17)
    with np.load(path) as d:
        ref = np.linalg.norm(d["positions"] - d["initial_positions"][None], axis=-1).mean(0)
    np.testing.assert_allclose(c.propensity[0], ref, rtol=0, atol=1e-12)
    assert ((c.positions >= 0) & (c.positions < c.box)).all()


@needs_botan
def test_botan_directory_merges_time_indices(tmp_path):
    src = BOTAN / "train" / "isoconfig_N4096T0.44_1_tc07.npz"
    with np.load(src) as d:
        arrays = {k: d[k] for k in d.files}
    # a second time index of the same configuration (fake tc03: half the displacements)
    fake = dict(arrays)
    fake["positions"] = arrays["initial_positions"][None] + 0.5 * (
        arrays["positions"] - arrays["initial_positions"][None]
    )
    write_npz(tmp_path / "isoconfig_N4096T0.44_1_tc07.npz", **arrays)
    write_npz(tmp_path / "isoconfig_N4096T0.44_1_tc03.npz", **fake)
    (conf,) = gio.load_directory(tmp_path)
    assert conf.time_indices.tolist() == [3, 7]
    assert conf.propensity.shape == (2, 4096) and len(conf.files) == 2
    np.testing.assert_allclose(conf.propensity[0], 0.5 * conf.propensity[1], rtol=1e-12)
    # same configuration index but different initial positions -> clear error
    bad = dict(fake)
    bad["initial_positions"] = np.mod(arrays["initial_positions"] + 0.3, 15.0)
    write_npz(tmp_path / "isoconfig_N4096T0.44_1_tc03.npz", **bad)
    with pytest.raises(DataError, match="different types / initial positions"):
        gio.load_directory(tmp_path)


@needs_bapst
def test_bapst_large_targets_match_trajectories():
    path = BAPST / "test_large.pickle"
    c = gio.load(path)
    with open(path, "rb") as handle:
        raw = pickle.load(handle)
    runs = np.asarray(raw["trajectory_target_positions"][0])
    recomputed = np.linalg.norm(runs - raw["positions"][None], axis=-1).mean(0)
    np.testing.assert_allclose(recomputed, raw["targets"][0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.propensity[0], raw["targets"][0], rtol=0, atol=1e-12)
    # the other 9 time indices have no runs: taken from targets
    np.testing.assert_array_equal(c.propensity[1:], np.asarray(raw["targets"][1:]))
    assert c.time_indices.tolist() == raw["time_indices"]
    np.testing.assert_allclose(c.times, np.asarray(raw["time"])[raw["time_indices"]])
    assert c.temperature == 0.44 and c.metadata["pressure"] == 2.93


@needs_bapst
def test_bapst_small_computed_from_runs():
    c = gio.load(BAPST / "test_small.pickle")
    assert c.propensity.shape == (10, 20)
    assert np.isfinite(c.propensity).all() and (c.propensity > 0).all()


def _glassbench_file(path: Path, n: int = 64, n_t: int = 4, **overrides) -> Path:
    rng = np.random.default_rng(0)
    L = (n / 1.2) ** (1 / 3)
    arrays = {
        "types": np.r_[np.zeros(n - n // 5), np.ones(n // 5)].astype(np.int8),
        "initial_positions": rng.uniform(0, L, (n, 3)),
        "initial_positions_inherent": rng.uniform(0, L, (n, 3)),
        "md_prop": rng.uniform(0, 1, (n_t, n)).astype(np.float32),
    }
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    write_npz(path, **arrays)
    return path


def test_glassbench_reader_and_errors(tmp_path):
    c = gio.load(_glassbench_file(tmp_path / "N64T0.44_3.npz"))
    assert c.source == "glassbench" and c.temperature == 0.44 and c.name == "N64T0.44_3"
    assert c.inherent_positions.shape == (64, 3) and c.propensity.shape == (4, 64)
    assert c.time_indices.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(c.times, [0.13, 1.3, 13.0, 130.0])  # GlassBench T=0.44 grid
    with pytest.raises(DataError, match=r"N64T0.44_4.npz: missing keys \['md_prop'\]"):
        gio.load(_glassbench_file(tmp_path / "N64T0.44_4.npz", md_prop=None))
    with pytest.raises(DataError, match="md_prop has shape"):
        gio.load(_glassbench_file(tmp_path / "N64T0.44_5.npz", md_prop=np.zeros((3, 10))))
    with pytest.raises(DataError, match="positions"):
        gio.load(_glassbench_file(tmp_path / "N64T0.44_6.npz", initial_positions=np.zeros((6, 3))))
    (tmp_path / "N64T0.44_7.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="N64T0.44_7.npz: cannot read"):
        gio.load(tmp_path / "N64T0.44_7.npz")
    with pytest.raises(DataError, match="no such file"):
        gio.load(tmp_path / "missing.npz")


def test_bapst_malformed(tmp_path):
    path = tmp_path / "aggregated_data_0.pickle"
    with open(path, "wb") as handle:
        pickle.dump({"positions": np.zeros((5, 3)), "types": np.zeros(5)}, handle)
    with pytest.raises(DataError, match=r"aggregated_data_0.pickle: missing keys .*box"):
        gio.load(path)


@pytest.mark.skipif(
    not any(EMBEDDED_KA3D.glob("T*/train/*.npz")), reason="embedded dataset missing"
)
def test_embedded_dataset_readable_by_glassbench_reader():
    path = sorted(EMBEDDED_KA3D.glob("T*/train/*.npz"))[0]
    c = gio.load(path)
    assert c.source == "glassbench" and c.n_particles == 1000
    assert c.inherent_positions is not None and c.epot is not None and c.epot_inherent is not None
    assert c.propensity.shape == (10, 1000) and np.all(np.diff(c.times) > 0)
    # propensity grows with time on average (|dr| is monotone in the iso-average)
    assert np.all(np.diff(c.propensity.mean(1)) > 0)
