"""Fast channel-wise Clebsch-Gordan convolution (thesis eq. 2.64): ``model.net.conv_impl=fast``.

Computes the same function as the reference :class:`~interplay.glass.nn._layers.E3nnKernel`
(e3nn ``TensorProduct`` in ``uvu`` mode with per-edge weights, ``irrep_normalization=
'component'``, ``path_normalization='element'``, then a scatter-sum onto the centres)::

    out_i[t, c, m] = sum_{j -> i} w_ij[t, c] p_t sum_{a, b} C^t[a, b, m] h_j[l_I, c, a] Y_ij[l_F, b]

with ``C^t = o3.wigner_3j(l_I, l_F, l_O)`` and e3nn's path weight ``p_t = sqrt(2 l_O + 1)``.
Same inputs, same output layout, no parameters: models and checkpoints switch between the
two with ``model.net.conv_impl`` (docs/fast_conv.md).

How it is made fast:

* **One filter matrix per edge and input piece.** All triplets of an input irrep piece
  (``mul x l_I``) are fused: ``T_e = Y_e @ M`` (E, A, K) is a GEMM against a constant table
  (:mod:`interplay.glass.nn.kernels._fast_plan`), and the messages of the piece are one batched
  matmul ``U_e = h_j (C x A) @ T_e (A x K)``: ``O(C A K)`` per edge and piece instead of
  e3nn's ``(E, C, A, B)`` outer products contracted path by path with dense 3j tables.
* **Edge chunks inside one autograd Function.** Forward and backward run over chunks of
  edges (~1 MB per intermediate on CPU: a piece's working set stays in L2), with buffers and
  their per-piece views built once per worker and one gather of the ``h_j`` rows for all
  pieces, scatter-add each chunk onto the nodes, and keep nothing per edge for the backward
  pass, which recomputes ``T_e`` and ``U_e``. Peak memory: inputs + (N, mid) output + one
  chunk per worker -- independent of E; no (E x mid) tensor is ever materialised (what makes
  l_max = 6 fit). ``T`` of all edges is cached per ``sh`` tensor (shared by the layers) on
  accelerators only: on CPU rebuilding it per chunk was measured as fast as reading it back.
* **Radial weights in the kernel's layout.** They arrive as one contiguous ``[channel]
  [triplet]`` block per piece (``weight_order`` / ``weight_split``, folded into the filter
  network's last layer by ``SE3Conv``): a chunk's weights are a view, expanded to the
  messages with one GEMM by the 0/1 triplet matrix, and their gradient is one GEMM by the same
  matrix written in place -- no per-edge copies or gathers.
* **Node-level layout changes.** Inside a piece, messages are ``[channel][triplet][m]``; the
  permutation to e3nn's ``[triplet][channel][m]`` layout is applied once to the (N, mid)
  tensor, not per edge.
* **Coarse-grained CPU threads.** On CPU the edge range is split between
  ``torch.get_num_threads()`` Python threads that run single-threaded ATen ops (which release
  the GIL): no OpenMP barrier per small op, so the kernel keeps its speed on a loaded
  machine. When edges are sorted by centre (``interplay.glass.data._graph`` and batches of such
  graphs), the split falls on centre boundaries and the threads share the output.
* Only the gradients that are needed are computed (``sh`` usually needs none, the first
  layer's ``h`` none).

Device-agnostic (plain torch ops); chunks are large on accelerators. Environment overrides:
``INTERPLAY_FAST_CONV_CHUNK`` (edges per chunk), ``INTERPLAY_FAST_CONV_THREADS`` (CPU workers),
``INTERPLAY_FAST_CONV_CACHE_MB`` (filter-cache budget; CPU default 0); all three are read in
:mod:`interplay.glass.nn.kernels._fast_sched`.
"""

from __future__ import annotations

import math

import torch
from e3nn import o3

from interplay.glass.nn.kernels._base import TensorProductKernel, register_conv_impl
from interplay.glass.nn.kernels._fast_plan import Consts, Piece, build_pieces
from interplay.glass.nn.kernels._fast_sched import (
    FILTERS,
    cache_budget,
    run_ranges,
    single_threaded_ops,
    split_edges,
)


class _Workspace:
    """Flat buffers of one worker, sized for the largest piece and reused by every piece and
    chunk (no allocation inside the edge loop), and the per-piece views of them for a chunk of
    ``ne`` edges (built once per chunk length: a worker sees at most two lengths)."""

    def __init__(
        self, pieces: list[Piece], chunk: int, like: torch.Tensor, grad: bool, filters, t_mats=None
    ):
        def size(f, ps=pieces):
            return chunk * max((f(p) for p in ps), default=0)

        new = like.new_empty
        self.pieces, self.grad, self.h_dim = pieces, grad, like.shape[1]
        self.build_t = [f is None for f in filters]
        build = [p for p, b in zip(pieces, self.build_t, strict=True) if b]
        # buffers are shared by intermediates that are not alive at the same time (fewer bytes
        # touched per chunk: the working set of a piece stays in L2): the forward pass expands
        # the radial weights into T's buffer once the messages are computed, the backward pass
        # into the messages' buffer once the weight gradient is reduced, and builds T^T into
        # T's buffer once U is recomputed
        t_size = size(lambda p: p.dim * p.k_total, build)
        self.buf = {
            "h": new(chunk * self.h_dim),  # gathered h_j rows (all pieces)
            "u": new(size(lambda p: p.mul * p.k_total)),  # messages
        }
        if grad:  # filter matrices T[e, a, k], then T^T[e, k, a]; weights W[e, c, k] in "u"
            self.buf["t"] = new(t_size)
            self.w_key, self.tt_key = "u", "t"
        else:  # T, then the expanded radial weights W[e, c, k]
            self.buf["t"] = new(max(t_size, size(lambda p: p.mul * p.k_total)))
            self.w_key = self.tt_key = "t"
        # T^T of the pieces whose backward builds it contiguous (t_mats: M_t or None per piece)
        t_mats = t_mats or [None] * len(pieces)
        self.build_tt = [m is not None and b for m, b in zip(t_mats, self.build_t, strict=True)]
        if grad:
            self.buf["g"] = new(size(lambda p: p.mul * p.k_total))  # gathered output gradient
            self.buf["gh"] = new(size(lambda p: p.mul * p.dim))  # per-edge gradient of h_j
        self._views: dict[int, tuple] = {}

    def views(self, ne: int) -> tuple:
        """``(H, per_piece)``: H (ne, h_dim) and, per piece, a :class:`_PieceViews` of the
        buffers for ``ne`` edges (every view the edge loop needs: one torch call per view
        fewer in the loop, which matters with two workers contending for the GIL)."""
        v = self._views.get(ne)
        if v is not None:
            return v
        buf = self.buf
        h_all = buf["h"][: ne * self.h_dim].view(ne, self.h_dim)
        per = []
        for p, build, btt in zip(self.pieces, self.build_t, self.build_tt, strict=True):
            ck, nc = p.mul * p.k_total, ne * p.mul
            pv = _PieceViews()
            pv.t_flat = buf["t"][: ne * p.dim * p.k_total].view(ne, -1) if build else None
            pv.t3 = None if pv.t_flat is None else pv.t_flat.view(ne, p.dim, p.k_total)
            tt_flat = buf[self.tt_key][: ne * p.dim * p.k_total].view(ne, -1) if btt else None
            pv.tt_flat = tt_flat
            pv.tt3 = None if tt_flat is None else tt_flat.view(ne, p.k_total, p.dim)
            pv.hj = h_all[:, p.in_start : p.in_start + p.mul * p.dim].view(ne, p.mul, p.dim)
            pv.u = buf["u"][: ne * ck].view(ne, ck)
            pv.u3 = pv.u.view(ne, p.mul, p.k_total)
            pv.u2 = pv.u.view(nc, p.k_total)
            pv.w = buf[self.w_key][: ne * ck].view(ne, ck)
            pv.w2 = pv.w.view(nc, p.k_total)
            pv.g = pv.g3 = pv.gh = pv.gh2 = None
            if self.grad:
                pv.g = buf["g"][: ne * ck].view(ne, ck)
                pv.g3 = pv.g.view(ne, p.mul, p.k_total)
                pv.gh = buf["gh"][: ne * p.mul * p.dim].view(ne, p.mul, p.dim)
                pv.gh2 = pv.gh.view(ne, -1)
            per.append(pv)
        v = (h_all, per)
        if len(self._views) < 4:
            self._views[ne] = v
        return v


class _PieceViews:
    """Views of a worker's buffers for one piece and one chunk length (see _Workspace)."""

    __slots__ = (
        "t_flat", "t3", "tt_flat", "tt3", "hj", "u", "u3", "u2", "w", "w2",
        "g", "g3", "gh", "gh2",
    )  # fmt: skip


def _filters(p: Piece, matrix, blocks, sh: torch.Tensor, out: torch.Tensor, out3=None):
    """``T[e, a, k] = sum_b Y_e[b] M[b, a, k]`` -> (E, A, K) (``out3``: ``out`` as (E, A, K))."""
    n = sh.shape[0]
    if p.dense:
        torch.mm(sh, matrix, out=out)
        return out.view(n, p.dim, p.k_total) if out3 is None else out3
    t = out.view(n, p.dim, p.k_total)
    for b, m in zip(p.blocks, blocks, strict=True):
        part = sh[:, b.sh_start : b.sh_stop] @ m
        t[:, :, b.k_start : b.k_stop].copy_(part.view(n, p.dim, -1))
    return t


def _messages(hj: torch.Tensor, t: torch.Tensor, out3: torch.Tensor) -> torch.Tensor:
    """``U[e, c, k] = sum_a h_j[e, c, a] T[e, a, k]`` into ``out3`` (E, C, K)."""
    if t.shape[1] == 1:
        return torch.mul(hj, t, out=out3)
    return torch.bmm(hj, t, out=out3)


def _expand_weights(wp, w_idx, red, pv):
    """Radial weights of the piece in message layout ``W[e, c, (t, m)] = w[e, t, c]`` into
    ``pv.w``, from the piece's contiguous ``[channel][triplet]`` rows ``wp`` (ne, C * n_trip):
    one GEMM with the 0/1 triplet matrix (few triplets), else one gather."""
    if red is None:
        return torch.index_select(wp, 1, w_idx, out=pv.w)
    torch.mm(wp.view(pv.w2.shape[0], -1), red, out=pv.w2)
    return pv.w


class _FastConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, sh, edge_src, edge_dst, num_nodes, kernel, *weights):
        pieces = kernel.pieces
        consts = kernel.consts(h.device, h.dtype)
        n_edges = edge_src.shape[0]
        chunk, ranges, shared = split_edges(pieces, h, edge_dst)
        h = h.contiguous()
        n_out = 1 if shared else len(ranges)
        outs = [[h.new_zeros(num_nodes, p.mul * p.k_total) for p in pieces] for _ in range(n_out)]
        # filter matrices of all edges: from the cache, built here, or per chunk (over budget)
        keys = [(p.dim, kernel.irreps_sh.lmax, sh.dtype, sh.device) for p in pieces]
        filters = [FILTERS.get(k, sh) for k in keys]
        new = [i for i, f in enumerate(filters) if f is None]
        cache = sum(n_edges * pieces[i].dim * pieces[i].k_total for i in new) * sh.element_size()
        if new and 0 < cache <= cache_budget(sh.device):
            for i in new:
                shape = (n_edges, pieces[i].dim * pieces[i].k_total)
                filters[i] = FILTERS.buffer(keys[i], shape, sh)
        else:
            new = []
        is_new = [i in new for i in range(len(pieces))]
        plan = list(
            zip(
                pieces,
                consts.matrix,
                consts.blocks,
                weights,
                consts.w_index,
                consts.reduce,
                filters,
                is_new,
                strict=True,
            )
        )

        def work(w, lo, hi):
            b = _Workspace(pieces, chunk, h, grad=False, filters=filters)
            out_w = outs[0 if shared else w]
            for s in range(lo, hi, chunk):
                e = min(s + chunk, hi)
                ne = e - s
                h_all, per = b.views(ne)
                dst, y = edge_dst[s:e], sh[s:e]
                torch.index_select(h, 0, edge_src[s:e], out=h_all)  # h_j of all pieces
                for (p, mat, blk, wp, w_idx, red, f, fresh), v, o in zip(
                    plan, per, out_w, strict=True
                ):
                    if f is None:
                        t = _filters(p, mat, blk, y, v.t_flat, v.t3)
                    elif fresh:
                        t = _filters(p, mat, blk, y, f[s:e])
                    else:
                        t = f[s:e].view(ne, p.dim, p.k_total)
                    _messages(v.hj, t, v.u3)
                    v.u.mul_(_expand_weights(wp[s:e], w_idx, red, v))
                    o.index_add_(0, dst, v.u)  # eq. 2.64: sum over j in N(i)

        with single_threaded_ops(len(ranges) > 1):
            run_ranges(work, ranges)
        for i in new:
            FILTERS.put(keys[i], sh, filters[i])
        out = [sum(o[i] for o in outs) if n_out > 1 else outs[0][i] for i in range(len(pieces))]
        out = out[0] if len(out) == 1 else torch.cat(out, dim=1)
        ctx.save_for_backward(h, sh, edge_src, edge_dst, *weights)
        ctx.kernel = kernel
        ctx.filters = filters
        return out.index_select(1, consts.perm)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        h, sh, edge_src, edge_dst, *weights = ctx.saved_tensors
        kernel, filters = ctx.kernel, ctx.filters
        pieces = kernel.pieces
        need_h, need_sh = ctx.needs_input_grad[:2]
        need_ws = ctx.needs_input_grad[6:]
        need_w = any(need_ws)
        if not (need_h or need_sh or need_w):
            return (None,) * (6 + len(weights))
        consts = kernel.consts(h.device, h.dtype)
        chunk, ranges, _ = split_edges(pieces, h, edge_dst)
        grad_out = grad_out.contiguous()
        g_p = [grad_out.index_select(1, idx) for idx in consts.mid_index]  # (N, C * K)
        n_nodes = h.shape[0]
        gh_w = (
            [[h.new_zeros(n_nodes, p.dim * p.mul) for p in pieces] for _ in ranges]
            if need_h
            else None
        )
        grad_sh = torch.zeros_like(sh) if need_sh else None
        # weight gradients: written row block by row block by a GEMM, or accumulated (index_add)
        grad_ws = [
            (torch.empty_like if red is not None else torch.zeros_like)(wp) if need_w else None
            for wp, red in zip(weights, consts.reduce, strict=True)
        ]
        t_mats = consts.matrix_t if need_h else [None] * len(pieces)
        plan = list(
            zip(
                pieces,
                consts.matrix,
                consts.blocks,
                weights,
                grad_ws,
                consts.w_index,
                consts.reduce,
                consts.reduce_t,
                filters,
                g_p,
                strict=True,
            )
        )

        def work(w, lo, hi):
            b = _Workspace(pieces, chunk, h, grad=True, filters=filters, t_mats=t_mats)
            for s in range(lo, hi, chunk):
                e = min(s + chunk, hi)
                ne = e - s
                h_all, per = b.views(ne)
                src, dst, y = edge_src[s:e], edge_dst[s:e], sh[s:e]
                torch.index_select(h, 0, src, out=h_all)
                for i, ((p, mat, blk, wp, gwp, w_idx, red, red_t, f, gp), v) in enumerate(
                    zip(plan, per, strict=True)
                ):
                    hj, u, g, g3 = v.hj, v.u, v.g, v.g3
                    if f is None:
                        t = _filters(p, mat, blk, y, v.t_flat, v.t3)
                    else:
                        t = f[s:e].view(ne, p.dim, p.k_total)
                    torch.index_select(gp, 0, dst, out=g)  # (ne, C * K)
                    if need_w:  # dL/dw[e, t, c] = sum_m g[e, c, (t, m)] U[e, c, (t, m)]
                        _messages(hj, t, v.u3).mul_(g3)
                        if red is None:
                            gwp[s:e].index_add_(1, w_idx, u)
                        else:  # (ne * C, K) @ (K, n_trip) -> rows s:e of [e][c][t], in place
                            torch.mm(v.u2, red_t, out=gwp[s:e].view(-1, p.n_trip))
                    if not (need_h or need_sh):
                        continue
                    g.mul_(_expand_weights(wp[s:e], w_idx, red, v))
                    if need_h:  # dL/dh_j[c, a] = sum_k (w g)[c, k] T[a, k]  (e3nn layout)
                        if v.tt_flat is None:
                            tt = t.transpose(1, 2)
                        else:  # T^T contiguous: a faster bmm (TRANSPOSED_FILTER_MIN_DIM)
                            torch.mm(y, t_mats[i], out=v.tt_flat)
                            tt = v.tt3
                        torch.bmm(g3, tt, out=v.gh)
                        gh_w[w][i].index_add_(0, src, v.gh2)
                    if need_sh:  # dL/dT[a, k] = sum_c h_j[c, a] (w g)[c, k], then dT/dY
                        gt = torch.bmm(hj.transpose(1, 2), g3)  # (ne, A, K)
                        if p.dense:
                            grad_sh[s:e].addmm_(gt.view(ne, -1), mat.T)
                        else:
                            for bl, m in zip(p.blocks, blk, strict=True):
                                part = gt[:, :, bl.k_start : bl.k_stop].reshape(ne, -1)
                                grad_sh[s:e, bl.sh_start : bl.sh_stop].addmm_(part, m.T)

        with single_threaded_ops(len(ranges) > 1):
            run_ranges(work, ranges)
        grad_h = None
        if need_h:
            grad_h = torch.zeros_like(h)
            for i, p in enumerate(pieces):
                gh = gh_w[0][i] if len(ranges) == 1 else sum(g[i] for g in gh_w)
                grad_h[:, p.in_start : p.in_start + p.mul * p.dim] = gh
        grad_ws = [g if need else None for g, need in zip(grad_ws, need_ws, strict=True)]
        return grad_h, grad_sh, None, None, None, None, *grad_ws


@register_conv_impl("fast")
class FastKernel(TensorProductKernel):
    """Drop-in replacement of :class:`~interplay.glass.nn._layers.E3nnKernel`: same constructor,
    inputs, output layout and normalisation, no parameters (see the module docstring)."""

    def __init__(self, irreps_in: o3.Irreps, l_max: int):
        super().__init__(irreps_in, l_max)
        self.pieces = build_pieces(self.irreps_in, l_max, self.triplets, self.weight_numel)
        self._consts: dict[tuple, Consts] = {}
        # e3nn's path weights (same values as E3nnKernel.path_weights)
        self.path_weights = [math.sqrt(2 * t.l_out + 1) for t in self.triplets]
        # radial weights as one contiguous [channel][triplet] block per piece: a chunk's
        # weights are a view expanded by one GEMM, and their gradient is one GEMM written in
        # place (SE3Conv folds order and split into its filter network's last layer: free)
        self.weight_order = torch.cat([p.wct_index for p in self.pieces])
        self.weight_split = [p.mul * p.n_trip for p in self.pieces]  # one block per piece

    def consts(self, device: torch.device, dtype: torch.dtype) -> Consts:
        key = (device, dtype)
        if key not in self._consts:
            self._consts[key] = Consts(self.pieces, device, dtype)
        return self._consts[key]

    def forward(self, h, sh, weight, edge_src, edge_dst, num_nodes):
        if isinstance(weight, torch.Tensor):  # (E, weight_numel) in weight_order
            weight = self.split_weights(weight)
        if edge_src.numel() == 0:
            zero = h.sum() + sum(w.sum() for w in weight)
            return h.new_zeros(num_nodes, self.irreps_mid.dim) + 0 * zero
        return _FastConv.apply(h, sh, edge_src, edge_dst, num_nodes, self, *weight)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written with conv_impl=e3nn carry the constant buffers of its
        # TensorProduct (3j tables, output mask): nothing to load here, drop them
        for key in [k for k in state_dict if k.startswith(prefix + "tp.")]:
            state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
