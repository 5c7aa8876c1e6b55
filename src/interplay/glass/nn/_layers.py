"""Equivariant building blocks of the SE(3)-GNN (thesis §2.3.4 and §2.4.2).

* :func:`triplets` -- the (l_I, l_F, l_O) Clebsch-Gordan paths of eq. 2.64 (34 for l_max = 3).
* :class:`TensorProductKernel` -- the swappable core of eq. 2.64 (gather, channel-wise CG
  product with the spherical harmonics weighted by the radial filter, scatter-sum), selected by
  ``conv_impl``; :class:`E3nnKernel` is the reference implementation.
* :class:`SE3Conv` -- radial MLP (eq. 2.67) + kernel (eq. 2.64) + self-interaction (eq. 2.65).
* :func:`invariant_features` -- the decoder input ``|h^(L_max)|`` (§2.4.2 "Decoder").

Irreps use even parity for every l (``"0e + 1e + 2e + 3e"``): the network is SE(3)- (not
E(3)-) equivariant, as in the thesis, and every triangle-allowed triplet is a path -- which
is what gives 34 triplets for l_max = 3 (parity-respecting paths would give fewer).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import torch
from e3nn import o3
from torch import nn

from interplay.core import ConfigError
from interplay.glass.nn._mixing import ChannelMixing
from interplay.glass.nn._radial import RadialMLP


@dataclass(frozen=True)
class Triplet:
    """One CG path of eq. 2.64: input order l_in, filter order l_filter, output order l_out,
    applied channel-wise to ``mul`` channels (one radial weight per channel)."""

    l_in: int
    l_filter: int
    l_out: int
    mul: int


def hidden_irreps(channels: int, l_max: int) -> o3.Irreps:
    """``channels x l`` for l = 0..l_max, even parity (eq. 2.62)."""
    return o3.Irreps([(channels, (l, 1)) for l in range(l_max + 1)])


def sh_irreps(l_max: int) -> o3.Irreps:
    """Spherical harmonics ``Y^0 .. Y^l_max`` of the edge direction (even parity: SE(3))."""
    return o3.Irreps([(1, (l, 1)) for l in range(l_max + 1)])


def conv_input_irreps(n_scalars: int, channels: int, l_max_in: int) -> o3.Irreps:
    """Node features entering a convolution: the input scalars re-fed to every layer (one-hot
    types [+ E_pot] [+ constant], Fig. 2.8) concatenated *before* the hidden l = 0 channels,
    then the hidden l >= 1 channels. Layer 0 (no hidden features yet): ``n_scalars x 0e``."""
    if channels == 0:
        return o3.Irreps([(n_scalars, (0, 1))])
    pieces = [(n_scalars + channels, (0, 1))]
    pieces += [(channels, (l, 1)) for l in range(1, l_max_in + 1)]
    return o3.Irreps(pieces)


def triplets(irreps_in: o3.Irreps, l_max: int) -> list[Triplet]:
    """All triangle-allowed paths ``(l_I, l_F, l_O)`` with l_F, l_O <= l_max, in kernel order:
    input irrep piece, then l_F, then l_O (ascending)."""
    out = []
    for mul, ir in irreps_in:
        for l_f in range(l_max + 1):
            for l_o in range(abs(ir.l - l_f), min(ir.l + l_f, l_max) + 1):
                out.append(Triplet(ir.l, l_f, l_o, mul))
    return out


# --------------------------------------------------------------------------- kernels (eq. 2.64)

CONV_IMPLS: dict[str, type[TensorProductKernel]] = {}


def register_conv_impl(name: str):
    """Class decorator: make a :class:`TensorProductKernel` selectable as ``conv_impl=name``."""

    def wrap(cls):
        CONV_IMPLS[name] = cls
        return cls

    return wrap


def make_kernel(conv_impl: str, irreps_in: o3.Irreps, l_max: int) -> TensorProductKernel:
    """Instantiate the kernel registered as ``conv_impl``; an unknown name is looked up in the
    modules ``interplay.glass.<name>_conv`` / ``interplay.glass.conv_<name>`` (where a faster
    implementation registers itself, e.g. ``fast`` in ``fast_conv``)."""
    for module in (f"interplay.glass.{conv_impl}_conv", f"interplay.glass.conv_{conv_impl}"):
        if conv_impl in CONV_IMPLS:
            break
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but one of its imports is missing
                raise
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
      order (``weight[:, weight_order]``), and when :attr:`weight_split` is set, a tuple of
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


@register_conv_impl("e3nn")
class E3nnKernel(TensorProductKernel):
    """Reference kernel: gather ``h[src]``, ``e3nn.o3.TensorProduct`` in ``uvu`` mode with
    per-edge weights (channel-wise, eq. 2.64), ``index_add`` onto the centres."""

    def __init__(self, irreps_in: o3.Irreps, l_max: int):
        super().__init__(irreps_in, l_max)
        instructions = []
        i_out = 0
        for i_in, (_, ir_in) in enumerate(self.irreps_in):
            for l_f in range(l_max + 1):
                for _l_o in range(abs(ir_in.l - l_f), min(ir_in.l + l_f, l_max) + 1):
                    instructions.append((i_in, l_f, i_out, "uvu", True))
                    i_out += 1
        self.tp = o3.TensorProduct(
            self.irreps_in,
            self.irreps_sh,
            self.irreps_mid,
            instructions,
            irrep_normalization="component",
            path_normalization="element",
            internal_weights=False,
            shared_weights=False,
        )
        assert self.tp.weight_numel == self.weight_numel
        self.path_weights = [ins.path_weight for ins in self.tp.instructions]

    def forward(self, h, sh, weight, edge_src, edge_dst, num_nodes):
        messages = self.tp(h[edge_src], sh, weight)  # eq. 2.64, one term per edge
        out = messages.new_zeros(num_nodes, messages.shape[-1])
        return out.index_add_(0, edge_dst, messages)  # sum over j in N(i)


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
