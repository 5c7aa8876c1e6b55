"""LightningModule: SE(3)-GNN propensity regression (thesis §2.4.2-2.4.3).

* Loss: mean squared error per timescale over all particles (A and B), summed over timescales
  (multi-variate regression, Fig. 2.9).
* Optimiser: Adam (lr 1e-3, betas (0.99, 0.999), weight decay 1e-7), learning rate halved at
  the configured epochs (MultiStepLR).
* Test: per-timescale Pearson for A and B (mean over configurations, and pooled), chi4^s(t),
  G4(r, t) of predictions and ground truth; logged as ``test/pearson_A_t{k}`` (k = the dataset's
  own time index), ``test/pearson_A`` (first / only timescale), ...; figures and an
  ``observables.npz`` are written into the run directory. All of this lives in the shared base
  :class:`interplay.glass.models._base.PropensityBase`, used by the baselines too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

from interplay.core import check_positive
from interplay.glass.models._base import TYPE_NAMES, PropensityBase, adam_with_halvings, split_batch
from interplay.glass.nn import SE3GNN, format_breakdown, parameter_breakdown

log = logging.getLogger(__name__)

__all__ = ["TYPE_NAMES", "PropensityModule"]
_split = split_batch  # backward-compatible name


class PropensityModule(PropensityBase):
    """Train / evaluate :class:`~interplay.glass.nn._se3gnn.SE3GNN` on glass graphs.

    Architecture arguments are those of :class:`SE3GNN`; ``n_node_scalars``, ``n_timescales``
    and ``time_indices`` come from the DataModule's ``model_kwargs()``. Label normalisation,
    loss, validation / test observables and outputs are those of
    :class:`~interplay.glass.models._base.PropensityBase` (shared with the baselines).

    Args:
        lr, betas, weight_decay: Adam (§2.4.3). lr_milestones, lr_gamma: MultiStepLR.
        target_norm: regress per-timescale standardised propensities (training-set mean / std,
            computed at the start of fit and stored in the checkpoint); predictions are mapped
            back to propensity units. False = raw MSE as in the thesis.
        figures: write PNGs (Pearson vs t, chi4 vs t, G4 vs r) at test end.
        g4_r_max, g4_bins: radial range / resolution of G4 (r_max capped at half the box).
        output_dir: where figures go (default: the Trainer's ``default_root_dir``).
    """

    def __init__(
        self,
        n_node_scalars: int = 2,
        n_timescales: int = 1,
        time_indices: Sequence[int] | None = None,
        n_types: int = 2,
        channels: int = 8,
        l_max: int = 3,
        n_layers: int = 8,
        n_basis: int = 10,
        r_cut: float = 2.0,
        radial_hidden: int = 16,
        radial_dropout: float = 0.3,
        radial_out_activation: bool = True,
        bn_momentum: float = 0.5,
        bn_affine: bool = False,
        residual: bool = True,
        constant_scalar: bool = True,
        decoder_bias: bool = False,
        conv_impl: str = "e3nn",
        lr: float = 1e-3,
        betas: Sequence[float] = (0.99, 0.999),
        weight_decay: float = 1e-7,
        lr_milestones: Sequence[int] = (),
        lr_gamma: float = 0.5,
        target_norm: bool = False,
        figures: bool = True,
        g4_r_max: float = 6.0,
        g4_bins: int = 44,
        output_dir: str | None = None,
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
        )
        self.save_hyperparameters()
        self.net = SE3GNN(
            n_node_scalars=n_node_scalars,
            n_timescales=n_timescales,
            n_types=n_types,
            channels=channels,
            l_max=l_max,
            n_layers=n_layers,
            n_basis=n_basis,
            r_cut=r_cut,
            radial_hidden=radial_hidden,
            radial_dropout=radial_dropout,
            radial_out_activation=radial_out_activation,
            bn_momentum=bn_momentum,
            bn_affine=bn_affine,
            residual=residual,
            constant_scalar=constant_scalar,
            decoder_bias=decoder_bias,
            conv_impl=conv_impl,
        )
        self.lr = check_positive("model.lr", lr)
        log.info("%s", format_breakdown(self.net))

    def predict_normalized(self, batch) -> torch.Tensor:
        return self.net(batch)

    def extra_results(self) -> dict[str, float]:
        b = parameter_breakdown(self.net)
        return {
            "n_parameters": float(b["total"]),
            "n_parameters_radial_mlp": float(b["radial_mlp"]),
            "n_parameters_mixing": float(b["mixing"]),
            "n_parameters_batchnorm": float(b["batchnorm"]),
            "n_parameters_decoders": float(b["decoders"]),
        }

    # ------------------------------------------------------------------ optimiser
    def configure_optimizers(self):
        hp = self.hparams
        return adam_with_halvings(
            self, self.lr, hp.weight_decay, hp.lr_milestones, hp.lr_gamma, betas=hp.betas
        )
