"""PropensityModule (thesis §2.4.3): fit / test / results keys / figures / resume, the
temperature-transfer machinery (§2.4.4) and the Hydra configs of the se3gnn family."""

from __future__ import annotations

from pathlib import Path

import hydra
import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from helpers import CONF, compose_config
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from interplay.glass.analysis import collect, refit_decoders, run_transfer
from interplay.glass.models import PropensityModule


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny graphs: one thread is as fast and robust to a loaded machine (restored after)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# model=se3gnn_small shrunk by the user-facing override names (net / optimizer / scheduler)
TINY = [
    "model.net.channels=2",
    "model.net.n_layers=2",
    "model.net.radial_dropout=0.0",
    "model.net.conv_impl=e3nn",
    "model.optimizer.lr=1e-3",
    "model.target_norm=false",
]


def tiny(model_kwargs: dict, *overrides: str, **kwargs) -> PropensityModule:
    """A tiny SE(3)-GNN built as train.py builds it: composed config + ``model_kwargs()``."""
    cfg = compose_config(["model=se3gnn_small", *TINY, *overrides])
    return hydra.utils.instantiate(cfg.model, **model_kwargs, **kwargs)


def toy_graph(seed: int, n: int = 30, temperature: float = 1.0) -> Data:
    """Random periodic configuration; labels = smooth local-density fields (2 timescales)."""
    g = torch.Generator().manual_seed(seed)
    box = (n / 1.2) ** (1 / 3)
    pos = torch.rand(n, 3, generator=g) * box
    types = (torch.rand(n, generator=g) < 0.3).long()
    types[:2] = torch.tensor([0, 1])
    d = pos[None] - pos[:, None]
    d = d - box * torch.round(d / box)
    r = d.norm(dim=-1)
    i, j = ((r < 2.0) & (r > 0)).nonzero(as_tuple=True)
    rr = r[i, j]
    dens = torch.zeros(n).index_add_(0, i, torch.exp(-rr / temperature))
    y = torch.stack([0.1 * dens, 0.05 * dens**2 / n], dim=1) + 0.3
    return Data(
        pos=pos, box=torch.full((1, 3), box), x=torch.nn.functional.one_hot(types, 2).float(),
        node_type=types, edge_index=torch.stack([j, i]), edge_vec=d[i, j], y=y,
    )  # fmt: skip


class ToyData(pl.LightningDataModule):
    time_indices = [2, 5]
    times = [0.1, 1.0]
    tau_alpha_index, tau_alpha = 5, 1.0  # what the models read the headline keys at

    def __init__(self, temperature: float = 1.0, base: int = 0):
        super().__init__()
        self.graphs = {
            "train": [toy_graph(base + s, temperature=temperature) for s in range(3)],
            "val": [toy_graph(base + 10)],
            "test": [toy_graph(base + 20 + s, temperature=temperature) for s in range(2)],
        }

    def model_kwargs(self):
        return {"n_node_scalars": 2, "n_timescales": 2, "time_indices": self.time_indices}

    def train_dataloader(self):
        return DataLoader(self.graphs["train"], batch_size=1, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.graphs["val"], batch_size=1)

    def test_dataloader(self):
        return DataLoader(self.graphs["test"], batch_size=1)


def trainer(root: Path, epochs: int, **kw) -> pl.Trainer:
    return pl.Trainer(
        max_epochs=epochs, accelerator="cpu", default_root_dir=str(root), logger=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, **kw,
    )  # fmt: skip


def test_fit_test_results_figures_and_resume(tmp_path):
    pl.seed_everything(0)
    dm = ToyData()
    halved = ["model.target_norm=true", "model.scheduler.milestones=[1]"]
    model = tiny(dm.model_kwargs(), *halved)
    ckpt = pl.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    tr = trainer(tmp_path, 2, callbacks=[ckpt])
    tr.fit(model, datamodule=dm)
    assert model.lr_schedulers().get_last_lr()[0] == pytest.approx(0.5e-3)  # halved at epoch 1
    assert bool(model.y_stats_ready) and model.y_std.shape == (2,)
    tr.test(model, datamodule=dm)
    metrics = tr.callback_metrics
    for key in ("test/pearson_A", "test/pearson_A_t2", "test/pearson_A_t5", "test/pearson_B_t5",
                "test/pearson_pooled_A_t2", "test/chi4_true_t2", "test/loss"):  # fmt: skip
        assert key in metrics, key
    assert float(metrics["test/pearson_A"]) == float(metrics["test/pearson_A_t5"])  # at tau_alpha
    assert model.extra_results()["tau_alpha_index"] == 5
    for name in ("pearson_vs_time.png", "chi4_vs_time.png", "g4_vs_r.png", "observables.npz"):
        assert (tmp_path / name).exists(), name
    obs = np.load(tmp_path / "observables.npz")
    assert obs["g4_true"].shape[1] == 2 and list(obs["time_indices"]) == [2, 5]
    assert model.extra_results()["n_parameters"] == sum(p.numel() for p in model.parameters())
    # resume from the Lightning checkpoint: training continues at epoch 2
    resumed = tiny(dm.model_kwargs(), *halved)
    tr2 = trainer(tmp_path, 3)
    tr2.fit(resumed, datamodule=dm, ckpt_path=str(tmp_path / "ckpt" / "last.ckpt"))
    assert tr2.current_epoch == 3
    torch.testing.assert_close(resumed.y_std, model.y_std)


def test_loss_is_sum_over_timescales_of_mse():
    model = tiny({"n_timescales": 3})
    pred, y = torch.randn(10, 3), torch.randn(10, 3)
    ref = sum(torch.mean((pred[:, k] - y[:, k]) ** 2) for k in range(3))
    torch.testing.assert_close(model.loss_fn(pred, y), ref)


def test_refit_decoders_is_least_squares_optimum():
    dm = ToyData()
    model = tiny(dm.model_kwargs())
    graphs = collect(model, dm.train_dataloader())
    torch.nn.init.normal_(model.net.decoder_weight)
    before = collect(model, dm.train_dataloader())
    refit_decoders(model.net, before, ridge=0.0)
    after = collect(model, dm.train_dataloader())

    def mse(graphs):
        return np.mean([((g["pred"] - g["y"]) ** 2).mean() for g in graphs])

    assert mse(after) < mse(before)
    # the least-squares solution: gradient of the MSE w.r.t. the decoders vanishes
    w = model.net.decoder_weight.detach().clone().requires_grad_(True)
    b = model.net.decoder_bias.detach().clone().requires_grad_(True)
    loss = 0
    for g in graphs:
        t = torch.from_numpy(g["type"])
        inv = torch.from_numpy(g["inv"]).float()
        pred = torch.einsum("ntf,nf->nt", w[t], inv) + b[t]
        loss = loss + ((pred - torch.from_numpy(g["y"]).float()) ** 2).sum()
    loss.backward()
    assert w.grad.abs().max() < 1e-2 * max(1.0, loss.item())


def test_run_transfer_matrix(tmp_path):
    pl.seed_everything(0)
    result = run_transfer(
        [0.8, 1.2],
        make_datamodule=lambda T: ToyData(temperature=T, base=int(100 * T)),
        make_model=lambda kw: tiny(kw, figures=False),
        fit=lambda m, dm, T: trainer(tmp_path / f"T{T}", 1).fit(m, datamodule=dm),
        tau_alpha_slot=lambda dm, T: 1,
    )
    for key in ("transfer_test", "transfer_learn"):
        mat = np.asarray(result[key])
        assert mat.shape == (2, 2) and np.isfinite(mat).all()
    assert result["tau_alpha_slot"] == [1, 1]


# --------------------------------------------------------------------------- Hydra configs
@pytest.mark.parametrize(
    "model_name, n_timescales, expected",
    [("se3gnn", 10, 52_304), ("se3gnn_univariate", 1, 23_704)],
)
def test_paper_configs_have_the_thesis_parameter_counts(model_name, n_timescales, expected):
    """§2.4.2 "Number of parameters" (docs/se3gnn.md for the univariate difference)."""
    cfg = compose_config([f"model={model_name}"])
    model = hydra.utils.instantiate(cfg.model, n_node_scalars=2, n_timescales=n_timescales)
    assert model.extra_results()["n_parameters"] == expected


@pytest.mark.parametrize(
    "experiment",
    ["ka3d_default", "ablation_lmax", "ablation_depth", "learning_curve", "ablation_inputs",
     "shiba_T044"],
)  # fmt: skip
def test_experiment_configs_compose(experiment):
    cfg = compose_config([f"experiment={experiment}"])
    assert cfg.model._target_.endswith("PropensityModule")
    assert cfg.optimized_metric.startswith("test/pearson_A")


def test_transfer_configs_compose():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="transfer")
        # the default must run on the embedded data: every temperature has its directory
        embedded = CONF.parent / "data" / "ka3d"
        assert list(cfg.temperatures) == [0.8, 0.9, 1.0]
        assert all((embedded / f"T{t}" / "train").is_dir() for t in cfg.temperatures)
        assert cfg.trainer.max_epochs == 15  # this file's budget, not trainer/cpu's 100
        cfg = compose(config_name="transfer", overrides=["experiment=temperature_transfer"])
        assert cfg.model.net.n_layers == 8 and list(cfg.temperatures)[0] == 0.44
