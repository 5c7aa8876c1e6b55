"""SE(3)-equivariant GNN for the dynamic propensity of glass formers (thesis §2.4.2, Fig. 2.8).

Architecture (per graph: nodes = particles, directed edges j -> i with ``a_ij = r_j - r_i``):

* edge embedding: spherical harmonics ``Y^l(a_ij / |a_ij|)``, l <= l_max, and a Bessel basis of
  ``|a_ij|`` (eq. 2.66), shared by every layer;
* node inputs: l = 0 scalars (one-hot type [+ E_pot] [+ a constant channel]) fed to *every*
  layer (Fig. 2.8);
* ``n_layers`` SE(3) convolutions (eqs. 2.64, 2.65, 2.67), each followed by the equivariant
  batch norm (eqs. 2.68-2.69), with residual connections from the second layer on:
  ``h^(1) = BN(conv(x))``, ``h^(L+1) = h^(L) + BN(conv([x, h^(L)]))``;
* decoder: invariant features ``|h^(L_max)|`` (l = 0 channels and norms of the l >= 1 ones,
  ``channels * (l_max + 1)`` numbers) -> one linear map per (particle type, timescale)
  (eq. 2.70, no bias).

:func:`parameter_breakdown` counts parameters per component and compares with the thesis.
"""

from __future__ import annotations

import torch
from e3nn import nn as enn
from e3nn import o3
from torch import nn

from interplay.core import check_int_at_least
from interplay.glass.nn._layers import SE3Conv, hidden_irreps, invariant_features
from interplay.glass.nn._radial import BesselBasis
from interplay.glass.nn.kernels import sh_irreps

# Thesis §2.4.2 "Number of parameters" (multi-variate: 8 channels, l_max 3, 8 layers, 2 types,
# 10 timescales, no E_pot).
THESIS_COUNTS = {
    "radial_mlp": 35_664,
    "mixing": 16_000,
    "decoders": 640,
    "total": 52_304,
    "univariate_total": 23_210,
}


class SE3GNN(nn.Module):
    """Multi- or uni-variate propensity regressor (§2.4.2).

    Args:
        n_node_scalars: columns of ``data.x`` (one-hot types, +1 with E_pot). From the data:
            the LightningModule completes the ``net`` partial of the config with it.
        n_timescales: outputs per particle (10 multi-variate, 1 uni-variate). From the data.
        n_types: particle types (decoders per type).
        channels: hidden channels per l (8 multi-variate, 4 uni-variate). l_max: max order.
        n_layers: number of convolutions (8). n_basis, r_cut: Bessel basis (10, 2.0).
        radial_hidden, radial_dropout, radial_out_activation: radial MLP (16, 0.3, True).
        bn_momentum: running-average momentum of the equivariant BN (thesis 0.5).
        bn_affine: learn the beta/gamma of eqs. 2.68-2.69 (+ 5*channels... per layer, see
            docs/se3gnn.md; the thesis count of 52,304 excludes them).
        residual: ResNet-style connections. constant_scalar: add a constant-1 input scalar
            channel (the third input scalar implied by the thesis parameter count).
        decoder_bias: add a bias to each linear decoder (not in eq. 2.70).
        conv_impl: tensor-product kernel (a name of interplay.glass.nn.kernels.CONV_IMPLS).
    """

    def __init__(
        self,
        n_node_scalars: int = 2,
        n_timescales: int = 1,
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
    ):
        super().__init__()
        self.n_node_scalars = check_int_at_least("model.n_node_scalars", n_node_scalars, 1)
        self.n_timescales = check_int_at_least("model.n_timescales", n_timescales, 1)
        self.n_types = check_int_at_least("model.net.n_types", n_types, 1)
        self.channels = check_int_at_least("model.net.channels", channels, 1)
        self.l_max = check_int_at_least("model.net.l_max", l_max, 0)
        self.n_layers = check_int_at_least("model.net.n_layers", n_layers, 1)
        self.residual = residual
        self.constant_scalar = constant_scalar
        self.n_scalars = n_node_scalars + int(constant_scalar)

        self.irreps_sh = sh_irreps(l_max)
        self.irreps_hidden = hidden_irreps(channels, l_max)
        self.basis = BesselBasis(n_basis, r_cut)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for layer in range(n_layers):
            self.convs.append(
                SE3Conv(
                    n_scalars=self.n_scalars,
                    channels_in=0 if layer == 0 else channels,
                    l_max_in=l_max,
                    channels_out=channels,
                    l_max=l_max,
                    n_basis=n_basis,
                    radial_hidden=radial_hidden,
                    radial_dropout=radial_dropout,
                    radial_out_activation=radial_out_activation,
                    conv_impl=conv_impl,
                )
            )
            # eqs. 2.68-2.69: scalars centred and scaled, l >= 1 only rescaled by their norm
            self.norms.append(
                enn.BatchNorm(self.irreps_hidden, momentum=bn_momentum, affine=bn_affine)
            )
        self.n_invariants = channels * (l_max + 1)
        # eq. 2.70: one linear decoder per (particle type, timescale)
        # zero init: the first predictions are 0 instead of O(1) noise (propensity fluctuations
        # are O(0.01-0.1)), the decoders then learn the scale before the backbone moves
        self.decoder_weight = nn.Parameter(torch.zeros(n_types, n_timescales, self.n_invariants))
        self.decoder_bias = (
            nn.Parameter(torch.zeros(n_types, n_timescales)) if decoder_bias else None
        )

    # ------------------------------------------------------------------ pieces
    def embed_edges(self, edge_vec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge vectors (E, 3) -> (spherical harmonics (E, sh dim), Bessel basis (E, N_b))."""
        sh = o3.spherical_harmonics(
            self.irreps_sh, edge_vec, normalize=True, normalization="component"
        )
        return sh, self.basis(edge_vec.norm(dim=-1))

    def input_scalars(self, x: torch.Tensor) -> torch.Tensor:
        if self.constant_scalar:
            x = torch.cat([x, x.new_ones(x.shape[0], 1)], dim=-1)
        return x

    def representation(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_vec: torch.Tensor
    ) -> torch.Tensor:
        """Equivariant features ``h^(L_max)`` (N, irreps_hidden.dim) of the last layer."""
        if x.shape[-1] != self.n_node_scalars:
            from interplay.core import DataError

            raise DataError(
                f"node features have {x.shape[-1]} columns but the model was built with "
                f"n_node_scalars={self.n_node_scalars} (check the DataModule's model_kwargs)."
            )
        scalars = self.input_scalars(x)
        sh, basis = self.embed_edges(edge_vec)
        src, dst = edge_index[0], edge_index[1]
        h = None
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h_in = scalars if h is None else torch.cat([scalars, h], dim=-1)  # Fig. 2.8 re-feed
            update = norm(conv(h_in, sh, basis, src, dst))
            h = update if (h is None or not self.residual) else h + update
        return h

    def invariants(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_vec: torch.Tensor
    ) -> torch.Tensor:
        """``|h^(L_max)|`` (N, channels * (l_max + 1)), the decoders' input (§2.4.2)."""
        h = self.representation(x, edge_index, edge_vec)
        return invariant_features(h, self.channels, self.l_max)

    def decode(self, invariants: torch.Tensor, node_type: torch.Tensor) -> torch.Tensor:
        """eq. 2.70: ``y_{i,t} = w_{type_i, t} . |h_i|`` -> (N, n_timescales)."""
        w = self.decoder_weight[node_type]  # (N, T, F)
        y = torch.einsum("ntf,nf->nt", w, invariants)
        if self.decoder_bias is not None:
            y = y + self.decoder_bias[node_type]
        return y

    def forward(self, data) -> torch.Tensor:
        """A torch_geometric ``Data``/``Batch`` (x, node_type, edge_index, edge_vec) -> (N, T)."""
        inv = self.invariants(data.x, data.edge_index, data.edge_vec)
        return self.decode(inv, data.node_type)

    def summary(self) -> str:
        """Per-component parameter table with the thesis numbers (logged at construction)."""
        return format_breakdown(self)

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per component, reported as ``n_parameters_<component>`` in results.json."""
        b = parameter_breakdown(self)
        return {k: b[k] for k in ("radial_mlp", "mixing", "batchnorm", "decoders")}

    def backbone_parameters(self):
        """Everything but the decoders (frozen for transfer-learning, §2.4.4)."""
        for name, p in self.named_parameters():
            if not name.startswith("decoder_"):
                yield p

    def decoder_parameters(self):
        return [p for p in (self.decoder_weight, self.decoder_bias) if p is not None]


def parameter_breakdown(model: SE3GNN) -> dict[str, int]:
    """Trainable parameters per component: radial MLPs, channel mixing, equivariant BN,
    decoders (per layer too: ``radial_mlp/L0``, ``mixing/L0``, ...) and the total."""
    out: dict[str, int] = {}
    for layer, conv in enumerate(model.convs):
        out[f"radial_mlp/L{layer}"] = sum(p.numel() for p in conv.radial.parameters())
        out[f"mixing/L{layer}"] = sum(p.numel() for p in conv.mixing.parameters())
        out[f"kernel/L{layer}"] = sum(p.numel() for p in conv.kernel.parameters())
        out[f"radial_out/L{layer}"] = conv.kernel.weight_numel
    out["radial_mlp"] = sum(out[f"radial_mlp/L{i}"] for i in range(model.n_layers))
    out["mixing"] = sum(out[f"mixing/L{i}"] for i in range(model.n_layers))
    out["batchnorm"] = sum(p.numel() for p in model.norms.parameters())
    out["decoders"] = sum(p.numel() for p in model.decoder_parameters())
    out["total"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return out


def format_breakdown(model: SE3GNN) -> str:
    """Human-readable breakdown, with the thesis numbers alongside (§2.4.2)."""
    b = parameter_breakdown(model)
    n_layers = model.n_layers
    lines = [
        f"SE3GNN parameters (channels={model.channels}, l_max={model.l_max}, "
        f"layers={n_layers}, input scalars={model.n_scalars}, "
        f"decoders={model.n_types}x{model.n_timescales})",
        f"  radial MLP L0      (10,16,{b['radial_out/L0']:>3}) {b['radial_mlp/L0']:>7,}",
    ]
    if n_layers > 1:
        lines.append(
            f"  radial MLP L>0 each (10,16,{b['radial_out/L1']:>3}) {b['radial_mlp/L1']:>7,}"
        )
    lines += [f"  radial MLPs total              {b['radial_mlp']:>7,}   (thesis 35,664)"]
    lines += [f"  mixing L0                      {b['mixing/L0']:>7,}   (thesis 96)"]
    if n_layers > 1:
        lines.append(f"  mixing L>0 each                {b['mixing/L1']:>7,}   (thesis 2,272)")
    lines += [
        f"  mixing total                   {b['mixing']:>7,}   (thesis 16,000)",
        f"  equivariant BN (affine)        {b['batchnorm']:>7,}   (thesis: not counted)",
        f"  decoders                       {b['decoders']:>7,}   (thesis 20 x 32 = 640)",
        f"  total                          {b['total']:>7,}   (thesis 52,304)",
    ]
    return "\n".join(lines)
