"""The contract and registry of the tensor-product kernels of the SE(3) convolution (eq. 2.64).

* :func:`triplets` -- the (l_I, l_F, l_O) Clebsch-Gordan paths of eq. 2.64 (34 for l_max = 3).
* :class:`TensorProductKernel` -- the swappable core of eq. 2.64 (gather, channel-wise CG
  product with the spherical harmonics weighted by the radial filter, scatter-sum).
* :func:`register_conv_impl` / :func:`make_kernel` -- ``model.net.conv_impl`` names a kernel.

Irreps use even parity for every l (``"0e + 1e + 2e + 3e"``): the network is SE(3)- (not
E(3)-) equivariant, as in the thesis, and every triangle-allowed triplet is a path -- which
is what gives 34 triplets for l_max = 3 (parity-respecting paths would give fewer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from e3nn import o3
from torch import nn

from interplay.core import ConfigError


@dataclass(frozen=True)
class Triplet:
    """One CG path of eq. 2.64: input order l_in, filter order l_filter, output order l_out,
    applied channel-wise to ``mul`` channels (one radial weight per channel)."""

    l_in: int
    l_filter: int
    l_out: int
    mul: int


def sh_irreps(l_max: int) -> o3.Irreps:
    """Spherical harmonics ``Y^0 .. Y^l_max`` of the edge direction (even parity: SE(3))."""
    return o3.Irreps([(1, (l, 1)) for l in range(l_max + 1)])


def triplets(irreps_in: o3.Irreps, l_max: int) -> list[Triplet]:
    """All triangle-allowed paths ``(l_I, l_F, l_O)`` with l_F, l_O <= l_max, in kernel order:
    input irrep piece, then l_F, then l_O (ascending)."""
    out = []
    for mul, ir in irreps_in:
        for l_f in range(l_max + 1):
            for l_o in range(abs(ir.l - l_f), min(ir.l + l_f, l_max) + 1):
                out.append(Triplet(ir.l, l_f, l_o, mul))
    return out


CONV_IMPLS: dict[str, type[TensorProductKernel]] = {}


def register_conv_impl(name: str):
    """Class decorator: make a :class:`TensorProductKernel` selectable as ``conv_impl=name``.

    Contract: the class subclasses :class:`TensorProductKernel`, takes ``(irreps_in, l_max)``
    and computes the function of the e3nn reference kernel (tests/unit/glass/nn/test_fast_conv.py
    checks outputs and gradients against it). Its module is imported by
    ``interplay.glass.nn.kernels.__init__``, which is what registers it; a name is registered
    once."""

    def wrap(cls):
        if not (isinstance(cls, type) and issubclass(cls, TensorProductKernel)):
            raise TypeError(f"{cls!r} is not a TensorProductKernel subclass")
        if CONV_IMPLS.get(name, cls) is not cls:
            raise ValueError(f"conv_impl {name!r} is already registered ({CONV_IMPLS[name]})")
        CONV_IMPLS[name] = cls
        return cls

    return wrap


def make_kernel(conv_impl: str, irreps_in: o3.Irreps, l_max: int) -> TensorProductKernel:
    """Instantiate the kernel registered as ``conv_impl`` (``model.net.conv_impl``)."""
    if conv_impl not in CONV_IMPLS:
        raise ConfigError(
            f"model.net.conv_impl={conv_impl!r} is not available: "
            f"choose one of {sorted(CONV_IMPLS)}."
        )
    return CONV_IMPLS[conv_impl](irreps_in, l_max)


class TensorProductKernel(nn.Module):
    """Contract of the swappable convolution core (eq. 2.64), summed over neighbours::

        out_i[t, c] = sum_{j -> i} weight_ij[t, c] * CG_t( Y^{l_F}(a_ij), h_j[l_I, c] )

    * ``h`` (N, irreps_in.dim): node features in e3nn layout (per irrep piece: channel-major,
      then m). ``sh`` (E, irreps_sh.dim): component-normalised real spherical harmonics.
    * ``weight`` (E, weight_numel): radial filter values laid out ``[triplet][channel]`` in the
      order of :attr:`triplets` -- or, when :attr:`weight_order` is set, those columns in that
      order (``weight[:, weight_order]``; a column may repeat, e.g. for padded channels
      whose gradient is zero), and when :attr:`weight_split` is set, a tuple of
      contiguous column blocks of those sizes (see :meth:`kernel_weights`).
    * ``edge_src`` = j (row 0 of edge_index), ``edge_dst`` = i (row 1); messages are summed at i.
    * Output (N, irreps_mid.dim): one ``mul x l_O`` block per triplet, in triplet order, with
      e3nn's path weights (irrep_normalization='component', path_normalization='element').

    A faster implementation subclasses this with the same constructor and must match
    :class:`E3nnKernel` numerically (it may read ``self.path_weights``). It may ask for its
    radial weights in another column order (``weight_order``), split into blocks that are
    contiguous in memory (``weight_split``): :class:`SE3Conv` then permutes and splits the rows
    of its filter network's last linear map, which costs nothing per edge, instead of the
    kernel copying (E, weight_numel) values per call.
    """

    def __init__(self, irreps_in: o3.Irreps, l_max: int):
        super().__init__()
        self.irreps_in = o3.Irreps(irreps_in)
        self.irreps_sh = sh_irreps(l_max)
        self.triplets = triplets(self.irreps_in, l_max)
        self.irreps_mid = o3.Irreps([(t.mul, (t.l_out, 1)) for t in self.triplets])
        self.weight_numel = sum(t.mul for t in self.triplets)
        # column order of the radial weights this kernel reads (None: [triplet][channel]);
        # a buffer so that it follows the module's device, not saved in checkpoints
        self.register_buffer("weight_order", None, persistent=False)
        self.weight_split: list[int] | None = None  # sizes of the contiguous column blocks

    def forward(
        self,
        h: torch.Tensor,
        sh: torch.Tensor,
        weight: torch.Tensor | tuple[torch.Tensor, ...],
        edge_src: torch.Tensor,
        edge_dst: torch.Tensor,
        num_nodes: int,
    ) -> torch.Tensor:
        raise NotImplementedError

    def kernel_weights(self, weight: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """Radial weights in ``[triplet][channel]`` layout -> the layout :meth:`forward` reads."""
        if self.weight_order is not None:
            weight = weight.index_select(-1, self.weight_order)
        return self.split_weights(weight)

    def split_weights(self, weight: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """(E, weight_numel) already in :attr:`weight_order` -> the contiguous blocks of
        :attr:`weight_split` (unchanged when the kernel reads one tensor)."""
        if self.weight_split is None:
            return weight
        return tuple(w.contiguous() for w in weight.split(self.weight_split, dim=-1))
