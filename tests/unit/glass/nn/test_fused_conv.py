"""conv_impl=fused (the C++/OpenMP kernel, interplay.glass.nn.kernels._fused) computes the function
of the e3nn reference kernel: outputs and gradients (node features, spherical harmonics, radial
weights) at l_max 0-6 in float32 (1e-5) and float64, shuffled edges, several OpenMP threads,
the same state dict as the other kernels, and the fallback to the fast kernel (with a warning)
when no compiler is present.

The extension is compiled once per machine (scripts/setup.sh prebuilds it; cached in
TORCH_EXTENSIONS_DIR): when it cannot be built here the tests that need it are skipped with the
reason, and the fallback test still runs."""

from __future__ import annotations

import warnings

import pytest
import torch
from e3nn import o3
from helpers import random_ka_graph

from interplay.glass.nn import E3nnKernel, conv_input_irreps, make_kernel, sh_irreps
from interplay.glass.nn.kernels import (
    FastKernel,
    FusedBuildError,
    FusedKernel,
    build_fused,
    reset_fused_extension,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _built() -> str | None:
    try:
        build_fused()
    except FusedBuildError as err:
        return str(err)
    return None


BUILD_ERROR = _built()
needs_ext = pytest.mark.skipif(BUILD_ERROR is not None, reason=f"no fused build: {BUILD_ERROR}")


def inputs(irreps_in, l_max, weight_numel, mid_dim, dtype, n=40, seed=0, cutoff=1.5):
    g = random_ka_graph(n, seed, dtype=torch.float64, cutoff=cutoff)
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(n, irreps_in.dim, generator=gen, dtype=torch.float64).to(dtype)
    sh = o3.spherical_harmonics(sh_irreps(l_max), g.edge_vec.to(dtype), True, "component")
    weight = torch.randn(g.edge_index.shape[1], weight_numel, generator=gen).to(dtype)
    grad_out = torch.randn(n, mid_dim, generator=gen).to(dtype)
    return h, sh, weight, g.edge_index, grad_out


def run(kernel, h, sh, weight, edge_index, grad_out):
    h, sh, weight = (x.detach().requires_grad_(True) for x in (h, sh, weight))
    out = kernel(h, sh, kernel.kernel_weights(weight), edge_index[0], edge_index[1], h.shape[0])
    return (out, *torch.autograd.grad(out, (h, sh, weight), grad_out))


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


@needs_ext
@pytest.mark.parametrize("l_max", [0, 1, 2, 3, 4, 5, 6])
def test_fused_matches_e3nn(l_max):
    """Hidden-layer input (3 + 2 scalars, 2 channels per l >= 1) at every l_max 0-6; float32
    within the issue's 1e-5, float64 within e3nn's float32 3j tables (~3e-8)."""
    irreps_in = conv_input_irreps(3, 2, l_max)
    ref, fused = E3nnKernel(irreps_in, l_max), FusedKernel(irreps_in, l_max)
    cases = ((torch.float32, 1e-5), (torch.float64, 1e-6))
    for dtype, tol in cases[:1] if l_max >= 5 else cases:  # e3nn is slow at l_max 5-6
        args = inputs(irreps_in, l_max, ref.weight_numel, ref.irreps_mid.dim, dtype, seed=l_max)
        res_r = run(ref.to(dtype), *args)
        res_f = run(fused, *args)
        for name, a, b in zip(("out", "h", "sh", "weight"), res_f, res_r, strict=True):
            assert a.dtype == dtype
            assert rel_err(a, b) < tol, (dtype, name, rel_err(a, b))


@needs_ext
def test_shuffled_edges_threads_and_first_layer_equal_fast():
    """Unsorted edges (CSR built by the kernel), 2 OpenMP threads (per-thread dL/dh buffers),
    and a first layer (scalars only, no gradient for h): same numbers as the fast kernel."""
    l_max = 3
    for hidden in (0, 4):
        irreps_in = conv_input_irreps(3, hidden, l_max)
        fast, fused = FastKernel(irreps_in, l_max), FusedKernel(irreps_in, l_max)
        h, sh, weight, ei, g = inputs(irreps_in, l_max, fast.weight_numel, fast.irreps_mid.dim,
                                      torch.float64, n=40, seed=3)  # fmt: skip
        perm = torch.randperm(ei.shape[1], generator=torch.Generator().manual_seed(0))
        ei, sh, weight = ei[:, perm], sh[perm], weight[perm]
        ref = run(fast, h, sh, weight, ei, g)
        n_threads = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            res = run(fused, h, sh, weight, ei, g)
        finally:
            torch.set_num_threads(n_threads)
        for a, b in zip(res, ref, strict=True):
            assert rel_err(a, b) < 1e-12
        # first layer: h needs no gradient, the weights do
        w = weight.detach().requires_grad_(True)
        out = fused(h, sh, fused.kernel_weights(w), ei[0], ei[1], h.shape[0])
        (gw,) = torch.autograd.grad(out, (w,), g)
        out_f = fast(h, sh, fast.kernel_weights(w), ei[0], ei[1], h.shape[0])
        (gw_f,) = torch.autograd.grad(out_f, (w,), g)
        assert rel_err(out, out_f) < 1e-12 and rel_err(gw, gw_f) < 1e-12


def test_registered_same_state_dict_and_centres_checked():
    irreps_in = conv_input_irreps(3, 2, 2)
    fused = make_kernel("fused", irreps_in, 2)
    assert isinstance(fused, FusedKernel)
    assert fused.state_dict().keys() == FastKernel(irreps_in, 2).state_dict().keys()
    if BUILD_ERROR is None:  # the fused path checks its centres (the fast one does not)
        h, sh, w = torch.zeros(3, irreps_in.dim), torch.zeros(2, 9), torch.zeros(2, 1000)
        with pytest.raises(ValueError, match="centres outside"):
            fused(h, sh, w[:, : fused.weight_numel], torch.tensor([0, 1]), torch.tensor([0, 5]), 3)


def test_missing_compiler_falls_back_to_fast_with_a_warning(monkeypatch):
    """Simulated missing compiler (CXX not on PATH): one RuntimeWarning naming the problem and
    the fix, then the fast kernel's numbers."""
    monkeypatch.setenv("CXX", "/nonexistent/c++")
    reset_fused_extension()
    try:
        l_max = 2
        irreps_in = conv_input_irreps(3, 2, l_max)
        fast, fused = FastKernel(irreps_in, l_max), FusedKernel(irreps_in, l_max)
        args = inputs(irreps_in, l_max, fast.weight_numel, fast.irreps_mid.dim, torch.float64)
        with pytest.warns(RuntimeWarning, match="no C.. compiler.*Falling back"):
            res = run(fused, *args)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # warned once only
            run(fused, *args)
        for a, b in zip(res, run(fast, *args), strict=True):
            assert torch.equal(a, b)
    finally:
        reset_fused_extension()
