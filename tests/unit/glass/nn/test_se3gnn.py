"""SE(3)-GNN (thesis §2.4.2): parameter count, equivariance of every layer, invariance of the
predictions, permutation equivariance, periodic translation invariance, overfitting."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from e3nn import o3
from helpers import assert_se3_equivariant, ka_graph, random_ka_configuration, random_ka_graph

from interplay.core import ConfigError
from interplay.glass.nn import (
    CONV_IMPLS,
    SE3GNN,
    BesselBasis,
    E3nnKernel,
    RadialMLP,
    SE3Conv,
    conv_input_irreps,
    format_breakdown,
    hidden_irreps,
    invariant_features,
    make_kernel,
    parameter_breakdown,
    register_conv_impl,
    sh_irreps,
    triplets,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny graphs: see conftest.py


def small_model(**kw) -> SE3GNN:
    """A 2-layer float64 SE3GNN with random decoders: they start at zero (eq. 2.70), which
    would make every check of the predictions hold trivially."""
    args = dict(n_node_scalars=2, n_timescales=3, channels=2, l_max=3, n_layers=2)
    args.update(kw)
    torch.manual_seed(1)
    model = SE3GNN(**args).double()
    with torch.no_grad():
        model.decoder_weight.normal_()
    return model


# --------------------------------------------------------------------------- parameter count
def test_paper_parameter_count_matches_thesis():
    model = SE3GNN(n_node_scalars=2, n_timescales=10, channels=8, l_max=3, n_layers=8)
    b = parameter_breakdown(model)
    assert b["radial_mlp/L0"] == 412 and b["radial_out/L0"] == 12
    assert all(b[f"radial_mlp/L{i}"] == 5_036 for i in range(1, 8))
    assert b["radial_out/L1"] == 284
    assert b["radial_mlp"] == 35_664
    assert b["mixing/L0"] == 96 and b["mixing/L1"] == 2_272 and b["mixing"] == 16_000
    assert b["decoders"] == 20 * 32
    assert b["total"] == 52_304
    assert "52,304" in format_breakdown(model)
    # with the learnable beta / gamma of eqs. 2.68-2.69: 8 layers x (4x8 weights + 8 biases)
    affine = SE3GNN(n_node_scalars=2, n_timescales=10, bn_affine=True)
    assert parameter_breakdown(affine)["total"] == 52_304 + 8 * 40


def test_univariate_count_and_triplets():
    assert len(triplets(o3.Irreps("1x0e+1x1e+1x2e+1x3e"), 3)) == 34
    assert sum(t.l_in >= 1 for t in triplets(o3.Irreps("1x0e+1x1e+1x2e+1x3e"), 3)) == 30
    uni = SE3GNN(n_node_scalars=2, n_timescales=1, channels=4)
    # 412 + 7 * (208 + 17 * 148) radial, 48 + 7 * 592 mixing, 2 x 16 decoders (thesis: 23,210)
    assert parameter_breakdown(uni)["total"] == 23_704


# --------------------------------------------------------------------------- components
def test_bessel_basis_matches_eq_2_66():
    r = torch.linspace(0.3, 1.99, 17, dtype=torch.float64)
    basis = BesselBasis(10, 2.0).double()(r).numpy()
    n = np.arange(1, 11)
    ref = np.sqrt(2 / 2.0) * np.sin(n[None] * np.pi * r.numpy()[:, None] / 2.0) / r.numpy()[:, None]
    np.testing.assert_allclose(basis, ref, rtol=1e-5, atol=1e-5)


def test_radial_mlp_shapes_and_relu():
    mlp = RadialMLP(10, 16, 12, dropout=0.3).eval()
    out = mlp(torch.randn(50, 10))
    assert out.shape == (50, 12) and (out >= 0).all()
    assert sum(p.numel() for p in mlp.parameters()) == 412


@pytest.mark.parametrize("l_max", [0, 1, 3])
def test_conv_layer_equivariance(l_max):
    torch.manual_seed(0)
    g = random_ka_graph(dtype=torch.float64)
    n_s, ch = 3, 2
    conv = SE3Conv(n_s, ch, l_max, ch, l_max, radial_dropout=0.0).double().eval()
    irreps_in = conv_input_irreps(n_s, ch, l_max)
    h = irreps_in.randn(g.num_nodes, -1, dtype=torch.float64)
    embed_edges = SE3GNN(channels=ch, l_max=l_max, n_layers=1).double().embed_edges
    src, dst = g.edge_index

    def layer(h, edge_vec):
        return conv(h, *embed_edges(edge_vec), src, dst)

    # e3nn's Wigner D matrices carry float32-level errors: ~2e-6 here at l_max = 3
    assert_se3_equivariant(
        layer, [h, g.edge_vec], [irreps_in, "cartesian_points"], conv.irreps_out, tolerance=1e-5
    )


def test_batchnorm_and_invariants_equivariance():
    from e3nn import nn as enn

    torch.manual_seed(0)
    irreps = hidden_irreps(3, 3)
    bn = enn.BatchNorm(irreps, momentum=0.5, affine=True).double()
    h = irreps.randn(40, -1, dtype=torch.float64)
    for train in (True, False):  # batch statistics, then the running ones
        bn.train(train)
        assert_se3_equivariant(bn, [h], [irreps], irreps, tolerance=1e-6)
    assert invariant_features(h, 3, 3).shape == (40, 12)
    assert_se3_equivariant(
        lambda h: invariant_features(h, 3, 3), [h], [irreps], o3.Irreps("12x0e"), tolerance=1e-6
    )


def test_kernel_contract_and_registry():
    irreps_in = conv_input_irreps(3, 2, 2)
    kernel = make_kernel("e3nn", irreps_in, 2)
    assert isinstance(kernel, E3nnKernel)
    assert kernel.weight_numel == sum(t.mul for t in kernel.triplets)
    assert kernel.irreps_sh == sh_irreps(2)
    with pytest.raises(ConfigError, match="conv_impl"):
        make_kernel("no_such_impl", irreps_in, 2)

    @register_conv_impl("test_double_sum")
    class DoubleSum(E3nnKernel):  # a swapped-in kernel reusing the reference (contract check)
        pass

    try:
        conv = SE3Conv(3, 2, 2, 2, 2, conv_impl="test_double_sum")
        assert isinstance(conv.kernel, DoubleSum)
    finally:
        CONV_IMPLS.pop("test_double_sum")


def test_fast_kernel_is_found_by_name_and_matches_reference():
    pytest.importorskip("interplay.glass.nn.kernels._fast")
    torch.manual_seed(0)
    g = random_ka_graph(dtype=torch.float64)
    ref = SE3Conv(3, 2, 2, 2, 2, radial_dropout=0.0).double().eval()
    fast = SE3Conv(3, 2, 2, 2, 2, radial_dropout=0.0, conv_impl="fast").double().eval()
    fast.load_state_dict(ref.state_dict())
    model = SE3GNN(channels=2, l_max=2, n_layers=1).double()
    sh, basis = model.embed_edges(g.edge_vec)
    h = ref.irreps_in.randn(g.num_nodes, -1, dtype=torch.float64)
    src, dst = g.edge_index
    torch.testing.assert_close(fast(h, sh, basis, src, dst), ref(h, sh, basis, src, dst))


# --------------------------------------------------------------------------- whole network
def test_network_rotation_equivariance_and_prediction_invariance():
    g = random_ka_graph(seed=3, dtype=torch.float64)
    model = small_model(radial_dropout=0.0)
    torch.manual_seed(3)

    def features_and_predictions(edge_vec):
        rotated = g.clone()
        rotated.edge_vec = edge_vec
        return model.representation(g.x, g.edge_index, edge_vec), model(rotated)

    # h^(L_max) rotates with D(R); the predictions (3 timescales) are invariant scalars
    irreps_out = [model.irreps_hidden, o3.Irreps("3x0e")]
    for mode in ("train", "eval"):  # train: batch statistics; eval: running statistics
        model.train(mode == "train")
        assert_se3_equivariant(
            features_and_predictions, [g.edge_vec], ["cartesian_points"], irreps_out, 1e-5
        )
        assert model(g).shape == (g.num_nodes, 3)


def test_permutation_equivariance():
    g = random_ka_graph(seed=4, dtype=torch.float64)
    model = small_model().eval()
    perm = torch.randperm(g.num_nodes)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(len(perm))
    gp = g.clone()
    gp.x, gp.node_type, gp.pos = g.x[perm], g.node_type[perm], g.pos[perm]
    gp.edge_index = inv[g.edge_index]  # node k of g is node inv[k] of gp
    e_perm = torch.randperm(g.edge_index.shape[1])  # edge order must not matter either
    gp.edge_index, gp.edge_vec = gp.edge_index[:, e_perm], g.edge_vec[e_perm]
    torch.testing.assert_close(model(gp), model(g)[perm], atol=1e-8, rtol=1e-8)


def test_periodic_translation_invariance():
    pos, types, box = random_ka_configuration(seed=5)
    model = small_model().eval()
    y = model(ka_graph(pos, types, box, dtype=torch.float64))
    moved = np.mod(pos + np.array([0.37, -5.1, 2.9]) * box, box)  # wrapped back into [0, L)
    y_moved = model(ka_graph(moved, types, box, dtype=torch.float64))
    torch.testing.assert_close(y_moved, y, atol=1e-8, rtol=1e-8)


def test_input_validation():
    g = random_ka_graph(dtype=torch.float64)
    with pytest.raises(Exception, match="n_node_scalars"):
        small_model(n_node_scalars=3)(g)
    with pytest.raises(ConfigError):
        SE3GNN(channels=0)


def test_tiny_model_overfits_tiny_graph():
    g = random_ka_graph(seed=6)  # float32
    # a smooth structural target: neighbour-count field of each particle at two radii
    r = g.edge_vec.norm(dim=-1)
    target = torch.stack(
        [
            torch.zeros(g.num_nodes).index_add_(0, g.edge_index[1], (r < 1.2).float()),
            torch.zeros(g.num_nodes).index_add_(0, g.edge_index[1], torch.exp(-r)),
        ],
        dim=1,
    )
    target = (target - target.mean(0)) / target.std(0)
    torch.manual_seed(0)
    model = SE3GNN(
        n_node_scalars=2, n_timescales=2, channels=4, l_max=1, n_layers=2, radial_dropout=0.0,
        decoder_bias=True,
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    first = None
    for _ in range(80):
        opt.zero_grad()
        loss = (model(g) - target).pow(2).mean(0).sum()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.1 * first
    model.eval()
    pred = model(g).detach()
    for k in range(2):
        assert np.corrcoef(pred[:, k], target[:, k])[0, 1] > 0.9
    assert math.isfinite(loss.item())
