"""Fused C++/OpenMP CPU kernel of the SE(3) convolution (thesis eq. 2.64):
``model.net.conv_impl=fused`` (docs/fast_conv.md, "Fused C++ kernel").

The pure-PyTorch ``fast`` kernel spends most of its time in what torch ops cannot fuse: tiny
batched products and several passes over ``(E, C * K)`` intermediates per layer. Here one C++
loop per edge does filter build -> contraction -> radial weights -> accumulation in L1
(``fused_conv.cpp``), with the constant tables of the fast kernel's plan (sparse: 611
non-zeros of 11,808 at ``l_max`` 3). :class:`FusedKernel` *is* a :class:`FastKernel` (same
plan, weight layout, parameters and state dict), so models and checkpoints switch freely.

The extension is compiled with ``torch.utils.cpp_extension.load`` at first use and cached in
``TORCH_EXTENSIONS_DIR`` (default ``~/.cache/torch_extensions``; ``scripts/setup.sh``
prebuilds it, :func:`build_fused`). Without a compiler, or when the build fails, the kernel
warns once and runs the ``fast`` kernel's code path (same function, slower); off CPU it
always does (the fused loop is CPU code).
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import torch

from interplay.glass.nn.kernels._base import register_conv_impl
from interplay.glass.nn.kernels._fast import FastKernel

SOURCE = Path(__file__).with_name("fused_conv.cpp")
EXTENSION_NAME = "interplay_fused_conv"
# -march=native: the build is cached per machine (TORCH_EXTENSIONS_DIR); the inner loops over
# the message index k are vectorised (omp simd)
CFLAGS = ["-O3", "-march=native", "-fopenmp"]

_STATE: dict[str, object] = {}


class FusedBuildError(RuntimeError):
    """The C++ extension of ``conv_impl=fused`` cannot be built here."""


def build_fused(verbose: bool = False):
    """Compile (or load the cached build of) the extension; raises :class:`FusedBuildError`.

    Why a function: ``scripts/setup.sh`` calls it once so that neither the tests nor the first
    training step pay the ~1 min compile."""
    cxx = os.environ.get("CXX", "c++")
    if shutil.which(cxx) is None:
        raise FusedBuildError(
            f"no C++ compiler: {cxx!r} (the CXX environment variable, default 'c++') is not "
            "on PATH; install g++ (apt-get install g++) or set CXX"
        )
    try:
        from torch.utils.cpp_extension import load

        return load(
            name=EXTENSION_NAME,
            sources=[str(SOURCE)],
            extra_cflags=CFLAGS,
            extra_ldflags=["-fopenmp"],
            verbose=verbose,
        )
    except Exception as err:  # compiler errors, missing ninja, ...
        raise FusedBuildError(f"building {SOURCE.name} failed: {err}") from err


def fused_extension():
    """The loaded extension, or None (with one warning) when it cannot be built."""
    if "ext" not in _STATE:
        try:
            _STATE["ext"] = build_fused()
        except FusedBuildError as err:
            warnings.warn(
                f"conv_impl=fused: {err}. Falling back to the pure-PyTorch 'fast' kernel "
                "(same function, slower); fix the compiler and restart to use the fused one.",
                RuntimeWarning,
                stacklevel=3,
            )
            _STATE["ext"] = None
    return _STATE["ext"]


def reset_fused_extension() -> None:
    """Forget the loaded / failed extension (tests that simulate a missing compiler)."""
    _STATE.clear()


class _Tables:
    """The plan as flat tensors for the C++ loop (one per dtype). Channels are the innermost
    axis everywhere: node features ``[piece][a][c]`` (``h_perm``: columns of e3nn's
    ``[c][a]``), radial weights ``[t][c]`` per piece (e3nn's own order), messages
    ``[piece][k][c]`` (``to_e3nn`` / ``from_e3nn``: the maps to and from e3nn's output layout).
    Per piece a ``meta`` row (in_start, C, A, K, n_trip, out_start, first / last non-zero,
    offset in ``tk`` of its column -> triplet map, unused); the non-zeros ``M[b, a, k]`` of the
    fast plan's table as (b, a, k, value) lists."""

    def __init__(self, pieces, dtype: torch.dtype):
        meta, nb, na, nk, nv, tk, h_perm, from_e3nn = [], [], [], [], [], [], [], []
        out_start = 0
        for p in pieces:
            m = p.matrix.view(-1, p.dim, p.k_total)  # (B, A, K) float64
            # (b, a, k) order: consecutive non-zeros mostly update different k (no store-to-load
            # chains in the flat loops of fused_conv.cpp)
            b, a, k = torch.nonzero(m, as_tuple=True)
            trip = p.w_index[: p.k_total]  # triplet of every message column k (channel 0)
            nz = (len(nb), len(nb) + len(b))
            meta.append([p.in_start, p.mul, p.dim, p.k_total, p.n_trip, out_start, *nz, len(tk), 0])
            nb += b.tolist()
            na += a.tolist()
            nk += k.tolist()
            nv += m[b, a, k].tolist()
            tk += trip.tolist()
            c_a = p.in_start + torch.arange(p.mul * p.dim).view(p.mul, p.dim)  # e3nn [c][a]
            h_perm.append(c_a.T.flatten())
            from_e3nn.append(p.mid_index.view(p.mul, p.k_total).T.flatten())  # [k][c]
            out_start += p.mul * p.k_total
        self.meta = torch.tensor(meta, dtype=torch.long)
        self.nnz_b = torch.tensor(nb, dtype=torch.long)
        self.nnz_a = torch.tensor(na, dtype=torch.long)
        self.nnz_k = torch.tensor(nk, dtype=torch.long)
        self.nnz_v = torch.tensor(nv, dtype=torch.float64).to(dtype)
        self.tk = torch.tensor(tk, dtype=torch.long)
        self.out_dim = out_start
        self.h_perm = torch.cat(h_perm)
        self.h_inv = torch.argsort(self.h_perm)
        self.from_e3nn = torch.cat(from_e3nn)  # e3nn column of every internal column
        self.to_e3nn = torch.argsort(self.from_e3nn)

    def args(self):
        return self.meta, self.nnz_b, self.nnz_a, self.nnz_k, self.nnz_v, self.tk


def centre_csr(edge_dst: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(order, rowptr)``: edges grouped by centre (order empty when already sorted, as the
    graphs of ``interplay.glass.data`` are) and the CSR row pointers of the centres."""
    if edge_dst.numel() and (int(edge_dst.min()) < 0 or int(edge_dst.max()) >= num_nodes):
        raise ValueError(f"edge_dst has centres outside [0, {num_nodes}): not a graph of h")
    sorted_ = bool((edge_dst[1:] >= edge_dst[:-1]).all())
    order = edge_dst.new_empty(0) if sorted_ else torch.argsort(edge_dst, stable=True)
    counts = torch.bincount(edge_dst, minlength=num_nodes)
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=rowptr[1:])
    return order, rowptr


class _FusedConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, sh, edge_src, edge_dst, num_nodes, kernel, ext, *weights):
        tables = kernel.tables(h.dtype)
        h, sh = h.index_select(1, tables.h_perm), sh.contiguous()  # channels innermost
        weights = [w.contiguous() for w in weights]
        order, rowptr = centre_csr(edge_dst, num_nodes)
        src = edge_src.contiguous()
        out = ext.forward(h, sh, weights, src, order, rowptr, *tables.args(), tables.out_dim)
        ctx.save_for_backward(h, sh, src, order, rowptr, *weights)
        ctx.kernel, ctx.ext = kernel, ext
        return out.index_select(1, tables.to_e3nn)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        h, sh, src, order, rowptr, *weights = ctx.saved_tensors
        need_h, need_sh = ctx.needs_input_grad[:2]
        need_w = any(ctx.needs_input_grad[7:])
        none = (None,) * 5
        if not (need_h or need_sh or need_w):
            return None, None, *none, *(None for _ in weights)
        kernel = ctx.kernel
        tables = kernel.tables(h.dtype)
        g = grad_out.index_select(1, tables.from_e3nn)  # internal [piece][k][c] layout
        gh, gsh, *gws = ctx.ext.backward(
            h, sh, weights, src, order, rowptr, *tables.args(), g, need_h, need_sh, need_w
        )
        gws = [gw if n else None for gw, n in zip(gws, ctx.needs_input_grad[7:], strict=True)]
        gh = gh.index_select(1, tables.h_inv) if need_h else None
        return gh, gsh if need_sh else None, *none, *gws


@register_conv_impl("fused")
class FusedKernel(FastKernel):
    """``conv_impl=fused``: the :class:`FastKernel` function, plan and state dict, computed by
    the C++ loop of ``fused_conv.cpp`` on CPU (the fast kernel's code elsewhere, or when the
    extension cannot be built: see the module docstring)."""

    def __init__(self, irreps_in, l_max: int):
        super().__init__(irreps_in, l_max)
        # radial weights in e3nn's [triplet][channel] order, one contiguous block per piece
        # (channels innermost, as everywhere in the C++ loop); the fast layout for the fallback
        self._fast_order = self.weight_order
        self.weight_order = None
        self._tables: dict[torch.dtype, _Tables] = {}

    def tables(self, dtype: torch.dtype) -> _Tables:
        if dtype not in self._tables:
            self._tables[dtype] = _Tables(self.pieces, dtype)
        return self._tables[dtype]

    def forward(self, h, sh, weight, edge_src, edge_dst, num_nodes):
        ext = fused_extension() if h.device.type == "cpu" else None
        if ext is None or edge_src.numel() == 0 or h.dtype not in (torch.float32, torch.float64):
            # the fast kernel's code, with its weight layout (a copy: fallback only)
            w = weight if isinstance(weight, torch.Tensor) else torch.cat(weight, dim=1)
            w = self.split_weights(w.index_select(1, self._fast_order.to(w.device)))
            return super().forward(h, sh, w, edge_src, edge_dst, num_nodes)
        if isinstance(weight, torch.Tensor):  # (E, weight_numel), e3nn order
            weight = self.split_weights(weight)
        return _FusedConv.apply(h, sh, edge_src, edge_dst, num_nodes, self, ext, *weight)
