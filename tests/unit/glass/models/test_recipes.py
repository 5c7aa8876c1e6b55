"""Training recipes tied to the run length (issue [glass-science]): RunLengthLR against torch's
own schedulers, gradient clipping by global norm, the A-only loss and the composed configs
(schedule=, callbacks=best / best_stop). The tiny train.py run that uses them (lr halved at
50 % of the run, best checkpoint tested) is a case of test_baselines.test_train_py_end_to_end."""

from __future__ import annotations

import math
import os

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from helpers import compose_config
from model_contract import periodic_graph
from torch_geometric.loader import DataLoader

from interplay.core import ConfigError
from interplay.glass.models import PropensityModule, RunLengthLR
from interplay.glass.nn import BapstGNN


def lrs(sched_factory, n: int) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = sched_factory(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_run_length_lr_matches_torch_schedulers():
    # multistep at fractions of 200 steps == MultiStepLR at the steps 100, 140, 170
    ours = lrs(lambda o: RunLengthLR(o, total_steps=200, milestones=[0.7, 0.5, 0.85]), 200)
    ref = lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [100, 140, 170], 0.5), 200)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    # cosine without warm-up == CosineAnnealingLR(T_max = run length, eta_min = min_factor lr)
    ours = lrs(lambda o: RunLengthLR(o, 50, shape="cosine", min_factor=0.1), 50)
    ref = lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 50, eta_min=0.01), 50)
    np.testing.assert_allclose(ours, ref, rtol=1e-9)
    # linear warm-up over the first 10 % of the steps, then the constant lr
    ours = lrs(lambda o: RunLengthLR(o, 100, shape="constant", warmup=0.1), 12)
    np.testing.assert_allclose(ours, [0.01 * (k + 1) for k in range(10)] + [0.1, 0.1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"milestones": [50, 70]}, "fractions of the run"), ({"total_steps": math.inf}, "max_time"),
     ({"shape": "step"}, "multistep"), ({"warmup": 1.0}, "warmup")],
)  # fmt: skip
def test_run_length_lr_rejects_bad_input(kwargs, match):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ConfigError, match=match):
        RunLengthLR(opt, **{"total_steps": 100, **kwargs})


def tiny_module(**kwargs) -> PropensityModule:
    torch.manual_seed(0)
    net = BapstGNN(n_timescales=2, hidden=8, n_recurrences=1)
    opt = kwargs.pop("optimizer", lambda p: torch.optim.SGD(p, lr=1.0))
    return PropensityModule(net=net, optimizer=opt, n_timescales=2, figures=False, **kwargs)


def test_gradient_clip_norm_clips_the_global_norm_and_loss_types_masks():
    """One SGD step (lr 1) moves the parameters by exactly the clipped gradient: global norm
    1e-3 when the unclipped gradient is larger; loss_types=[0] = MSE over the A particles."""
    g = periodic_graph(seed=2, n_t=2)
    model = tiny_module(gradient_clip_norm=1e-3)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    model.loss_fn(model(g), g.y).backward()
    assert float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm()) > 1e-2
    trainer = pl.Trainer(max_steps=1, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False)  # fmt: skip
    trainer.fit(model, DataLoader([g], batch_size=1))
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert float((after - before).norm()) == pytest.approx(1e-3, rel=1e-4)
    # the A-only loss: the MSE over the type-0 particles, per timescale, summed
    masked = tiny_module(loss_types=[0])
    pred = torch.randn_like(g.y)
    a = g.node_type == 0
    ref = ((pred[a] - g.y[a]) ** 2).mean(dim=0).sum()
    torch.testing.assert_close(masked.loss_fn(pred, g.y, g.node_type), ref)
    with pytest.raises(ConfigError, match="loss_types"):
        tiny_module(loss_types=[2])


def test_recipe_configs_compose():
    cfg = compose_config(["schedule=cosine", "callbacks=best_stop", "model=bapst_gnn_bessel"])
    assert cfg.model.net.edge_features == "bessel" and cfg.model.net.message_norm
    assert cfg.model.scheduler._target_ == "interplay.glass.models.RunLengthLR"
    assert cfg.model.scheduler.shape == "cosine"
    assert cfg.callbacks.model_checkpoint.monitor == "val/pearson_A"
    assert cfg.callbacks.model_checkpoint.mode == "max"
    assert cfg.callbacks.early_stopping.monitor == "val/pearson_A"
    faithful = compose_config(["model=bapst_gnn"]).model
    assert (faithful.net.edge_features, faithful.optimizer.lr) == ("vector", 1e-4)
    assert faithful.net.self_edges and faithful.net.augment and faithful.scheduler is None
    assert faithful.gradient_clip_norm == 1.0 and list(faithful.loss_types) == [0]


def test_gpu_paper_run_script_composes_the_paper_recipe():
    """scripts/gpu_paper_run.sh (DRY_RUN: print the train.py overrides): the paper model at
    STEPS optimizer steps, run-length lr drops, best checkpoint tested; bad budgets refused."""
    import subprocess

    from helpers import ROOT

    def script(**env):
        return subprocess.run(["bash", str(ROOT / "scripts" / "gpu_paper_run.sh")],
                              env={**os.environ, "DRY_RUN": "1", **env}, capture_output=True,
                              text=True, timeout=30)  # fmt: skip

    proc = script(STEPS="3", VAL_STEPS="450", OUT="/tmp/gpu_paper_run_dry")
    assert proc.returncode == 0, proc.stderr
    cfg = compose_config(proc.stdout.split())
    assert (cfg.model.net.n_layers, cfg.model.net.l_max, cfg.model.net.channels) == (8, 3, 8)
    assert cfg.trainer.max_steps == 3 and cfg.trainer.val_check_interval == 3  # capped
    assert cfg.trainer.accelerator == "gpu" and cfg.test_ckpt_path == "best"
    assert cfg.model.scheduler._target_.endswith("RunLengthLR")
    assert cfg.data.root.endswith("botan_T0.44") and cfg.data.n_val == 1
    bad = script(STEPS="many")
    assert bad.returncode == 2 and "STEPS=many must be a whole number" in bad.stderr
