"""ChannelMixing (eq. 2.65) is e3nn's o3.Linear: same parameters and state dict, same outputs
and gradients, rotation equivariance."""

from __future__ import annotations

import pytest
import torch
from e3nn import o3
from helpers import assert_se3_equivariant

from interplay.glass.nn import ChannelMixing, hidden_irreps, triplets


def mid_irreps(channels: int, l_max: int) -> o3.Irreps:
    """The kernel output of a hidden layer: one block per triplet (several per l_O)."""
    irreps_in = o3.Irreps(f"{3 + channels}x0e") + hidden_irreps(channels, l_max)[1:]
    return o3.Irreps([(t.mul, (t.l_out, 1)) for t in triplets(irreps_in, l_max)])


@pytest.mark.parametrize(
    "irreps_in, irreps_out",
    [
        (mid_irreps(3, 3), hidden_irreps(4, 3)),
        (mid_irreps(2, 2), hidden_irreps(3, 2)),
        (o3.Irreps("2x0e + 3x1e"), o3.Irreps("4x0e + 2x1e + 5x2e")),  # no path into l = 2
    ],
    ids=["lmax3", "lmax2", "missing_l"],
)
def test_equals_e3nn_linear(irreps_in, irreps_out):
    torch.manual_seed(0)
    ref = o3.Linear(irreps_in, irreps_out).double()
    mix = ChannelMixing(irreps_in, irreps_out).double()
    assert mix.state_dict().keys() == ref.state_dict().keys()
    mix.load_state_dict(ref.state_dict())
    x = torch.randn(2, 7, irreps_in.dim, dtype=torch.float64, requires_grad=True)
    out_ref, out = ref(x), mix(x)
    torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(out)
    gx_ref, gw_ref = torch.autograd.grad(out_ref, (x, ref.weight), g)
    gx, gw = torch.autograd.grad(out, (x, mix.weight), g)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gw, gw_ref, rtol=1e-12, atol=1e-12)


def test_rotation_equivariance():
    irreps_in, irreps_out = mid_irreps(2, 3), hidden_irreps(3, 3)
    torch.manual_seed(0)
    mix = ChannelMixing(irreps_in, irreps_out).double()
    x = torch.randn(5, irreps_in.dim, dtype=torch.float64)
    assert_se3_equivariant(mix, [x], [irreps_in], irreps_out, tolerance=1e-10)
