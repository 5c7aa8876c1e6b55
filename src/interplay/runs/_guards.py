"""Callbacks that stop a run instead of letting it finish with a wrong answer.

A single NaN (a corrupt label, an exploding learning rate) turns the loss, then every weight,
then every test metric into NaN; without a guard the run still checkpoints those weights,
writes ``NaN`` into ``results.json`` and exits 0, so a sweep reports it as a success.
:class:`NonFiniteLossGuard` raises at the first non-finite training loss, before the epoch's
checkpoint and before any result is written; ``train.py`` then exits non-zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
import torch

from interplay.core import ConvergenceError


class NonFiniteLossError(ConvergenceError):
    """The training loss became NaN or infinite."""


def _as_float(value: Any) -> float | None:
    if isinstance(value, Mapping):
        value = value.get("loss")
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, int | float):
        return float(value)
    return None


class NonFiniteLossGuard(pl.Callback):
    """Raise :class:`NonFiniteLossError` when a training loss is NaN or ±inf.

    Checks the loss each ``training_step`` returns (after every batch) and, for models that
    step their own optimiser and only log it, every logged ``train*loss*`` metric at the end of
    each training epoch.
    """

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self._check(trainer, "loss", _as_float(outputs), f"batch {batch_idx}")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for key, value in trainer.callback_metrics.items():
            if key.startswith("train") and "loss" in key:
                self._check(trainer, key, _as_float(value), "epoch end")

    @staticmethod
    def _check(trainer: pl.Trainer, key: str, value: float | None, where: str) -> None:
        if value is None or math.isfinite(value):
            return
        raise NonFiniteLossError(
            f"non-finite training {key} = {value} at epoch {trainer.current_epoch}, global "
            f"step {trainer.global_step} ({where}); training stopped before these weights are "
            "checkpointed or any result is written. Likely causes: NaN / inf or absurd values "
            "in the data (labels, positions or inputs of a custom dataset), a learning rate "
            "too large for the model (the model's lr / optimizer.lr), or a diverging optimiser; "
            "rerun with trainer.detect_anomaly=true to find the operation that produced it."
        )
