"""The SE(3) convolution (thesis eq. 2.64) through NVIDIA cuEquivariance
(``model.net.conv_impl=cueq``; docs/fast_conv.md, "cuEquivariance kernel").

cuEquivariance's channel-wise tensor product (``cue.descriptors.channelwise_tensor_product``,
subscripts ``weights[uv], lhs[iu], rhs[jv], output[kuv]``) with ``v = 1`` (one spherical
harmonic per l) is exactly the ``uvu`` product of the e3nn reference: one radial weight per
(path, channel), component-normalised Clebsch-Gordan tables, and one path per output segment,
normalised by ``normalize_paths_for_operand(-1)`` to e3nn's ``sqrt(2 l_O + 1)`` path weight.
Its segmented polynomial gathers ``h[edge_src]`` and scatter-sums onto ``edge_dst`` itself
(``input_indices`` / ``output_indices``), so no ``(E, irreps_in)`` gather is materialised on
the CUDA path.

What differs from the reference is only bookkeeping, done here once at construction:

* cuEquivariance sorts the output segments by irrep, lays each segment out ``ir_mul``
  (``[m][channel]``) and orders the weights like the outputs; the reference has one
  ``mul_ir`` block per triplet in triplet order. :attr:`out_map` (node level, after the
  scatter) and :attr:`in_map` (node level, before the gather) translate.
* Its CUDA kernel (``uniform_1d``, package ``cuequivariance-ops-torch-cu12``) needs every
  segment to have the same number of channels, but a hidden layer's input has
  ``n_scalars + C`` scalar channels and ``C`` per l >= 1. Every input piece is therefore cut
  into blocks of ``U`` (the smallest multiplicity) channels, the last block padded with zero
  columns. The radial weights of a padded channel repeat a real column (``weight_order`` may
  repeat a column: the filter network's rows are gathered, not copied): their message is
  zero (zero input) and their output column is dropped, so their gradient is zero and the
  function, parameters and state dict are those of the other kernels.

On CPU (and on GPUs without ``cuequivariance-ops-torch-cu12``) cuEquivariance runs its
pure-PyTorch ``naive`` method: correct, slow (it is a reference, not a CPU path).
"""

from __future__ import annotations

from itertools import accumulate

import torch
from e3nn import o3

from interplay.core import ConfigError
from interplay.glass.nn.kernels._base import TensorProductKernel, register_conv_impl

INSTALL_HINT = (
    "pip install 'interplay[cueq]' (cuequivariance-torch; add cuequivariance-ops-torch-cu12 "
    "on CUDA 12 machines for the GPU kernels), or choose model.net.conv_impl=fast"
)


def _import_cue():
    """(cuequivariance, cuequivariance_torch), or a ConfigError naming the install."""
    try:
        import cuequivariance as cue
        import cuequivariance_torch as cuet
    except ImportError as err:
        raise ConfigError(
            f"model.net.conv_impl=cueq needs cuequivariance-torch ({err}): {INSTALL_HINT}."
        ) from err
    return cue, cuet


def has_cue_ops() -> bool:
    """Whether cuEquivariance's CUDA kernels (``cuequivariance-ops-torch-cu12``) are importable."""
    try:
        import cuequivariance_ops_torch  # noqa: F401
    except ImportError:
        return False
    return True


@register_conv_impl("cueq")
class CueqKernel(TensorProductKernel):
    """``conv_impl=cueq``: eq. 2.64 as cuEquivariance's channel-wise tensor product with fused
    gather / scatter (module docstring). Same constructor, function and state dict as
    :class:`E3nnKernel`; reads its radial weights in cuEquivariance's order
    (:attr:`weight_order`, folded into the filter network by ``SE3Conv``)."""

    def __init__(self, irreps_in: o3.Irreps, l_max: int):
        super().__init__(irreps_in, l_max)
        cue, _ = _import_cue()
        muls = [mul for mul, _ in self.irreps_in]
        if min(muls) < 1:
            raise ConfigError(f"conv_impl=cueq: empty input piece in {self.irreps_in}")
        self.block = block = min(muls)  # channels per cuEquivariance segment (uniform)
        # blocks of `block` channels: (piece index, first channel) per cuEquivariance segment
        blocks = [(i, c0) for i, mul in enumerate(muls) for c0 in range(0, mul, block)]
        ls = [ir.l for _, ir in self.irreps_in]
        irreps1 = cue.Irreps(cue.O3, [(block, (ls[i], 1)) for i, _ in blocks])
        irreps2 = cue.Irreps(cue.O3, [(1, (l, 1)) for l in range(l_max + 1)])
        keep = [cue.O3(l, 1) for l in range(l_max + 1)]  # l_O <= l_max, as `triplets`
        self.descriptor = cue.descriptors.channelwise_tensor_product(irreps1, irreps2, keep)
        stp = self.descriptor.polynomial.operations[0][1]
        if stp.subscripts != "uv,iu,jv,kuv+ijk":
            raise RuntimeError(f"unexpected cuEquivariance descriptor {stp.subscripts}")
        flat = self.descriptor.flatten_coefficient_modes().squeeze_modes()
        self.uniform = flat.all_same_segment_shape() and (
            len(flat.polynomial.operations[0][1].subscripts.modes()) == 1
        )

        n_in = self.irreps_in.dim  # index of the zero column appended to h
        in_start = [0, *accumulate(m * ir.dim for m, ir in self.irreps_in)]
        in_map = []
        for i, c0 in blocks:  # ir_mul: [m][channel] within a segment
            mul, dim = muls[i], 2 * ls[i] + 1
            for m in range(dim):
                for u in range(block):
                    c = c0 + u
                    in_map.append(in_start[i] + c * dim + m if c < mul else n_in)
        # triplet index of (input piece, l_F, l_O), the loops of `triplets`; its column
        # offsets in the reference output (mul x l_O blocks) and weights ([triplet][channel])
        pos, mid_start, w_start, k = {}, [], [], 0
        for i, l_in in enumerate(ls):
            for l_f in range(l_max + 1):
                for l_o in range(abs(l_in - l_f), min(l_in + l_f, l_max) + 1):
                    t = self.triplets[k]
                    assert (t.l_in, t.l_filter, t.l_out) == (l_in, l_f, l_o)
                    pos[(i, l_f, l_o)] = k
                    mid_start.append(sum(s.mul * (2 * s.l_out + 1) for s in self.triplets[:k]))
                    w_start.append(sum(s.mul for s in self.triplets[:k]))
                    k += 1

        w_seg = stp.operands[0].segments
        out_seg = stp.operands[3].segments
        w_off = [0, *accumulate(a * b for a, b in w_seg)]
        o_off = [0, *accumulate(a * b * c for a, b, c in out_seg)]
        irreps_out = self.descriptor.outputs[0].irreps
        weight_order = [0] * w_off[-1]
        out_map = [0] * self.irreps_mid.dim
        seen = set()
        for path in stp.paths:
            w, s1, s2, so = path.indices
            if so in seen or w != so:
                raise RuntimeError("cuEquivariance descriptor: expected one path per segment")
            seen.add(so)
            i, c0 = blocks[s1]
            l_o = irreps_out[so].ir.l
            k = pos[(i, s2, l_o)]  # segment s2 of the harmonics is l_F = s2
            dim_o = 2 * l_o + 1
            for u in range(block):
                c = c0 + u
                valid = c < muls[i]
                weight_order[w_off[w] + u] = w_start[k] + (c if valid else 0)
                if valid:
                    for m in range(dim_o):
                        out_map[mid_start[k] + c * dim_o + m] = o_off[so] + m * block + u
        n_paths = sum(len(range(0, muls[i], block)) for i, _, _ in pos)
        if len(seen) != n_paths:
            raise RuntimeError(f"cuEquivariance descriptor: {len(seen)} paths, not {n_paths}")
        self.register_buffer("in_map", torch.tensor(in_map), persistent=False)
        self.register_buffer("out_map", torch.tensor(out_map), persistent=False)
        self.weight_order = torch.tensor(weight_order)
        self.padded = len(in_map) > n_in
        self._ops: dict[torch.device, torch.nn.Module] = {}  # not submodules: no state

    def polynomial(self, device: torch.device) -> torch.nn.Module:
        """cuEquivariance's module for ``device``: the CUDA kernel (``uniform_1d``) on GPUs when
        ``cuequivariance-ops-torch-cu12`` is installed, its pure-PyTorch method otherwise.
        Built at first use per device (it holds only the constant tables)."""
        if device not in self._ops:
            _, cuet = _import_cue()
            fast = device.type == "cuda" and self.uniform and has_cue_ops()
            method = "uniform_1d" if fast else "naive"
            self._ops[device] = cuet.SegmentedPolynomial(
                self.descriptor.polynomial, method=method
            ).to(device)
        return self._ops[device]

    def forward(self, h, sh, weight, edge_src, edge_dst, num_nodes):
        if not isinstance(weight, torch.Tensor):
            raise TypeError("conv_impl=cueq reads one (E, n) weight tensor (weight_split None)")
        if weight.shape[-1] != self.weight_order.numel():
            raise ValueError(
                f"conv_impl=cueq expects {self.weight_order.numel()} radial weights per edge in "
                f"its own order, got {weight.shape[-1]}: pass kernel.kernel_weights(w)"
            )
        x = torch.nn.functional.pad(h, (0, 1)) if self.padded else h
        x = x.index_select(1, self.in_map)  # e3nn layout -> uniform ir_mul segments
        if edge_src.numel() == 0:  # cuEquivariance rejects empty batches; exact zeros,
            # still in the autograd graph of h (zero gradient), as the other kernels return
            return x[:, :0].sum(1, keepdim=True).repeat(1, self.irreps_mid.dim)
        (out,) = self.polynomial(h.device)(
            [weight, x, sh],
            input_indices={1: edge_src},  # h_j, gathered inside the kernel
            output_shapes={0: x.new_empty(num_nodes, 1)},
            output_indices={0: edge_dst},  # sum over j in N(i)
        )
        return out.index_select(1, self.out_map)
