"""conv_impl=fast (interplay.glass.nn.kernels) computes the function of the e3nn reference kernel:
outputs and gradients (node features, spherical harmonics, radial weights) at l_max 0-4, the
chunked / multi-threaded paths, rotation equivariance, the whole SE3GNN, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from e3nn import o3
from helpers import assert_se3_equivariant, random_ka_graph

from interplay.glass.nn import (
    CONV_IMPLS,
    E3nnKernel,
    conv_input_irreps,
    make_kernel,
    sh_irreps,
)
from interplay.glass.nn.kernels import FastKernel

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny graphs: see conftest.py

# n = 40 at density 1.2 is a box of 3.2: cutoff 1.6 < L / 2, about 20 neighbours per particle
CUTOFF = 1.6


def edges(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``edge_index`` and float64 ``edge_vec`` of a random periodic KA-like configuration."""
    g = random_ka_graph(n, seed, dtype=torch.float64, cutoff=CUTOFF)
    return g.edge_index, g.edge_vec


def inputs(irreps_in, l_max, dtype, n=40, seed=0):
    edge_index, edge_vec = edges(n, seed)
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, irreps_in.dim, generator=g, dtype=torch.float64).to(dtype)
    sh = o3.spherical_harmonics(sh_irreps(l_max), edge_vec.to(dtype), True, "component")
    return h, sh, edge_index


def run(kernel, h, sh, weight, edge_index, grad_out):
    h, sh, weight = (x.detach().requires_grad_(True) for x in (h, sh, weight))
    # weight: [triplet][channel] (e3nn layout); the fast kernel reads another column order
    out = kernel(h, sh, kernel.kernel_weights(weight), edge_index[0], edge_index[1], h.shape[0])
    grads = torch.autograd.grad(out, (h, sh, weight), grad_out)
    return out, grads


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


@pytest.mark.parametrize("l_max", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("hidden", [0, 3], ids=["layer0", "hidden"])
def test_outputs_and_gradients_match_e3nn(l_max, hidden):
    irreps_in = conv_input_irreps(3, hidden, l_max)  # (3 + hidden) x 0e + hidden x l>=1
    ref = E3nnKernel(irreps_in, l_max)
    fast = FastKernel(irreps_in, l_max)
    assert fast.weight_numel == ref.weight_numel and fast.irreps_mid == ref.irreps_mid
    np.testing.assert_allclose(fast.path_weights, ref.path_weights, rtol=1e-12)
    for dtype, tol in ((torch.float64, 1e-6), (torch.float32, 1e-5)):
        # float64 is limited by e3nn's float32 3j tables (~3e-8); float32 is the 1e-5
        h, sh, edge_index = inputs(irreps_in, l_max, dtype, seed=l_max)
        g = torch.Generator().manual_seed(1)
        weight = torch.randn(edge_index.shape[1], ref.weight_numel, generator=g).to(dtype)
        grad_out = torch.randn(h.shape[0], ref.irreps_mid.dim, generator=g).to(dtype)
        out_r, grads_r = run(ref.to(dtype), h, sh, weight, edge_index, grad_out)
        out_f, grads_f = run(fast, h, sh, weight, edge_index, grad_out)
        assert out_f.dtype == dtype
        assert rel_err(out_f, out_r) < tol, dtype
        for name, gf, gr in zip(("h", "sh", "weight"), grads_f, grads_r, strict=True):
            assert rel_err(gf, gr) < tol, (dtype, name)


@pytest.mark.parametrize("sort_dst", [True, False], ids=["sorted", "shuffled"])
def test_chunks_and_worker_threads_give_the_same_result(monkeypatch, sort_dst):
    l_max = 3
    irreps_in = conv_input_irreps(3, 2, l_max)
    fast = FastKernel(irreps_in, l_max)
    h, sh, edge_index = inputs(irreps_in, l_max, torch.float64, n=60, seed=5)
    if not sort_dst:
        perm = torch.randperm(edge_index.shape[1], generator=torch.Generator().manual_seed(0))
        edge_index, sh = edge_index[:, perm], sh[perm]
    g = torch.Generator().manual_seed(2)
    weight = torch.randn(edge_index.shape[1], fast.weight_numel, generator=g, dtype=h.dtype)
    grad_out = torch.randn(h.shape[0], fast.irreps_mid.dim, generator=g, dtype=h.dtype)
    out0, grads0 = run(fast, h, sh, weight, edge_index, grad_out)  # one chunk, one thread
    monkeypatch.setenv("INTERPLAY_FAST_CONV_CHUNK", "37")
    monkeypatch.setenv("INTERPLAY_FAST_CONV_THREADS", "3")
    out1, grads1 = run(fast, h, sh, weight, edge_index, grad_out)
    torch.testing.assert_close(out1, out0, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads1, grads0, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert torch.get_num_threads() == 1  # intra-op threads restored
    with torch.inference_mode():  # Lightning's validation / test loops: workers must follow
        out2 = fast(h, sh, fast.kernel_weights(weight), edge_index[0], edge_index[1], h.shape[0])
    torch.testing.assert_close(out2, out0, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("impl", ["fast", "e3nn"])
def test_rotation_equivariance(impl):
    l_max = 3
    irreps_in = conv_input_irreps(3, 2, l_max)
    kernel = make_kernel(impl, irreps_in, l_max).double()
    edge_index, edge_vec = edges(40, seed=7)
    g = torch.Generator().manual_seed(3)
    h = torch.randn(40, irreps_in.dim, generator=g, dtype=torch.float64)
    weight = torch.randn(edge_index.shape[1], kernel.weight_numel, generator=g, dtype=h.dtype)
    irreps_sh = sh_irreps(l_max)

    def conv(h, vec):
        sh = o3.spherical_harmonics(irreps_sh, vec, True, "component")
        return kernel(h, sh, weight, edge_index[0], edge_index[1], h.shape[0])

    torch.manual_seed(7)
    # e3nn's Wigner D matrices carry float32-level errors (~1e-7 relative; same for E3nnKernel)
    scale = conv(h, edge_vec).abs().max().item()
    assert_se3_equivariant(
        conv, [h, edge_vec], [irreps_in, "cartesian_points"], kernel.irreps_mid, 1e-5 * scale
    )


def test_filter_cache_is_shared_and_never_stale(monkeypatch):
    import interplay.glass.nn.kernels._fast_sched as sched

    monkeypatch.setenv("INTERPLAY_FAST_CONV_CACHE_MB", "64")  # off by default on CPU
    l_max = 2
    irreps_in = conv_input_irreps(3, 2, l_max)
    k1, k2 = FastKernel(irreps_in, l_max), FastKernel(irreps_in, l_max)
    ref = E3nnKernel(irreps_in, l_max).double()
    h, sh, edge_index = inputs(irreps_in, l_max, torch.float64, seed=9)
    w = torch.rand(edge_index.shape[1], k1.weight_numel, dtype=h.dtype)
    w_fast = k1.kernel_weights(w)
    args = (edge_index[0], edge_index[1], h.shape[0])
    out1 = k1(h, sh, w_fast, *args)
    assert any(slot[0]() is sh for slot in sched.FILTERS.slots.values())  # built and kept
    torch.testing.assert_close(k2(h, sh, w_fast, *args), out1)  # second layer: same filters
    sh.mul_(-1.0)  # in place: the cached filters must not be used any more
    torch.testing.assert_close(k2(h, sh, w_fast, *args), ref(h, sh, w, *args))
    del sh
    assert not any(slot[0]() is not None for slot in sched.FILTERS.slots.values())  # freed
    assert sched.FILTERS.spare  # memory kept for the next tensor of the same shape
    sched.FILTERS.clear()


def test_registered_and_found_by_name():
    assert CONV_IMPLS["fast"] is FastKernel
    kernel = make_kernel("fast", conv_input_irreps(3, 2, 2), 2)
    assert isinstance(kernel, FastKernel)
    assert sum(p.numel() for p in kernel.parameters()) == 0


def test_no_edges_gives_zeros_and_gradients():
    irreps_in = conv_input_irreps(3, 2, 2)
    fast = FastKernel(irreps_in, 2)
    h = torch.randn(5, irreps_in.dim, requires_grad=True)
    weight = torch.randn(0, fast.weight_numel, requires_grad=True)
    sh = torch.zeros(0, sh_irreps(2).dim)
    empty = torch.zeros(0, dtype=torch.long)
    out = fast(h, sh, weight, empty, empty, 5)
    assert out.shape == (5, fast.irreps_mid.dim) and not out.any()
    out.sum().backward()
    assert h.grad is not None and not h.grad.any()


def test_se3gnn_fast_equals_e3nn_and_loads_its_checkpoint():
    from interplay.glass.nn import SE3GNN

    data = random_ka_graph(40, seed=11, dtype=torch.float64, cutoff=CUTOFF)
    kw = dict(n_node_scalars=2, n_timescales=2, channels=3, l_max=3, n_layers=3)
    torch.manual_seed(0)
    ref = SE3GNN(**kw, radial_dropout=0.0, conv_impl="e3nn").double()
    fast = SE3GNN(**kw, radial_dropout=0.0, conv_impl="fast").double()
    fast.load_state_dict(ref.state_dict())  # e3nn checkpoints load (constant buffers dropped)
    for model in (ref, fast):
        model.train()
    y_ref, y_fast = ref(data), fast(data)
    torch.testing.assert_close(y_fast, y_ref, rtol=1e-6, atol=1e-8)
    y_ref.square().sum().backward()
    y_fast.square().sum().backward()
    for (name, p_ref), p_fast in zip(ref.named_parameters(), fast.parameters(), strict=True):
        torch.testing.assert_close(p_fast.grad, p_ref.grad, rtol=1e-6, atol=1e-8, msg=name)
