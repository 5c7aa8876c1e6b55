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
  optimizer.

Loss (MSE per timescale, summed over timescales, Fig. 2.9), label normalisation, validation /
test observables and outputs are those of :class:`~interplay.glass.models._base.PropensityBase`,
shared with the closed-form baselines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import torch
from torch import nn

from interplay.core import check_positive
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
        figures, g4_r_max, g4_bins, output_dir, bootstrap: see
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

    def configure_optimizers(self):
        """The configured optimizer on the trainable parameters; the scheduler, if any, is
        stepped once per epoch (§2.4.3: lr halved at the milestone epochs)."""
        params = [p for p in self.parameters() if p.requires_grad]
        opt = self.optimizer_factory(params)
        if self.scheduler_factory is None:
            return opt
        sched = self.scheduler_factory(opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
