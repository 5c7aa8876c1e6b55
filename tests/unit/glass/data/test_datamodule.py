"""DataModules: discovery, splits, model_kwargs, graph cache, clear missing-data errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import BAPST, BOTAN, CONF, EMBEDDED_KA3D

from interplay.core import ConfigError, DataError, write_npz
from interplay.glass.data import (
    BapstDataModule,
    GlassBenchDataModule,
    KA3DDataModule,
    ShibaDataModule,
    split_counts,
)


def test_thesis_split_proportions():
    assert split_counts(800, False) == (400, 320, 80)
    assert split_counts(30, False) == (15, 12, 3)
    assert split_counts(720, True, 80) == (400, 320, 80)
    assert split_counts(27, True, 3) == (15, 12, 3)
    assert split_counts(3, False) == (1, 1, 1)


@pytest.mark.parametrize(
    ("cls", "source"),
    [
        (KA3DDataModule, "interplay-simulate"),
        (ShibaDataModule, "Shiba et al. 2023 BOTAN"),
        (BapstDataModule, "Bapst et al. 2020 DeepMind"),
        (GlassBenchDataModule, "Jung et al. roadmap"),
    ],
)
def test_missing_root_says_where_data_comes_from(cls, source, tmp_path):
    with pytest.raises(DataError, match=source) as info:
        cls(root=str(tmp_path / "nowhere"), T=0.44)
    assert "data.root" in str(info.value) and "nowhere" in str(info.value)


def _fake_glassbench(
    root: Path, make_positions, n_cfg: int = 8, n: int = 300, T: float = 0.44
) -> None:
    """KA-like files: density 1.2 and no overlapping pair (the DataModules check both)."""
    rng = np.random.default_rng(1)
    L = (n / 1.2) ** (1 / 3)
    for i in range(n_cfg):
        split = "train" if i < n_cfg - 2 else "test"
        write_npz(
            root / f"T{T}" / split / f"N{n}T{T}_{i}.npz",
            types=np.r_[np.zeros(n - n // 5), np.ones(n // 5)].astype(np.int8),
            initial_positions=make_positions(rng, n, L),
            initial_positions_inherent=make_positions(rng, n, L),
            md_prop=rng.uniform(0, 1, (10, n)).astype(np.float32),
            epot=rng.normal(-7, 0.5, n),
            epot_inherent=rng.normal(-7.6, 0.5, n),
        )


def test_glassbench_module_splits_cache_and_kwargs(tmp_path, lattice_positions):
    _fake_glassbench(tmp_path / "gb", lattice_positions)
    kw = dict(root=str(tmp_path / "gb"), T=0.44, cache_dir=str(tmp_path / "cache"))
    dm = GlassBenchDataModule(**kw, epot="inherent", time_indices=[2, 6])
    assert dm.model_kwargs() == {"n_node_scalars": 3, "n_timescales": 2, "time_indices": [2, 6]}
    np.testing.assert_allclose(dm.times, [13.0, 4120.0])  # GlassBench T = 0.44 grid
    dm.setup()
    sizes = {k: len(v) for k, v in dm.graphs.items()}
    assert sizes == {"train": 3, "val": 3, "test": 2}  # 6 in train/ -> 400:320 train/val
    batch = next(iter(dm.train_dataloader()))
    assert batch.x.shape == (300, 3) and batch.y.shape == (300, 2)
    x = torch.cat([g.x[:, 2] for g in dm.graphs["train"]])
    assert abs(float(x.mean())) < 1e-5 and abs(float(x.std()) - 1) < 1e-2  # standardised
    names = {s: [g.name for g in v] for s, v in dm.graphs.items()}
    assert not set(names["train"]) & set(names["val"])
    assert dm.cache_path().exists()
    again = GlassBenchDataModule(**kw, epot="inherent", time_indices=[2, 6])
    again.setup()  # from the cache
    torch.testing.assert_close(again.graphs["test"][0].edge_vec, dm.graphs["test"][0].edge_vec)
    other = GlassBenchDataModule(**kw, positions="inherent")
    assert other.cache_path() != dm.cache_path()
    assert other.model_kwargs()["n_timescales"] == 10
    with pytest.raises(ConfigError, match="not in the dataset's time indices"):
        GlassBenchDataModule(**kw, time_indices=[42]).model_kwargs()
    with pytest.raises(ConfigError, match="data.positions"):
        GlassBenchDataModule(**kw, positions="wrong")


def test_n_train_gives_nested_subsets_with_fixed_val_and_test(tmp_path, lattice_positions):
    """Learning curve (thesis Fig. 2.16 right): growing training sets, same val / test sets."""
    _fake_glassbench(tmp_path / "gb", lattice_positions, n_cfg=12)  # 10 in train/, 2 in test/
    kw = dict(root=str(tmp_path / "gb"), T=0.44, cache=False)
    full = GlassBenchDataModule(**kw).split_units()
    small = GlassBenchDataModule(**kw, n_train=2).split_units()
    larger = GlassBenchDataModule(**kw, n_train=4).split_units()
    assert len(small["train"]) == 2 and len(larger["train"]) == 4

    def as_set(units):  # a unit is the list of files of one configuration
        return {tuple(unit) for unit in units}

    assert as_set(small["train"]) <= as_set(larger["train"]) <= as_set(full["train"])
    assert small["val"] == larger["val"] == full["val"] and small["test"] == full["test"]
    one_val = GlassBenchDataModule(**kw, n_val=1).split_units()
    assert len(one_val["val"]) == 1 and len(one_val["train"]) == 9
    with pytest.raises(ConfigError, match="data.n_train"):
        GlassBenchDataModule(**kw, n_train=50).split_units()
    with pytest.raises(ConfigError, match="data.n_val"):
        GlassBenchDataModule(**kw, n_val=10).split_units()


@pytest.mark.skipif(not BOTAN.is_dir(), reason="shared BOTAN sample missing")
def test_shiba_module_on_real_sample(tmp_path):
    dm = ShibaDataModule(
        root=str(BOTAN), T=0.44, cache_dir=str(tmp_path), max_configs=4, time_indices="tau_alpha"
    )
    assert dm.model_kwargs() == {"n_node_scalars": 2, "n_timescales": 1, "time_indices": [7]}
    dm.setup()
    assert {k: len(v) for k, v in dm.graphs.items()} == {"train": 2, "val": 2, "test": 1}
    g = dm.graphs["test"][0]
    assert g.pos.shape == (4096, 3) and g.y.shape == (4096, 1)
    assert float(g.edge_vec.norm(dim=1).max()) < 2.0


@pytest.mark.skipif(not EMBEDDED_KA3D.is_dir(), reason="embedded dataset missing")
def test_ka3d_embedded_default(tmp_path):
    T = sorted(p.name for p in EMBEDDED_KA3D.glob("T*"))[-1][1:]
    dm = KA3DDataModule(
        root=str(EMBEDDED_KA3D), T=float(T), cache_dir=str(tmp_path), max_configs=4,
        epot="inherent", positions="thermal",
    )  # fmt: skip
    kw = dm.model_kwargs()
    assert kw["n_timescales"] == 10 and kw["time_indices"] == list(range(10))
    dm.setup()
    g = dm.graphs["train"][0]
    assert g.x.shape == (1000, 3) and g.y.shape == (1000, 10)


def test_hydra_compose_data_groups():
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        for family in ("ka3d", "shiba", "bapst", "glassbench"):
            cfg = compose(
                config_name="train",
                overrides=[
                    f"data={family}",
                    "temperature=T0.44",
                    "timescale=tau_alpha",
                    "paths.data_dir=/nonexistent",
                ],
            )
            assert cfg.data.T == 0.44 and cfg.data.time_indices == "tau_alpha"
            # hydra wraps constructor errors; the DataError is the cause, message intact
            with pytest.raises(Exception, match="comes from") as info:
                instantiate(cfg.data)
            assert isinstance(info.value, DataError) or isinstance(info.value.__cause__, DataError)


@pytest.mark.skipif(not BAPST.is_dir(), reason="shared Bapst sample missing")
def test_bapst_module_time_indices(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "aggregated_data_0.pickle").symlink_to(BAPST / "test_large.pickle")
    dm = BapstDataModule(root=str(tmp_path), T=0.44, cache_dir=str(tmp_path / "c"))
    assert dm.model_kwargs()["time_indices"] == [26, 39, 110, 127, 135, 142, 147, 151, 156, 143]
    tau = BapstDataModule(root=str(tmp_path), T=0.44, time_indices="tau_alpha", cache=False)
    assert tau.time_indices == [143]  # is_values = 1/e
    tau.setup()
    (g,) = tau.graphs["train"]
    assert g.y.shape == (4096, 1) and g.x.shape == (4096, 2)
    with pytest.raises(DataError, match="holds no configuration at T=0.47"):
        BapstDataModule(root=str(tmp_path), T=0.47).setup()
