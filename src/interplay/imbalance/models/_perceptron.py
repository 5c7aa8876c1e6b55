"""Spherical perceptron trained by SGD, K quenched resamplings at once (thesis §1.3.4).

"Perceptron TS": student field ``h = w.S/sqrt(N) + b`` with the spherical constraint
``w.w = N`` (eq. 1.33) re-imposed exactly after every optimiser step, sigmoid output, L2 loss
on 0/1 labels, plain SGD. The noise of SGD plays the role of the Gibbs temperature,
``T_eff = lr / batch_size`` (thesis §1.3.4, [JKA+17]).

The K students are independent: the loss is the *sum* over resamplings of each one's own
mini-batch mean, so every student receives exactly the gradient it would get alone, while
all K share the same matrix multiplies (one ``einsum`` over (K, B, N)).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import torch
from lightning.pytorch import LightningModule

from interplay.core import check_int_at_least, check_positive
from interplay.imbalance.data import effective_rho
from interplay.imbalance.models._metrics import classification_metrics


class SphericalPerceptron(LightningModule):
    """K independent spherical perceptrons with bias.

    Args:
        n_features: input dimension N. n_replicas: K, one student per resampling.
        lr: SGD learning rate. batch_size: SGD mini-batch size (T_eff = lr / batch_size).
        learn_bias: train b (True) or keep it at ``bias_init``.
    """

    def __init__(
        self,
        n_features: int,
        n_replicas: int = 1,
        lr: float = 0.5,
        batch_size: int = 20,
        learn_bias: bool = True,
        bias_init: float = 0.0,
        seed: int = 0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False  # many SGD steps per Lightning step (speed)
        self.n_features = check_int_at_least("model.n_features", n_features, 1)
        check_int_at_least("model.n_replicas", n_replicas, 1)
        self.lr = check_positive("model.lr", lr)
        self.batch_size = check_int_at_least("data.batch_size", batch_size, 1)
        self.temperature = self.lr / self.batch_size
        generator = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(n_replicas, n_features, generator=generator))
        self.bias = torch.nn.Parameter(
            torch.full((n_replicas,), float(bias_init)), requires_grad=learn_bias
        )
        self.project_on_sphere()
        self._test_scores: dict[str, list] = defaultdict(list)
        self._test_labels: dict[str, list] = defaultdict(list)
        self._records: list[dict] = []

    @torch.no_grad()
    def project_on_sphere(self) -> None:
        """Impose w.w = N for every student (eq. 1.33)."""
        self.weight.mul_(math.sqrt(self.n_features) / self.weight.norm(dim=1, keepdim=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Student fields h (K, B) = w.S/sqrt(N) + b for inputs x (K, B, N)."""
        return (
            torch.einsum("kbn,kn->kb", x, self.weight) / math.sqrt(self.n_features)
            + self.bias[:, None]
        )

    def loss_and_gradients(
        self, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-student mini-batch loss and its exact gradients, in closed form.

        L_k = mean_b 1/2 (sigma(h_kb) - y_kb)^2 with h = w.S/sqrt(N) + b, so
        dL_k/dh_kb = (sigma - y) sigma (1 - sigma) / B. Written out instead of autograd because
        a step costs a few tiny batched matmuls and autograd's bookkeeping would dominate
        (2.4x slower, measured); ``tests/test_perceptron.py`` checks it against autograd.
        ``weight`` (K, B), per-sample loss weights (``imbalance.method=reweight``):
        L_k = mean_b w_kb 1/2 (sigma - y)^2, still divided by B (the weights average to 1 over
        the data set, so T_eff = lr/BS keeps its meaning).
        """
        scale = 1.0 / math.sqrt(self.n_features)
        h = torch.bmm(x, self.weight.detach()[:, :, None]).squeeze(2).mul_(scale)
        h.add_(self.bias.detach()[:, None])
        p = torch.sigmoid(h)
        residual = p - y
        if weight is None:
            loss = 0.5 * residual.pow(2).mean(dim=1)
        else:
            loss = 0.5 * (weight * residual.pow(2)).mean(dim=1)
            residual.mul_(weight)
        dh = residual.mul_(p * (1 - p)).div_(x.shape[1])
        grad_w = torch.bmm(dh[:, None, :], x).squeeze(1).mul_(scale)
        return loss, grad_w, dh.sum(dim=1)

    @torch.no_grad()
    def sgd_step(
        self, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One plain SGD step of every student, then back onto the sphere (eq. 1.33)."""
        loss, grad_w, grad_b = self.loss_and_gradients(x, y, weight)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # data-parallel SGD: average the gradients of the ranks' shares of the batch
            for grad in (grad_w, grad_b):
                torch.distributed.all_reduce(grad)
                grad.div_(torch.distributed.get_world_size())
        self.weight.add_(grad_w, alpha=-self.lr)
        if self.bias.requires_grad:
            self.bias.add_(grad_b, alpha=-self.lr)
        self.project_on_sphere()
        return loss

    def training_step(self, batch, batch_idx):
        """Plain SGD over the mini-batches of one chunk (see ``ReplicaBatches``); a full batch
        arrives once with ``len(step_sizes)`` gradient-descent steps to take on it. A fourth
        item, per-sample loss weights, comes with ``imbalance.method=reweight``."""
        x_chunk, y_chunk, step_sizes, *weight = batch
        tensors = (x_chunk, y_chunk, *weight)
        if sum(step_sizes) == x_chunk.shape[1]:
            steps = zip(*(t.split(step_sizes, dim=1) for t in tensors))
        else:  # full batch, repeated (step_sizes = [n] * steps)
            steps = (tensors for _ in step_sizes)
        losses = [self.sgd_step(*step) for step in steps]
        loss = torch.stack(losses).mean()
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True, sync_dist=True)

    def on_train_start(self) -> None:
        self.log_dict({"T_eff": self.temperature})  # hyper-parameter shown in every logger

    def configure_optimizers(self):
        return None  # plain SGD is applied in closed form by ``sgd_step``

    # ---- evaluation -------------------------------------------------------------------
    def test_step(self, batch, batch_idx):
        scores = self(batch["x"]).detach().cpu().numpy()
        self._test_scores[batch["name"]].append(scores)
        self._test_labels[batch["name"]].append(batch["y"].cpu().numpy())

    @torch.no_grad()
    def _replica_observables(self) -> dict[str, np.ndarray]:
        """Teacher overlap R = w.w0/N, learned bias, training error (unweighted) and the
        effective training class fraction the loss saw (``data._rebalance``), per resampling."""
        datamodule = self.trainer.datamodule
        teacher = datamodule.teacher_weights.to(self.weight)
        train_scores = torch.cat([self(x) for x in datamodule.train_x.split(4096, dim=1)], dim=1)
        train_error = ((train_scores > 0).float() != datamodule.train_y).float().mean(dim=1)
        return {
            "R": ((self.weight * teacher).sum(dim=1) / self.n_features).cpu().numpy(),
            "b": self.bias.detach().cpu().numpy(),
            "train_error": train_error.cpu().numpy(),
            "effective_rho": effective_rho(
                datamodule.train_y, getattr(datamodule, "train_weight", None)
            ).numpy(),
        }

    def on_test_epoch_end(self) -> None:
        per_replica = {f"test/{k}": v for k, v in self._replica_observables().items()}
        for name in self._test_scores:
            scores = np.concatenate(self._test_scores[name], axis=1)
            labels = np.concatenate(self._test_labels[name], axis=1)
            for metric, values in classification_metrics(scores, labels).items():
                per_replica[f"{name}/{metric}"] = values
        self._test_scores.clear()
        self._test_labels.clear()
        self.log_dict({key: float(np.nanmean(v)) for key, v in per_replica.items()})
        n_replicas = self.weight.shape[0]
        self._records = [
            {"resampling": k, **{key: float(v[k]) for key, v in per_replica.items()}}
            for k in range(n_replicas)
        ]

    def records(self) -> list[dict]:
        """One row of test observables per quenched resampling."""
        return self._records

    def extra_results(self) -> dict[str, float]:
        return {"T_eff": self.temperature, "n_replicas": int(self.weight.shape[0])}
