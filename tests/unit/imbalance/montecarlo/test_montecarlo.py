"""Finite-N Monte Carlo of the Gibbs measure (interplay.imbalance.montecarlo._gibbs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interplay.core import ConfigError
from interplay.imbalance.montecarlo import MCConfig, compare_point, run_gibbs_mc, summarize_draws
from interplay.imbalance.montecarlo._gibbs import _draw_data  # white-box: the data draw itself
from interplay.imbalance.theory import ControlParams, solve_from


def _direct_gibbs_averages(cfg: MCConfig, n_samples: int, seed: int = 0) -> dict:
    """Exact-in-the-limit Gibbs averages per draw by importance sampling from the prior
    (w uniform on the sphere, b uniform on [-b_max, b_max]) -- no Markov chain involved."""
    S, Y, W0 = _draw_data(cfg)  # (D, N, P), (D, P), (D, N)
    gen = torch.Generator().manual_seed(seed)
    out = {"R": [], "b": [], "train_error": []}
    for d in range(cfg.n_draws):
        w = torch.randn((n_samples, cfg.N), generator=gen, dtype=torch.float64)
        w *= math.sqrt(cfg.N) / w.norm(dim=1, keepdim=True)
        b = (2 * torch.rand(n_samples, generator=gen, dtype=torch.float64) - 1) * cfg.b_max
        h = w @ S[d] / math.sqrt(cfg.N) + b[:, None]
        energy = ((Y[d] * h) < 0).sum(dim=1, dtype=torch.float64)
        weight = torch.exp(-(energy - energy.min()) / cfg.T)
        weight /= weight.sum()
        out["R"].append(float(weight @ (w @ W0[d]) / cfg.N))
        out["b"].append(float(weight @ b))
        out["train_error"].append(float(weight @ energy) / Y.shape[1])
    return {k: np.array(v) for k, v in out.items()}


def test_sampler_reproduces_the_gibbs_measure_of_a_tiny_system():
    """N = 4: plane rotations, meridian moves (sin^{N-2} Jacobian) and bias moves together
    must sample exp(-E/T) on sphere x [-b_max, b_max]; compared draw by draw with direct
    importance sampling of the same training sets."""
    cfg = MCConfig(
        alpha=2.0,
        T=1.0,
        b0=-0.3,
        rho_train=0.5,
        N=4,
        n_draws=8,
        n_sweeps=1200,
        burn_in=100,
        bias_every=1,
        meridian_every=1,
        b_max=3.0,
        seed=3,
    )
    mc = run_gibbs_mc(cfg)
    exact = _direct_gibbs_averages(cfg, n_samples=200_000)
    for key in ("R", "b", "train_error"):
        diff = mc[key] - exact[key]
        sem = diff.std(ddof=1) / math.sqrt(len(diff))
        assert abs(diff.mean()) < 4 * sem + 2e-3, (key, diff)
    # the two starts (random, teacher) agree
    assert np.abs(mc["R_random_start"] - mc["R_teacher_start"]).mean() < 0.05


def test_montecarlo_agrees_with_the_replica_theory_at_a_cheap_point():
    """alpha = 1.1, T = 0.5, b0 = -0.6, rho_train = 0.4: N = 64, 32 draws."""
    params = ControlParams(alpha=1.1, T=0.5, b0=-0.6, rho_train=0.4)
    point = solve_from(params)
    cfg = MCConfig(
        alpha=params.alpha,
        T=params.T,
        b0=params.b0,
        rho_train=params.rho_train,
        N=64,
        n_draws=32,
        n_sweeps=160,
        burn_in=60,
        bias_every=2,
        meridian_every=2,
        seed=1,
    )
    per_draw = run_gibbs_mc(cfg, rho_test=0.5)
    rows = compare_point(point, per_draw, 0.5, ("R", "b", "train_error", "balanced_accuracy"))
    for row in rows:
        # statistical error plus an O(1/N) finite-size allowance
        assert abs(row["mc_mean"] - row["theory"]) < 3 * row["mc_sem"] + 0.02, row
    stats = summarize_draws(per_draw)
    assert stats["q"][0] == pytest.approx(point.q, abs=3 * stats["q"][1] + 0.03)


def test_config_errors_are_clear():
    with pytest.raises(ConfigError, match="burn_in"):
        MCConfig(1.0, 0.5, 0.0, 0.5, n_sweeps=10, burn_in=10)
    with pytest.raises(ConfigError, match="b_max"):
        MCConfig(1.0, 0.5, -3.0, 0.5, b_max=2.0)
    with pytest.raises(ConfigError, match="rho_train"):
        MCConfig(1.0, 0.5, 0.0, 1.5)
    with pytest.raises(ConfigError, match="w_move"):
        MCConfig(1.0, 0.5, 0.0, 0.5, w_move="gibbs")
    # the bound and the two-class rule of train.py's data hold here too (issue 13, item 5)
    with pytest.raises(ConfigError, match=r"b0=-8.0 is out of range: \|b0\| must be <= 6"):
        MCConfig(1.0, 0.5, -8.0, 0.5, b_max=9.0)
    with pytest.raises(ConfigError, match="rho_train=0.004 with 100 training samples gives 0"):
        MCConfig(1.0, 0.5, 0.0, 0.004, N=100)


def test_metropolis_plane_rotations_also_sample_the_gibbs_measure():
    cfg = MCConfig(
        alpha=2.0,
        T=1.0,
        b0=-0.3,
        rho_train=0.5,
        N=4,
        n_draws=8,
        n_sweeps=1200,
        burn_in=100,
        bias_every=1,
        meridian_every=1,
        b_max=3.0,
        seed=5,
        w_move="metropolis",
    )
    mc = run_gibbs_mc(cfg)
    exact = _direct_gibbs_averages(cfg, n_samples=200_000)
    diff = mc["R"] - exact["R"]
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / math.sqrt(len(diff)) + 2e-3


def test_trivial_phase_point_is_compared_without_a_z_for_infinite_b():
    """ρ_train = 0.05 (α = 1.1, T = 0.5): b = -inf, R = q = 0; the MC rows for R, q, train
    error get z-scores, b gets none (docs/replica.md, "Trivial phase")."""
    point = solve_from(ControlParams(1.1, 0.5, -0.6, 0.05, True))
    assert point.converged and point.b == -np.inf and point.R == 0.0
    draws = {
        "R": np.array([0.01, -0.01, 0.0]),
        "q": np.array([0.0, 0.01, -0.01]),
        "b": np.array([-4.0, -4.1, -3.9]),
        "train_error": np.array([0.05, 0.051, 0.049]),
    }
    rows = {
        r["quantity"]: r for r in compare_point(point, draws, 0.5, ("R", "q", "b", "train_error"))
    }
    assert rows["R"]["agree"] and rows["train_error"]["agree"]
    assert rows["b"]["agree"] is None and np.isnan(rows["b"]["z"])
