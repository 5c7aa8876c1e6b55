"""LightningModule of every gradient-trained propensity network (thesis §2.4.2-2.4.3).

One shape for every model (lightning-hydra-template): ``conf/model/<name>.yaml`` names this
module as ``_target_`` and passes it

* ``net``: the network, a partial (``_partial_: true``) of a torch module of
  :mod:`interplay.glass.nn` (:class:`~interplay.glass.nn.SE3GNN`,
  :class:`~interplay.glass.nn.BapstGNN`, ...) that still lacks the data-known sizes
  ``n_node_scalars`` and ``n_timescales``; this module completes it with the sizes that the
  DataModule's ``model_kwargs()`` passes. Each architecture argument is therefore written once
  in the YAML and once in the network's signature, never here;
* ``optimizer``: a partial of a ``torch.optim`` optimizer (thesis: Adam, lr 1e-3, betas
  (0.99, 0.999), weight decay 1e-7), completed with the trainable parameters;
* ``scheduler`` (or null): a partial of a ``torch.optim.lr_scheduler`` scheduler stepped once
  per epoch (thesis: MultiStepLR, lr halved at the configured epochs), completed with the
  optimizer; or of :class:`~interplay.glass.models.RunLengthLR` (``per_step``), completed with
  the optimizer and the run's total optimizer steps and stepped every step, so that its lr
  drops sit at fractions of ``trainer.max_epochs`` whatever the budget;
* ``gradient_clip_norm`` (or null): clip the global gradient norm before every step (Bapst et
  al.: 1.0); ``trainer.gradient_clip_val``, when set, takes precedence.

Loss (MSE per timescale, summed over timescales, Fig. 2.9), label normalisation, validation /
test observables and outputs are those of :class:`~interplay.glass.models._base.PropensityBase`,
shared with the closed-form baselines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import torch
from torch import nn

from interplay.core import ConfigError, check_positive
from interplay.glass.models._base import HPARAMS_IGNORE, PropensityBase

log = logging.getLogger(__name__)

NetFactory = Callable[..., nn.Module]


def build_net(net: nn.Module | NetFactory, n_node_scalars: int, n_timescales: int) -> nn.Module:
    """The network itself, or the ``net`` partial of the config completed with the data sizes."""
    if isinstance(net, nn.Module):
        return net
    return net(n_node_scalars=n_node_scalars, n_timescales=n_timescales)


class PropensityModule(PropensityBase):
    """Train / evaluate a propensity network ``graph batch -> (N, n_timescales)`` (module doc).

    The network may define ``summary() -> str`` (logged at construction) and
    ``parameter_counts() -> dict[str, int]`` (reported as ``n_parameters_<component>`` next to
    ``n_parameters`` by :meth:`extra_results`); :class:`~interplay.glass.nn.SE3GNN` gives its
    per-component breakdown (§2.4.2 "Number of parameters").

    Args:
        net: the network or a partial of it lacking ``n_node_scalars`` / ``n_timescales``.
        optimizer: partial of a ``torch.optim`` optimizer lacking the parameters.
        scheduler: partial of an epoch-wise ``torch.optim.lr_scheduler`` lacking the optimizer,
            or None (constant learning rate).
        n_node_scalars, n_timescales, time_indices: from the DataModule's ``model_kwargs()``.
        target_norm: regress per-timescale standardised propensities (training-set mean / std,
            computed at the start of fit and stored in the checkpoint); predictions are mapped
            back to propensity units. False = raw MSE as in the thesis.
        gradient_clip_norm: global L2 norm the gradients are clipped to (None: no clipping).
        figures, g4_r_max, g4_bins, output_dir, bootstrap, loss_types: see
            :class:`~interplay.glass.models._base.PropensityBase`.
    """

    def __init__(
        self,
        net: nn.Module | NetFactory,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        n_node_scalars: int = 2,
        n_timescales: int = 1,
        time_indices: Sequence[int] | None = None,
        target_norm: bool = False,
        figures: bool = True,
        g4_r_max: float = 6.0,
        g4_bins: int = 44,
        output_dir: str | None = None,
        bootstrap: dict | None = None,
        loss_types: Sequence[int] | None = None,
        gradient_clip_norm: float | None = None,
    ):
        if time_indices is not None:
            time_indices = [int(t) for t in time_indices]
        super().__init__(
            n_timescales=n_timescales,
            time_indices=time_indices,
            target_norm=target_norm,
            figures=figures,
            g4_r_max=g4_r_max,
            g4_bins=g4_bins,
            output_dir=output_dir,
            bootstrap=bootstrap,
            loss_types=loss_types,
        )
        self.gradient_clip_norm = (
            None
            if gradient_clip_norm is None
            else check_positive("model.gradient_clip_norm", gradient_clip_norm)
        )
        self.save_hyperparameters(ignore=HPARAMS_IGNORE)
        lr = getattr(optimizer, "keywords", {}).get("lr")
        if lr is not None:  # torch accepts lr = 0: a run that never moves is a config error
            check_positive("model.optimizer.lr", lr)
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.net = build_net(net, n_node_scalars, n_timescales)
        summary = getattr(self.net, "summary", None)
        log.info("%s", summary() if summary else f"{type(self.net).__name__}")

    def predict_normalized(self, batch) -> torch.Tensor:
        return self.net(batch)

    def extra_results(self) -> dict[str, float]:
        results = super().extra_results()
        counts = getattr(self.net, "parameter_counts", None)
        if counts is not None:
            results.update({f"n_parameters_{k}": float(v) for k, v in counts().items()})
        return results

    def on_train_epoch_start(self) -> None:
        """Log this epoch's learning rate (``train/lr``): Fig. 2.9 marks where it drops."""
        lr = self.optimizers().param_groups[0]["lr"]
        self.log("train/lr", float(lr), on_step=False, on_epoch=True, batch_size=1)

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ) -> None:
        """``trainer.gradient_clip_val`` if set, else ``model.gradient_clip_norm`` (global
        norm over all parameters, as Bapst et al.'s ``clip_by_global_norm``)."""
        if gradient_clip_val is None and self.gradient_clip_norm is not None:
            gradient_clip_val, gradient_clip_algorithm = self.gradient_clip_norm, "norm"
        self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def total_steps(self) -> float:
        """Optimizer steps of the whole run, from the Trainer (for run-length schedules)."""
        if self._trainer is None:
            raise ConfigError(
                "a run-length scheduler (model.scheduler: RunLengthLR) needs the Trainer's "
                "run length: train through train.py / a Trainer, or use another scheduler"
            )
        return self.trainer.estimated_stepping_batches

    def configure_optimizers(self):
        """The configured optimizer on the trainable parameters; the scheduler, if any, is
        stepped once per epoch (§2.4.3: lr halved at the milestone epochs), or once per step
        with the run length when it is a run-length schedule (``per_step``)."""
        params = [p for p in self.parameters() if p.requires_grad]
        opt = self.optimizer_factory(params)
        if self.scheduler_factory is None:
            return opt
        target = getattr(self.scheduler_factory, "func", self.scheduler_factory)
        if getattr(target, "per_step", False):
            sched = self.scheduler_factory(opt, total_steps=self.total_steps())
            interval = "step"
        else:
            sched, interval = self.scheduler_factory(opt), "epoch"
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": interval}}
