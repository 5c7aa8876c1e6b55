"""The split-half propensities the noise ceiling needs: kept by the readers where the data has
runs, carried by the graphs (``y_half1`` / ``y_half2``) and the graph cache, absent (or NaN)
where the data stores only averages (issue [glass-eval] item 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import BAPST, BOTAN

from interplay.core import DataError, write_npz
from interplay.glass.data import BapstDataModule, GlassBenchDataModule, ShibaDataModule, load
from interplay.glass.models import split_batch


@pytest.mark.skipif(not BOTAN.is_dir(), reason="shared BOTAN sample missing")
def test_shiba_graphs_carry_the_split_half_labels(tmp_path):
    kw = dict(root=str(BOTAN), T=0.44, cache_dir=str(tmp_path), max_configs=4)
    dm = ShibaDataModule(**kw, time_indices="tau_alpha")
    dm.setup()
    g = dm.graphs["test"][0]
    assert g.y_half1.shape == g.y_half2.shape == g.y.shape == (4096, 1)
    torch.testing.assert_close((g.y_half1 + g.y_half2) / 2, g.y)  # 32 runs: 16 + 16
    again = ShibaDataModule(**kw, time_indices="tau_alpha")
    again.setup()  # from the cache: the halves survive it
    torch.testing.assert_close(again.graphs["test"][0].y_half2, g.y_half2)
    batch = next(iter(dm.test_dataloader()))
    (item,) = split_batch(batch, batch.y)
    assert item["y_half"].shape == (2, 4096, 1)


@pytest.mark.skipif(not BAPST.is_dir(), reason="shared Bapst sample missing")
def test_bapst_halves_where_runs_are_stored(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "aggregated_data_0.pickle").symlink_to(BAPST / "test_large.pickle")
    dm = BapstDataModule(root=str(tmp_path), T=0.44, cache=False)
    dm.setup()
    (g,) = [g for gs in dm.graphs.values() for g in gs]
    assert g.y_half1.shape == (4096, 10)
    assert torch.isfinite(g.y_half1[:, 0]).all() and torch.isnan(g.y_half1[:, 1:]).all()


def _glassbench(root, make_positions, halves_for: set[int], n: int = 300) -> None:
    rng = np.random.default_rng(2)
    L = (n / 1.2) ** (1 / 3)
    for i in range(8):
        prop = rng.uniform(0, 1, (2, 10, n))
        extra = {"md_prop_halves": prop} if i in halves_for else {}
        write_npz(
            root / "T0.44" / ("train" if i < 6 else "test") / f"N{n}T0.44_{i}.npz",
            types=np.r_[np.zeros(n - n // 5), np.ones(n // 5)].astype(np.int8),
            initial_positions=make_positions(rng, n, L),
            md_prop=prop.mean(0),
            **extra,
        )


def test_no_runs_no_halves_and_mixed_data_batches(tmp_path, lattice_positions):
    _glassbench(tmp_path / "none", lattice_positions, set())
    dm = GlassBenchDataModule(root=str(tmp_path / "none"), T=0.44, cache=False)
    dm.setup()
    assert not any("y_half1" in g for gs in dm.graphs.values() for g in gs)
    _glassbench(tmp_path / "some", lattice_positions, {0, 7})
    dm = GlassBenchDataModule(root=str(tmp_path / "some"), T=0.44, cache=False, batch_size=8)
    dm.setup()
    graphs = [g for gs in dm.graphs.values() for g in gs]
    assert sum(bool(torch.isfinite(g.y_half1).all()) for g in graphs) == 2
    assert sum(bool(torch.isnan(g.y_half1).all()) for g in graphs) == 6
    assert next(iter(dm.train_dataloader())).y_half2.shape[1] == 10  # mixed graphs batch


def test_bad_halves_are_refused(tmp_path, lattice_positions):
    _glassbench(tmp_path, lattice_positions, {0})
    path = tmp_path / "T0.44" / "train" / "N300T0.44_0.npz"
    c = load(path)
    assert c.propensity_halves.shape == (2, 10, 300)
    assert c.select_times([3, 5]).propensity_halves.shape == (2, 2, 300)
    data = dict(np.load(path))
    data["md_prop_halves"] = data["md_prop_halves"][:, :3]
    write_npz(path, **data)
    with pytest.raises(DataError, match="md_prop_halves has shape"):
        load(path)
    data["md_prop_halves"] = -np.ones((2, 10, 300))
    write_npz(path, **data)
    with pytest.raises(DataError, match="non-negative"):
        load(path)
