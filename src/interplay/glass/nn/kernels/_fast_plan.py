"""Constant tables of the fast convolution kernel (:mod:`interplay.glass.nn.kernels._fast`).

For every input irrep piece ``mul x l_I`` of the kernel (one ``l_I``), all its triplets
``(l_I, l_F, l_O)`` are fused into one *filter matrix* per edge::

    T_e[a, k] = sum_b Y_e[b] M[b, a, k],     M[b, a, k] = p_t C^t[a, b, m]   (k = (t, m))

where ``C^t = o3.wigner_3j(l_I, l_F, l_O)`` (the table e3nn's TensorProduct uses), ``b`` runs over
the ``Y^{l_F}`` block of the spherical harmonics and ``p_t = sqrt(2 l_O + 1)`` is e3nn's path
weight for ``irrep_normalization='component'``, ``path_normalization='element'`` when every
output block has exactly one path with ``mul_2 = 1`` (``alpha = dim(l_O) / 1``, see
``e3nn/o3/_tensor_product/_tensor_product.py``).

The ``k`` axis of a piece runs over ``(triplet, m)`` in kernel (triplet) order, so the internal
message layout of a piece is ``[channel][triplet][m]``; ``mid_index`` maps it to e3nn's
``[triplet][channel][m]`` output layout. The kernel reads its radial weights piece by piece in
``[channel][triplet]`` order, one contiguous (E, C * n_trip) tensor per piece (``wct_index``:
the kernel's ``weight_order`` into e3nn's ``[triplet][channel]`` layout, eq. 2.67), and
``w_index`` maps message columns to the columns of that block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from e3nn import o3

# the weight gradient (a sum over m inside every triplet) is one GEMM with a 0/1 matrix when the
# piece has at most this many triplets, an index_add otherwise (measured on CPU: MKL is fast
# for these skinny products up to ~16 columns, index_add wins beyond)
REDUCE_GEMM_MAX_TRIPLETS = 16

# T is built with one dense GEMM over all of Y (zeros where l_F does not match) when that
# costs at most this many times the multiply-adds of one GEMM per l_F block (plus a copy):
# measured on CPU, the single GEMM wins up to l_max = 3-4, the blocked one beyond
DENSE_RATIO = 4.0

# in the backward pass, the gradient of h_j is (w g) @ T^T: for A = 2 l_I + 1 >= this, T^T is
# built contiguous with a second GEMM (permuted columns of M) instead of reading T through a
# transposed view -- measured on CPU (single thread, 642-edge chunks, l_max 3):
# bmm(g, T^T view) 192 / 197 us at A = 5 / 7 against 45 + 107 / 56 + 108 us for the GEMM
# + bmm(g, T^T contiguous); at A = 3 the view is faster (89 us against 19 + 83 us)
TRANSPOSED_FILTER_MIN_DIM = 5


@dataclass
class LFBlock:
    """The ``l_F`` block of a piece's filter matrix: ``T[:, :, k_start:k_stop] =
    Y[:, sh_start:sh_stop] @ matrix`` (matrix (2 l_F + 1, A * (k_stop - k_start)))."""

    sh_start: int
    sh_stop: int
    k_start: int
    k_stop: int
    matrix: torch.Tensor  # float64


@dataclass
class Piece:
    """One input irrep piece and all its triplets (contiguous in kernel order)."""

    in_start: int  # first column of the piece in h (layout [channel][m])
    mul: int  # C
    dim: int  # A = 2 l_I + 1
    k_total: int  # K = sum over the piece's triplets of 2 l_O + 1
    dense: bool  # build T with one GEMM over all of Y
    matrix: torch.Tensor  # float64 (sh dim, A * K): M[b, a * K + k]
    blocks: list[LFBlock]
    w_start: int  # first radial-weight column of the piece (layout [triplet][channel])
    n_trip: int
    w_index: torch.Tensor  # (C * K,) column of the piece's weight block for internal c * K + k
    wct_index: torch.Tensor  # (C * n_trip,) [triplet][channel] columns in [channel][triplet] order
    mid_index: torch.Tensor  # (C * K,) e3nn output column of internal column c * K + k
    reduce: torch.Tensor | None  # (n_trip, K) 0/1: triplet of every k (None: use index_add)


def build_pieces(irreps_in: o3.Irreps, l_max: int, triplets, weight_numel: int) -> list[Piece]:
    """The plan of a kernel (``TensorProductKernel.triplets`` order, see layers.triplets)."""
    sh_dim = (l_max + 1) ** 2
    mid_start, off = [], 0
    for t in triplets:
        mid_start.append(off)
        off += t.mul * (2 * t.l_out + 1)
    pieces = []
    t_next = in_start = w_start = 0
    for mul, ir in irreps_in:
        n_trip = sum(
            1
            for l_f in range(l_max + 1)
            for _ in range(abs(ir.l - l_f), min(ir.l + l_f, l_max) + 1)
        )
        trips = list(range(t_next, t_next + n_trip))
        if not all(triplets[i].l_in == ir.l and triplets[i].mul == mul for i in trips):
            raise ValueError("kernel triplets are not in layers.triplets order")
        t_next += n_trip
        k_of = [(j, m) for j, i in enumerate(trips) for m in range(2 * triplets[i].l_out + 1)]
        k_total, a_dim = len(k_of), ir.dim
        # the kernel reads the piece's radial weights as its own [channel][triplet] block (its
        # weight_order / weight_split): internal message column c * K + k takes column w_index
        w_index = [c * n_trip + j for c in range(mul) for j, _ in k_of]
        mid_index = [
            mid_start[trips[j]] + c * (2 * triplets[trips[j]].l_out + 1) + m
            for c in range(mul)
            for j, m in k_of
        ]
        dense = torch.zeros(sh_dim, a_dim, k_total, dtype=torch.float64)
        blocks, k0, blocked_macs = [], 0, 0
        for l_f in range(l_max + 1):
            sel = [triplets[i] for i in trips if triplets[i].l_filter == l_f]
            if not sel:
                continue
            b0, b1 = l_f * l_f, (l_f + 1) ** 2
            k1 = k0
            for t in sel:
                d = 2 * t.l_out + 1
                cg = o3.wigner_3j(t.l_in, l_f, t.l_out, dtype=torch.float64)  # (A, B, d)
                dense[b0:b1, :, k1 : k1 + d] = math.sqrt(d) * cg.permute(1, 0, 2)
                k1 += d
            block = dense[b0:b1, :, k0:k1].reshape(b1 - b0, -1).clone()
            blocks.append(LFBlock(b0, b1, k0, k1, block))
            blocked_macs += (b1 - b0) * a_dim * (k1 - k0) + 2 * a_dim * (k1 - k0)
            k0 = k1
        use_dense = len(blocks) == 1 or sh_dim * a_dim * k_total <= DENSE_RATIO * blocked_macs
        pieces.append(
            Piece(
                in_start=in_start,
                mul=mul,
                dim=a_dim,
                k_total=k_total,
                dense=use_dense,
                matrix=dense.reshape(sh_dim, -1),
                blocks=blocks,
                w_start=w_start,
                n_trip=n_trip,
                reduce=(
                    torch.tensor([[float(j == jj) for jj, _ in k_of] for j in range(n_trip)])
                    if n_trip <= REDUCE_GEMM_MAX_TRIPLETS
                    else None
                ),
                w_index=torch.tensor(w_index, dtype=torch.long),
                wct_index=torch.tensor(
                    [w_start + j * mul + c for c in range(mul) for j in range(n_trip)],
                    dtype=torch.long,
                ),
                mid_index=torch.tensor(mid_index, dtype=torch.long),
            )
        )
        in_start += mul * a_dim
        w_start += n_trip * mul
    if w_start != weight_numel or t_next != len(triplets):
        raise ValueError("kernel plan does not cover all triplets / weights")
    return pieces


class Consts:
    """The plan's constant tensors on one device and dtype (cached by the kernel)."""

    def __init__(self, pieces: list[Piece], device: torch.device, dtype: torch.dtype):
        def conv(x):
            return x.to(device=device, dtype=dtype)

        self.matrix = [conv(p.matrix) if p.dense else None for p in pieces]
        # M with columns (k, a) instead of (a, k): Y @ M_t = T^T (see TRANSPOSED_FILTER_MIN_DIM)
        self.matrix_t = [
            conv(p.matrix.view(-1, p.dim, p.k_total).transpose(1, 2).reshape(-1, p.dim * p.k_total))
            if p.dense and p.dim >= TRANSPOSED_FILTER_MIN_DIM
            else None
            for p in pieces
        ]
        self.blocks = [[conv(b.matrix) for b in p.blocks] for p in pieces]
        self.w_index = [p.w_index.to(device) for p in pieces]
        self.reduce = [None if p.reduce is None else conv(p.reduce) for p in pieces]
        self.reduce_t = [None if r is None else r.T.contiguous() for r in self.reduce]
        self.mid_index = [p.mid_index.to(device) for p in pieces]
        # out_e3nn = cat(internal piece outputs, dim=1)[:, perm]
        self.perm = torch.argsort(torch.cat([p.mid_index for p in pieces])).to(device)
