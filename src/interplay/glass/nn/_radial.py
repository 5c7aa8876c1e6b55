"""Radial part of the SE(3) convolution filters (thesis §2.4.2, eqs. 2.66-2.67).

The filter of eq. 2.64 factorises into an angular part (spherical harmonics of the edge
direction) and a learned radial part ``phi(|a_ij|)``: the edge length is expanded in a Bessel
basis (eq. 2.66) and fed to a small MLP (eq. 2.67) that outputs one real weight per
(l_I, l_F, l_O, channel) combination.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from interplay.core import ConfigError, check_int_at_least, check_positive


class BesselBasis(nn.Module):
    """``B_n(r) = sqrt(2 / r_c) sin(n pi r / r_c) / r`` for ``n = 1..N_b`` (eq. 2.66).

    Args:
        n_basis: N_b (thesis: 10). r_cut: r_c (thesis: r_c = d_c = 2).
    """

    def __init__(self, n_basis: int = 10, r_cut: float = 2.0):
        super().__init__()
        self.n_basis = check_int_at_least("model.net.n_basis", n_basis, 1)
        self.r_cut = check_positive("model.net.r_cut", r_cut)
        self.register_buffer(
            "freqs", torch.arange(1, n_basis + 1, dtype=torch.float32) * math.pi / r_cut
        )
        self.prefactor = math.sqrt(2.0 / r_cut)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        """Edge lengths (E,) -> basis values (E, N_b)."""
        r = r.unsqueeze(-1)
        return self.prefactor * torch.sin(self.freqs * r) / r


class RadialMLP(nn.Module):
    """``phi = sigma(W2 Dropout(BN(sigma(W1 B(r)))))`` with biases (eq. 2.67).

    Layer sizes ``(N_b, hidden, n_out)``; ``n_out`` = number of (triplet, channel) weights of
    the tensor product it feeds. Parameters: ``N_b*h + h`` (W1, b1) + ``2h`` (BN affine) +
    ``h*n_out + n_out`` (W2, b2) -- e.g. (10, 16, 284) -> 5,036 and (10, 16, 12) -> 412, the
    thesis counts.

    Args:
        n_basis, hidden, n_out: layer sizes. dropout: rate p (thesis 0.3).
        out_activation: apply the outer ReLU of eq. 2.67 (True, as in the thesis) or leave the
            filter weights signed (False).
    """

    def __init__(
        self,
        n_basis: int,
        hidden: int,
        n_out: int,
        dropout: float = 0.3,
        out_activation: bool = True,
    ):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"model.net.radial_dropout={dropout!r} must be in [0, 1).")
        self.lin1 = nn.Linear(n_basis, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.dropout = nn.Dropout(dropout)
        self.lin2 = nn.Linear(hidden, n_out)
        self.out_activation = out_activation

    def forward(
        self,
        basis: torch.Tensor,
        out_order: torch.Tensor | None = None,
        out_split: list[int] | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """(E, N_b) basis values -> (E, n_out) filter weights; with ``out_order``, their columns
        in that order, and with ``out_split``, as contiguous column blocks of those sizes (the
        rows of W2, b2 are permuted and split: free, unlike permuting or splitting the output)."""
        hidden = self.dropout(self.bn(torch.relu(self.lin1(basis))))
        w2, b2 = self.lin2.weight, self.lin2.bias
        if out_order is not None:
            w2, b2 = w2[out_order], b2[out_order]
        if out_split is None:
            return self._activate(nn.functional.linear(hidden, w2, b2))
        return tuple(
            self._activate(nn.functional.linear(hidden, w, b))
            for w, b in zip(w2.split(out_split), b2.split(out_split), strict=True)
        )

    def _activate(self, out: torch.Tensor) -> torch.Tensor:
        # in place: the (E, n_out) output is the largest tensor of the layer, and a second one
        # (allocated and first touched) cost as much as the linear map itself on CPU
        return out.relu_() if self.out_activation else out
