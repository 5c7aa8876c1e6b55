"""Periodic cell-list neighbour list vs an O(N^2) reference, and the graph Data format."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import BOTAN, random_ka_configuration, random_ka_graph

from interplay.core import ConfigError
from interplay.glass.data import brute_force_neighbor_list, build_graph, periodic_neighbor_list


def _sorted(edge_index, vec):
    order = np.lexsort((edge_index[0], edge_index[1]))
    return edge_index[:, order], vec[order]


@pytest.mark.parametrize(
    ("n", "box", "cutoff"),
    [
        (800, (8.0, 8.0, 8.0), 2.0),  # cubic
        (900, (7.0, 9.5, 12.3), 2.0),  # orthorhombic, different cell counts per axis
        (300, (6.5, 6.5, 6.5), 2.5),  # only 2 cells per axis: brute-force fallback
        (700, (9.0, 9.0, 9.0), 1.37),
    ],
)
@pytest.mark.parametrize("backend", ["cells", "vesin"])
def test_cell_list_equals_brute_force(n, box, cutoff, backend):
    rng = np.random.default_rng(n)
    box = np.array(box)
    x = rng.uniform(-box, 2 * box, (n, 3))  # also unwrapped input
    ei, ev = periodic_neighbor_list(x, box, cutoff, backend=backend)
    eb, vb = _sorted(*brute_force_neighbor_list(np.mod(x, box), box, cutoff))
    np.testing.assert_array_equal(ei, eb)
    np.testing.assert_allclose(ev, vb, atol=1e-12)
    j, i = ei
    assert (i != j).all()
    assert (np.linalg.norm(ev, axis=1) < cutoff).all()
    # both directions with opposite vectors
    fwd = {(a, b): k for k, (a, b) in enumerate(zip(j, i, strict=True))}
    back = np.array([fwd[(b, a)] for a, b in zip(j, i, strict=True)])
    np.testing.assert_allclose(ev[back], -ev, atol=1e-12)
    # edge_vec = r_j - r_i under minimum image
    d = np.mod(x[j], box) - np.mod(x[i], box)
    np.testing.assert_allclose(ev, d - box * np.round(d / box), atol=1e-12)


def test_particle_near_boundary_sees_images():
    box = np.array([10.0, 10.0, 10.0])
    x = np.array([[0.1, 5, 5], [9.9, 5, 5], [5, 5, 5]])
    ei, ev = periodic_neighbor_list(x, box, 2.0)
    assert ei.T.tolist() == [[1, 0], [0, 1]]
    np.testing.assert_allclose(ev, [[-0.2, 0, 0], [0.2, 0, 0]], atol=1e-12)


def test_cutoff_larger_than_half_box_is_an_error():
    with pytest.raises(ConfigError, match="exceeds half the smallest box edge"):
        periodic_neighbor_list(np.zeros((4, 3)), (3.0, 10.0, 10.0), 2.0)
    with pytest.raises(ConfigError, match="choose one of"):
        periodic_neighbor_list(np.zeros((4, 3)), 10.0, 2.0, backend="kdtree")


def test_shared_random_ka_graph_builder():
    """tests/helpers.py: density 1.2, exactly 80:20, build_graph's format, reproducible."""
    pos, types, box = random_ka_configuration(n=100, seed=3)
    assert np.isclose(100 / np.prod(box), 1.2) and (types == 1).sum() == 20
    assert ((pos >= 0) & (pos < box)).all()
    g = random_ka_graph(n=100, seed=3, dtype=torch.float64)
    assert g.x.dtype == g.edge_vec.dtype == g.pos.dtype == torch.float64
    torch.testing.assert_close(g.node_type, torch.from_numpy(types))
    ei, ev = periodic_neighbor_list(pos, box, 2.0)
    np.testing.assert_array_equal(g.edge_index.numpy(), ei)
    np.testing.assert_allclose(g.edge_vec.numpy(), ev, atol=1e-6)  # stored as float32
    g32 = random_ka_graph(n=100, seed=3)
    assert g32.edge_vec.dtype == torch.float32
    torch.testing.assert_close(g32.edge_vec.double(), g.edge_vec, rtol=0, atol=0)


@pytest.mark.skipif(not BOTAN.is_dir(), reason="shared BOTAN sample missing")
def test_real_configuration_and_graph_format():
    from interplay.glass.data import load

    c = load(BOTAN / "test" / "isoconfig_N4096T0.44_402_tc07.npz")
    ei, ev = periodic_neighbor_list(c.positions, c.box, 2.0)
    sub = np.arange(0, 4096, 7)  # brute force on all pairs involving a subset of centres
    d = c.positions[None] - c.positions[sub, None]
    d -= c.box * np.round(d / c.box)
    r = np.linalg.norm(d, axis=-1)
    r[np.arange(sub.size), sub] = np.inf
    expected = (r < 2.0).sum(1)
    counts = np.bincount(ei[1], minlength=4096)
    np.testing.assert_array_equal(counts[sub], expected)
    assert counts.max() > 32  # more than radius_graph's default cap

    g = build_graph(c.positions, c.types, c.box, y=c.propensity.T, node_scalar=np.ones(4096))
    assert g.pos.dtype == torch.float32 and g.pos.shape == (4096, 3)
    assert g.box.shape == (1, 3) and g.x.shape == (4096, 3)
    torch.testing.assert_close(g.x[:, :2].argmax(1), g.node_type)
    assert g.edge_index.dtype == torch.long and g.edge_vec.shape == (g.edge_index.shape[1], 3)
    assert g.y.shape == (4096, 1)
