"""Equivariant building blocks of the SE(3)-GNN (thesis §2.3.4 and §2.4.2).

* :func:`hidden_irreps`, :func:`conv_input_irreps` -- the irreps of the features.
* :class:`SE3Conv` -- radial MLP (eq. 2.67) + kernel (eq. 2.64) + self-interaction (eq. 2.65).
* :func:`invariant_features` -- the decoder input ``|h^(L_max)|`` (§2.4.2 "Decoder").

The tensor-product kernels of eq. 2.64 (``model.net.conv_impl``) live in :mod:`.kernels`.
Irreps use even parity for every l: the network is SE(3)- (not E(3)-) equivariant.
"""

from __future__ import annotations

import torch
from e3nn import o3
from torch import nn

from interplay.glass.nn._mixing import ChannelMixing
from interplay.glass.nn._radial import RadialMLP
from interplay.glass.nn.kernels import make_kernel


def hidden_irreps(channels: int, l_max: int) -> o3.Irreps:
    """``channels x l`` for l = 0..l_max, even parity (eq. 2.62)."""
    return o3.Irreps([(channels, (l, 1)) for l in range(l_max + 1)])


def conv_input_irreps(n_scalars: int, channels: int, l_max_in: int) -> o3.Irreps:
    """Node features entering a convolution: the input scalars re-fed to every layer (one-hot
    types [+ E_pot] [+ constant], Fig. 2.8) concatenated *before* the hidden l = 0 channels,
    then the hidden l >= 1 channels. Layer 0 (no hidden features yet): ``n_scalars x 0e``."""
    if channels == 0:
        return o3.Irreps([(n_scalars, (0, 1))])
    pieces = [(n_scalars + channels, (0, 1))]
    pieces += [(channels, (l, 1)) for l in range(1, l_max_in + 1)]
    return o3.Irreps(pieces)


# ------------------------------------------------------------------ convolution layer (Fig. 2.6)


class SE3Conv(nn.Module):
    """One SE(3) convolution (Fig. 2.6): radial MLP (eq. 2.67) -> channel-wise CG convolution
    (eq. 2.64) -> self-interaction mixing triplets and channels per l_O (eq. 2.65, no bias).

    Args:
        n_scalars: input node scalars re-fed to this layer (one-hot types [+ E_pot] [+ 1]).
        channels_in: hidden channels entering (0 for the first layer). l_max_in: their l_max.
        channels_out, l_max: output hidden channels and rotational order (also l_F <= l_max).
        n_basis, radial_hidden, radial_dropout, radial_out_activation: radial MLP (eq. 2.67).
        conv_impl: registered :class:`TensorProductKernel` ("e3nn" = reference).
    """

    def __init__(
        self,
        n_scalars: int,
        channels_in: int,
        l_max_in: int,
        channels_out: int,
        l_max: int,
        n_basis: int = 10,
        radial_hidden: int = 16,
        radial_dropout: float = 0.3,
        radial_out_activation: bool = True,
        conv_impl: str = "e3nn",
    ):
        super().__init__()
        self.irreps_in = conv_input_irreps(n_scalars, channels_in, l_max_in)
        self.irreps_out = hidden_irreps(channels_out, l_max)
        self.kernel = make_kernel(conv_impl, self.irreps_in, l_max)
        self.radial = RadialMLP(
            n_basis, radial_hidden, self.kernel.weight_numel, radial_dropout, radial_out_activation
        )
        # eq. 2.65: per l_O, one linear map from all (triplet, channel) pieces to channels_out
        self.mixing = ChannelMixing(self.kernel.irreps_mid, self.irreps_out)

    def forward(
        self,
        h_in: torch.Tensor,
        sh: torch.Tensor,
        radial_basis: torch.Tensor,
        edge_src: torch.Tensor,
        edge_dst: torch.Tensor,
    ) -> torch.Tensor:
        """``h_in`` (N, irreps_in.dim) holds the re-fed scalars; returns (N, irreps_out.dim)."""
        kernel = self.kernel
        weight = self.radial(radial_basis, kernel.weight_order, kernel.weight_split)  # eq. 2.67
        mid = kernel(h_in, sh, weight, edge_src, edge_dst, h_in.shape[0])  # eq. 2.64
        return self.mixing(mid)  # eq. 2.65


def invariant_features(
    h: torch.Tensor, channels: int, l_max: int, eps: float = 1e-12
) -> torch.Tensor:
    """``|h|`` of §2.4.2: the l = 0 channels as they are (signed) and, for each l >= 1 and
    channel, the norm ``sqrt(sum_m h_m^2)``: (N, channels * (l_max + 1))."""
    feats = [h[:, :channels]]
    start = channels
    for l in range(1, l_max + 1):
        dim = 2 * l + 1
        block = h[:, start : start + channels * dim].reshape(-1, channels, dim)
        feats.append(torch.sqrt(block.pow(2).sum(-1) + eps))
        start += channels * dim
    return torch.cat(feats, dim=-1)
