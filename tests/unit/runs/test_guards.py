"""A non-finite training loss stops the run: no NaN checkpoint, no NaN results, exit != 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from helpers import ROOT

from interplay.runs import NonFiniteLossError, NonFiniteLossGuard


class NaNLossModule(pl.LightningModule):
    """A one-weight model whose loss turns NaN at global step ``nan_at`` (as a NaN label does).

    ``log_only``: step the optimiser by hand and only log ``train/loss`` (as the perceptron
    does), so that the guard must find the NaN among the logged metrics.
    """

    def __init__(self, nan_at: int = 2, log_only: bool = False, **_: object) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.nan_at = nan_at
        self.automatic_optimization = not log_only

    def _loss(self) -> torch.Tensor:
        loss = (self.w**2).sum()
        return loss * float("nan") if self.global_step >= self.nan_at else loss

    def training_step(self, batch, batch_idx):
        loss = self._loss()
        if self.automatic_optimization:
            return loss
        self.log("train/loss", loss, on_step=False, on_epoch=True)
        return None

    def test_step(self, batch, batch_idx):
        self.log("test/w", self.w.detach().sum())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=1)


def _trainer(tmp_path: Path, **kw) -> pl.Trainer:
    ckpt = pl.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    return pl.Trainer(
        max_epochs=3,
        callbacks=[NonFiniteLossGuard(), ckpt],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kw,
    )


def test_nan_loss_raises_with_epoch_step_and_causes_before_any_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"training loss = nan at epoch 0, global step 3"):
        _trainer(tmp_path).fit(NaNLossModule(nan_at=2))
    assert not list(tmp_path.glob("ckpt/*.ckpt"))  # the NaN weights were never checkpointed
    with pytest.raises(NonFiniteLossError, match="learning rate too large"):
        _trainer(tmp_path).fit(NaNLossModule(nan_at=6))  # epoch 1
    for path in tmp_path.glob("ckpt/*.ckpt"):
        state = torch.load(path, weights_only=True)["state_dict"]
        assert torch.isfinite(state["w"]).all()


def test_nan_in_a_logged_loss_of_a_manual_model(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"training train/loss = nan .*epoch end"):
        _trainer(tmp_path).fit(NaNLossModule(nan_at=0, log_only=True))


def test_train_py_exits_nonzero_and_writes_no_results(tmp_path, tiny_perceptron_overrides):
    """The real entry point: NaN loss -> message and exit code != 0, no results.json."""
    run_dir = tmp_path / "run"
    env = {
        **os.environ,
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": os.pathsep.join(  # this module (and its helpers import) for Hydra
            [str(Path(__file__).parent), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "train.py",
            *tiny_perceptron_overrides,
            "model._target_=test_guards.NaNLossModule",
            "+model.nan_at=0",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode != 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "non-finite training loss = nan at epoch 0" in proc.stdout + proc.stderr
    assert not (run_dir / "results.json").exists()
