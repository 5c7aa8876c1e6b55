"""Fast channel-wise Clebsch-Gordan convolution (thesis eq. 2.64), ``model.conv_impl=fast``.

Computes exactly the function of the reference :class:`~interplay.glass.layers.E3nnKernel`
(e3nn ``TensorProduct``, mode ``uvu``, per-edge weights, ``irrep_normalization='component'``,
``path_normalization='element'``, then a scatter-sum onto the centres)::

    out_i[t, c, k] = sum_{j -> i} w_ij[t, c] * p_t * sum_{a, b} C^t_{a b k} h_j[l_I, c, a] Y_ij[l_F, b]

with ``C^t`` the real Wigner 3j symbol of triplet ``t = (l_I, l_F, l_O)`` (``o3.wigner_3j``,
unit Frobenius norm) and ``p_t = sqrt(2 l_O + 1)`` e3nn's path weight (one output block per
triplet, one weight per channel, so the 'element' normalisation sum has a single term).

How it is made fast (docs/fast_conv.md):

* **Filter matrices per edge, not outer products.** For every input irrep piece (one ``l_I``)
  all its triplets are fused: ``T_e[k, a] = sum_b Y_e[b] p_t C^t_{a b k}`` is one small dense
  GEMM per ``l_F`` block against a constant (Y-block x A K_lF) matrix, and the message is one
  batched matmul ``U_e = h_j (C x A) @ T_e^T (A x K)`` for all triplets of the piece at once --
  instead of e3nn's ``(E, C, A, B)`` outer product contracted path by path.
* **Edge chunks inside one autograd Function.** Forward and backward loop over chunks of edges
  (a few MB of intermediates each, cache-resident on CPU), scatter-add each chunk to the nodes
  and keep nothing per edge for the backward pass: it recomputes ``T_e`` and ``U_e``. Peak
  memory is the inputs + the (N, mid) output + one chunk, independent of E -- what makes
  l_max = 6 trainable -- and no (E x mid) tensor ever exists.
* **Node-level layout changes.** Inside the kernel the outputs of a piece are ordered
  ``[channel][l_O][triplet][m]`` (weights then broadcast per ``l_O`` block, the weight
  gradient is a reshape-sum); the permutation to e3nn's ``[triplet][channel][m]`` layout is
  applied once on the (N, mid) node tensor, not per edge.
* Gradients only for the inputs that need them (``sh`` usually does not; the first layer's
  ``h`` does not).

Device-agnostic (plain torch ops); the chunk size adapts to the device (env override
``INTERPLAY_FAST_CONV_CHUNK`` = edges per chunk).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import torch
from e3nn import o3

from interplay.glass.layers import TensorProductKernel, register_conv_impl

# bytes of the largest per-chunk intermediate: small on CPU (stays in cache, no page faults),
# large on accelerators (enough edges to fill the device)
_CHUNK_BYTES = {"cpu": 2 * 2**20}
_CHUNK_BYTES_DEFAULT = 256 * 2**20


@dataclass
class _LFBlock:
    """Columns of one l_F inside a piece's filter matrix (K ordered l_F-major here)."""

    l_f: int
    sh_start: int  # Y^{l_F} columns in sh
    sh_stop: int
    k_count: int  # sum of (2 l_O + 1) over this piece's triplets with this l_F
    matrix: torch.Tensor  # float64 (2 l_F + 1, k_count * A): p_t C^t[a, b, k] at [b, k * A + a]


@dataclass
class _Piece:
    """One input irrep piece ``mul x l_I`` and all its triplets."""

    in_start: int  # columns of h
    mul: int
    l_in: int
    dim: int  # A = 2 l_I + 1
    w_start: int  # first weight column (weights laid out [triplet][channel])
    n_trip: int
    k_total: int  # K = sum over triplets of (2 l_O + 1)
    # internal order of the K axis: l_O-major (then triplet order); per l_O one block
    lo_blocks: list[tuple[int, int, int]] = field(default_factory=list)  # (k_start, n, 2l_O+1)
    lo_trip: torch.Tensor | None = None  # (n_trip,) local triplet index in l_O-major order
    lf_blocks: list[_LFBlock] = field(default_factory=list)
    lf_to_lo: torch.Tensor | None = None  # (K,) l_F-major position of each l_O-major column
    lo_to_lf: torch.Tensor | None = None  # inverse permutation


def _build_pieces(kernel: TensorProductKernel) -> tuple[list[_Piece], torch.Tensor]:
    """Per-piece plan and the permutation ``perm`` with ``out_e3nn = out_internal[:, perm]``."""
    pieces: list[_Piece] = []
    trip_iter = iter(enumerate(kernel.triplets))
    # offsets of every triplet's output block in e3nn's mid layout
    mid_start = []
    off = 0
    for t in kernel.triplets:
        mid_start.append(off)
        off += t.mul * (2 * t.l_out + 1)
    internal_to_mid: list[int] = []
    in_start = 0
    w_start = 0
    sh_start = [l * l for l in range(kernel.irreps_sh.lmax + 2)]
    for mul, ir in kernel.irreps_in:
        l_in, a_dim = ir.l, ir.dim
        trips = []
        # the triplets of this piece are the next ones in kernel order (layers.triplets)
        n_trip = 0
        for l_f in range(kernel.irreps_sh.lmax + 1):
            for _l_o in range(abs(l_in - l_f), min(l_in + l_f, kernel.irreps_sh.lmax) + 1):
                n_trip += 1
        for _ in range(n_trip):
            idx, t = next(trip_iter)
            assert t.l_in == l_in and t.mul == mul
            trips.append((idx, t))
        piece = _Piece(in_start, mul, l_in, a_dim, w_start, n_trip, 0)
        # l_F-major K order (kernel order) -> column offsets
        lf_col = []  # per local triplet: start column in l_F-major order
        k = 0
        for _, t in trips:
            lf_col.append(k)
            k += 2 * t.l_out + 1
        piece.k_total = k
        # l_O-major internal order
        lo_order = sorted(range(n_trip), key=lambda i: (trips[i][1].l_out, i))
        piece.lo_trip = torch.tensor(lo_order, dtype=torch.long)
        lf_to_lo = []
        k = 0
        for i in lo_order:
            d = 2 * trips[i][1].l_out + 1
            if piece.lo_blocks and piece.lo_blocks[-1][2] == d:
                ks, n, _ = piece.lo_blocks[-1]
                piece.lo_blocks[-1] = (ks, n + 1, d)
            else:
                piece.lo_blocks.append((k, 1, d))
            lf_to_lo.extend(range(lf_col[i], lf_col[i] + d))
            k += d
        piece.lf_to_lo = torch.tensor(lf_to_lo, dtype=torch.long)
        piece.lo_to_lf = torch.argsort(piece.lf_to_lo)
        # internal column (c, k_lo) -> e3nn mid column
        lo_pos = []  # per internal k: (triplet local index, m)
        for i in lo_order:
            for m in range(2 * trips[i][1].l_out + 1):
                lo_pos.append((i, m))
        for c in range(mul):
            for i, m in lo_pos:
                gidx, t = trips[i]
                internal_to_mid.append(mid_start[gidx] + c * (2 * t.l_out + 1) + m)
        # constant filter matrices per l_F block (path weight folded in), float64
        for l_f in range(kernel.irreps_sh.lmax + 1):
            sel = [(i, t) for i, (_, t) in enumerate(trips) if t.l_filter == l_f]
            if not sel:
                continue
            k_count = sum(2 * t.l_out + 1 for _, t in sel)
            b_dim = 2 * l_f + 1
            mat = torch.zeros(b_dim, k_count, a_dim, dtype=torch.float64)
            kk = 0
            for _, t in sel:
                d = 2 * t.l_out + 1
                cg = o3.wigner_3j(t.l_in, l_f, t.l_out, dtype=torch.float64)  # (A, B, d)
                p = math.sqrt(2 * t.l_out + 1)  # e3nn path weight (component, element)
                mat[:, kk : kk + d, :] = p * cg.permute(1, 2, 0)
                kk += d
            piece.lf_blocks.append(
                _LFBlock(l_f, sh_start[l_f], sh_start[l_f + 1], k_count, mat.reshape(b_dim, -1))
            )
        pieces.append(piece)
        in_start += mul * a_dim
        w_start += n_trip * mul
    assert w_start == kernel.weight_numel
    perm_internal_to_mid = torch.tensor(internal_to_mid, dtype=torch.long)
    # out_mid[:, internal_to_mid[i]] = out_int[:, i]  ->  out_mid = out_int[:, inverse]
    perm = torch.argsort(perm_internal_to_mid)
    return pieces, perm


class _Consts:
    """Device/dtype copies of the plan's constant tensors (built lazily, cached)."""

    def __init__(self, pieces: list[_Piece], perm: torch.Tensor, device, dtype):
        self.perm = perm.to(device)
        self.perm_inv = torch.argsort(perm).to(device)
        self.lf_mats = [[b.matrix.to(device=device, dtype=dtype) for b in p.lf_blocks] for p in pieces]
        self.lf_to_lo = [p.lf_to_lo.to(device) for p in pieces]
        self.lo_to_lf = [p.lo_to_lf.to(device) for p in pieces]
        self.lo_trip = [p.lo_trip.to(device) for p in pieces]
        self.lo_trip_inv = [torch.argsort(p.lo_trip).to(device) for p in pieces]


def _chunk_edges(kernel: FastKernel, device: torch.device, itemsize: int) -> int:
    env = os.environ.get("INTERPLAY_FAST_CONV_CHUNK")
    if env:
        return max(1, int(env))
    budget = _CHUNK_BYTES.get(device.type, _CHUNK_BYTES_DEFAULT)
    per_edge = max(p.k_total * max(p.mul, p.dim) for p in kernel.pieces) * itemsize
    return max(16, budget // per_edge)


def _filters(piece: _Piece, mats: list[torch.Tensor], lf_to_lo: torch.Tensor, sh: torch.Tensor):
    """``T[e, k, a]`` (E, K, A), K in internal l_O-major order: per l_F one GEMM."""
    parts = [
        sh[:, b.sh_start : b.sh_stop] @ m for b, m in zip(piece.lf_blocks, mats, strict=True)
    ]
    t = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
    t = t.view(sh.shape[0], piece.k_total, piece.dim)
    if len(parts) > 1:
        t = t.index_select(1, lf_to_lo)
    return t


def _weights(piece: _Piece, weight: torch.Tensor, lo_trip: torch.Tensor) -> torch.Tensor:
    """Per-edge weights of the piece as (E, C, n_trip), triplets in l_O-major order."""
    w = weight[:, piece.w_start : piece.w_start + piece.n_trip * piece.mul]
    w = w.view(-1, piece.n_trip, piece.mul).index_select(1, lo_trip)
    return w.transpose(1, 2)


def _apply_weights(piece: _Piece, u: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``u`` (E, C, K) *= w[e, c, t(k)] block by block (in place)."""
    t0 = 0
    for k0, n, d in piece.lo_blocks:
        blk = u[:, :, k0 : k0 + n * d].unflatten(2, (n, d))
        blk.mul_(w[:, :, t0 : t0 + n, None])
        t0 += n
    return u


def _reduce_weights(piece: _Piece, gu: torch.Tensor) -> torch.Tensor:
    """sum over m inside each triplet: (E, C, K) -> (E, C, n_trip) (l_O-major order)."""
    parts = []
    for k0, n, d in piece.lo_blocks:
        blk = gu[:, :, k0 : k0 + n * d].unflatten(2, (n, d))
        parts.append(blk.sum(-1) if d > 1 else blk.squeeze(-1))
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=2)


def _messages(u_in: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``U[e, c, k] = sum_a h[e, c, a] T[e, k, a]``."""
    if t.shape[2] == 1:
        return u_in * t.transpose(1, 2)
    return torch.bmm(u_in, t.transpose(1, 2))


class _FastConvFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, sh, weight, edge_src, edge_dst, num_nodes, kernel):
        consts = kernel.consts(h.device, h.dtype)
        n_edges = edge_src.shape[0]
        chunk = _chunk_edges(kernel, h.device, h.element_size())
        h_pieces = [
            h[:, p.in_start : p.in_start + p.mul * p.dim].reshape(-1, p.mul, p.dim)
            for p in kernel.pieces
        ]
        outs = [h.new_zeros(num_nodes, p.mul * p.k_total) for p in kernel.pieces]
        for s in range(0, n_edges, chunk):
            e = min(s + chunk, n_edges)
            src, dst, y = edge_src[s:e], edge_dst[s:e], sh[s:e]
            for i, p in enumerate(kernel.pieces):
                t = _filters(p, consts.lf_mats[i], consts.lf_to_lo[i], y)
                u = _messages(h_pieces[i].index_select(0, src), t)
                _apply_weights(p, u, _weights(p, weight[s:e], consts.lo_trip[i]))
                outs[i].index_add_(0, dst, u.view(e - s, -1))
        out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
        ctx.save_for_backward(h, sh, weight, edge_src, edge_dst)
        ctx.kernel = kernel
        return out.index_select(1, consts.perm)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        h, sh, weight, edge_src, edge_dst = ctx.saved_tensors
        kernel = ctx.kernel
        need_h, need_sh, need_w = ctx.needs_input_grad[:3]
        grad_h = grad_sh = grad_w = None
        if not (need_h or need_sh or need_w):
            return None, None, None, None, None, None, None
        consts = kernel.consts(h.device, h.dtype)
        n_edges = edge_src.shape[0]
        chunk = _chunk_edges(kernel, h.device, h.element_size())
        g_int = grad_out.index_select(1, consts.perm_inv)  # internal layout
        g_pieces, h_pieces, gh_pieces = [], [], []
        col = 0
        for p in kernel.pieces:
            width = p.mul * p.k_total
            g_pieces.append(g_int[:, col : col + width].reshape(-1, p.mul, p.k_total))
            col += width
            h_pieces.append(h[:, p.in_start : p.in_start + p.mul * p.dim].reshape(-1, p.mul, p.dim))
            gh_pieces.append(h.new_zeros(h.shape[0], p.mul, p.dim) if need_h else None)
        if need_sh:
            grad_sh = torch.zeros_like(sh)
        if need_w:
            grad_w = torch.empty_like(weight)
        for s in range(0, n_edges, chunk):
            e = min(s + chunk, n_edges)
            ne = e - s
            src, dst, y = edge_src[s:e], edge_dst[s:e], sh[s:e]
            for i, p in enumerate(kernel.pieces):
                t = _filters(p, consts.lf_mats[i], consts.lf_to_lo[i], y)
                hj = h_pieces[i].index_select(0, src)
                g = g_pieces[i].index_select(0, dst)  # (ne, C, K)
                w = _weights(p, weight[s:e], consts.lo_trip[i])  # (ne, C, n_trip)
                if need_w:
                    gu = _messages(hj, t).mul_(g)
                    gw = _reduce_weights(p, gu)  # (ne, C, n_trip), l_O-major
                    gw = gw.index_select(2, consts.lo_trip_inv[i]).transpose(1, 2)
                    grad_w[s:e, p.w_start : p.w_start + p.n_trip * p.mul] = gw.reshape(ne, -1)
                if not (need_h or need_sh):
                    continue
                g = _apply_weights(p, g, w)  # g * w  (g is a fresh gathered tensor)
                if need_h:
                    gh_pieces[i].index_add_(0, src, torch.bmm(g, t))  # (ne, C, A)
                if need_sh:
                    gt = torch.bmm(g.transpose(1, 2), hj)  # (ne, K, A) l_O-major
                    if len(p.lf_blocks) > 1:
                        gt = gt.index_select(1, consts.lo_to_lf[i])
                    gt = gt.reshape(ne, -1)
                    col = 0
                    for b, m in zip(p.lf_blocks, consts.lf_mats[i], strict=True):
                        width = b.k_count * p.dim
                        grad_sh[s:e, b.sh_start : b.sh_stop] += gt[:, col : col + width] @ m.T
                        col += width
        if need_h:
            grad_h = torch.zeros_like(h)
            for p, gh in zip(kernel.pieces, gh_pieces, strict=True):
                grad_h[:, p.in_start : p.in_start + p.mul * p.dim] = gh.reshape(h.shape[0], -1)
        return grad_h, grad_sh, grad_w, None, None, None, None


@register_conv_impl("fast")
class FastKernel(TensorProductKernel):
    """Drop-in replacement of :class:`~interplay.glass.layers.E3nnKernel` (same inputs, same
    output layout and normalisation, no parameters); see the module docstring."""

    def __init__(self, irreps_in: o3.Irreps, l_max: int):
        super().__init__(irreps_in, l_max)
        self.pieces, self._perm = _build_pieces(self)
        self._consts: dict[tuple, _Consts] = {}
        # e3nn's path weights, for inspection / parity with E3nnKernel.path_weights
        self.path_weights = [math.sqrt(2 * t.l_out + 1) for t in self.triplets]

    def consts(self, device: torch.device, dtype: torch.dtype) -> _Consts:
        key = (device, dtype)
        if key not in self._consts:
            self._consts[key] = _Consts(self.pieces, self._perm, device, dtype)
        return self._consts[key]

    def forward(self, h, sh, weight, edge_src, edge_dst, num_nodes):
        if edge_src.numel() == 0:
            return h.new_zeros(num_nodes, self.irreps_mid.dim)
        return _FastConvFunction.apply(h, sh, weight, edge_src, edge_dst, num_nodes, self)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written with conv_impl=e3nn carry the constant buffers of its
        # TensorProduct (w3j tables, output mask): nothing to load here, drop them
        for key in [k for k in state_dict if k.startswith(prefix + "tp.")]:
            state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
