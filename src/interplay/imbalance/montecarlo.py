"""Finite-N Monte Carlo of the Gibbs measure of the imbalanced teacher-student perceptron.

Samples ``P(w, b) ∝ exp(-E(w, b)/T)`` with ``w`` uniform on the sphere ``w.w = N`` (eq. 1.49),
a flat prior on ``b`` (restricted to ``|b| <= b_max``), and the error-counting energy
``E = #{μ : sign(w.S_μ/√N + b) != g0_μ}`` (eq. 1.77) on a training set of ``P = αN`` samples
with exactly ``round(ρ_train P)`` positives (eq. 1.34, drawn with
:func:`interplay.imbalance.teacher_student.sample_dataset`). This is the measure whose
quenched average the replica theory computes, so the two must agree up to finite-N effects.

Both moves are exact conditional (heat-bath) updates, hence rejection-free:

* **w, plane rotation**: pick two coordinates (i, j) and sample the angle θ of the rotation
  of ``(w_i, w_j)`` in their plane from ``exp(-E(θ)/T)`` on the whole circle. Such rotations
  preserve the uniform measure on the sphere and their orbits partition it, so the heat bath
  on the orbit is a valid Gibbs move. The fields are ``h_μ(θ) = h_μ - A_μ + A_μ cos θ +
  B_μ sin θ`` with ``A = (w_i S_i + w_j S_j)/√N``, ``B = (w_i S_j - w_j S_i)/√N``: E(θ) is
  piecewise constant with at most 2P breakpoints, found in closed form, and a move costs
  O(P). (A random great circle through w costs O(PN) for the same angular step ~1/N: with
  ~αN margins near zero, any move can only turn w by ~1/N, so the plane rotations are N
  times cheaper. Decorrelation takes O(N) sweeps of N/2 rotations.)
* **b, heat bath**: E(b) is piecewise constant with breakpoints at ``-h_μ``; sample exactly.

Everything is vectorised over data draws (quenched disorder) and chains with torch (float64).
Every data draw runs two chains, one started at random and one at the teacher: their
overlap gives q and their agreement checks equilibration. Test metrics of a sample (w, b)
follow from (R, b) exactly (:mod:`interplay.imbalance.replica_metrics`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from interplay.imbalance.replica_metrics import metrics_from_rates, recall_specificity
from interplay.imbalance.teacher_student import (
    replica_generators,
    sample_dataset,
    sample_teacher,
)
from interplay.utils.errors import ConfigError
from interplay.utils.validation import check_int_at_least, check_open_unit, check_positive

TWO_PI = 2.0 * math.pi


@dataclass
class MCConfig:
    """One Monte Carlo estimate (see the module docstring). Times are in sweeps of N/2 plane
    rotations; measurements are taken once per sweep after ``burn_in`` sweeps."""

    alpha: float
    T: float
    b0: float
    rho_train: float
    N: int = 100
    n_draws: int = 32
    n_sweeps: int = 300
    burn_in: int = 100
    bias_every: int = 4  # one heat-bath bias move every this many rotations
    learn_bias: bool = True
    b_max: float = 6.0
    seed: int = 0
    resync_every: int = 20  # sweeps between exact recomputations of the fields

    def __post_init__(self) -> None:
        check_positive("alpha", self.alpha)
        check_positive("T", self.T)
        check_open_unit("rho_train", self.rho_train)
        check_int_at_least("N", self.N, 4)
        check_int_at_least("n_draws", self.n_draws, 2)
        check_int_at_least("bias_every", self.bias_every, 1)
        if not 0 <= self.burn_in < self.n_sweeps:
            raise ConfigError(f"burn_in={self.burn_in} must be in [0, n_sweeps={self.n_sweeps}).")
        if abs(self.b0) >= self.b_max:
            raise ConfigError(f"b_max={self.b_max} must exceed |b0|={abs(self.b0)}.")
        if round(self.alpha * self.N) < 2:
            raise ConfigError(f"alpha*N={self.alpha * self.N} leaves fewer than 2 training samples.")


def _sample_arcs(
    starts: torch.Tensor, energies: torch.Tensor, beta: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample a point from piecewise-constant densities exp(-β E_j) on arcs [s_j, s_{j+1}).

    ``starts`` (B, M+1) sorted arc edges, ``energies`` (B, M). Returns (point, energy).
    """
    lengths = (starts[:, 1:] - starts[:, :-1]).clamp_min(0.0)
    e_min = torch.where(lengths > 0, energies, torch.inf).min(dim=1, keepdim=True).values
    weights = lengths * torch.exp(-beta * (energies - e_min))
    cdf = torch.cumsum(weights, dim=1)
    u = torch.rand(cdf.shape[0], 1, generator=gen, dtype=cdf.dtype) * cdf[:, -1:]
    j = torch.searchsorted(cdf, u).clamp_max(energies.shape[1] - 1)
    lo = starts.gather(1, j)
    frac = torch.rand(lo.shape, generator=gen, dtype=lo.dtype)
    point = lo + frac * lengths.gather(1, j)
    return point.squeeze(1), energies.gather(1, j).squeeze(1)


def circle_move(c0, amp_cos, amp_sin, y, energy, beta, gen):
    """θ ~ exp(-β E(θ)) with E(θ) = #{μ: y_μ (c0 + A cos θ + B sin θ)_μ < 0}. Shapes (B, P).

    ``energy`` is E(0). Returns (θ, E(θ)).
    """
    amp = torch.sqrt(amp_cos * amp_cos + amp_sin * amp_sin)
    phase = torch.atan2(amp_sin, amp_cos)
    ratio = -c0 / amp
    valid = ratio.abs() < 1.0
    psi = torch.arccos(ratio.clamp(-1.0, 1.0))
    roots = torch.cat([phase + psi, phase - psi], dim=1).remainder(TWO_PI)
    # crossing at phase + psi: the margin y*field decreases iff y > 0 -> dE = +y; opposite at -psi
    valid2 = torch.cat([valid, valid], dim=1)
    d_e = torch.cat([y, -y], dim=1) * valid2
    roots = torch.where(valid2, roots, torch.full_like(roots, TWO_PI))
    order = torch.argsort(roots, dim=1)
    roots = roots.gather(1, order)
    steps = d_e.gather(1, order)
    zeros = torch.zeros_like(roots[:, :1])
    starts = torch.cat([zeros, roots, zeros + TWO_PI], dim=1)
    energies = energy[:, None] + torch.cat([zeros, torch.cumsum(steps, dim=1)], dim=1)
    return _sample_arcs(starts, energies, beta, gen)


def bias_move(h, y, b_max, beta, gen):
    """Heat-bath b ~ exp(-β E(b)) on [-b_max, b_max]. Returns (b, E(b))."""
    breaks = -h
    inside = breaks.abs() < b_max
    d_e = torch.where(inside, -y, torch.zeros_like(y))  # b passing -h_mu: positive fixed, negative broken
    breaks = torch.where(inside, breaks, torch.full_like(breaks, b_max))
    order = torch.argsort(breaks, dim=1)
    breaks = breaks.gather(1, order)
    steps = d_e.gather(1, order)
    e_left = ((y * (h - b_max)) < 0).sum(dim=1, dtype=h.dtype)
    lo = torch.full_like(breaks[:, :1], -b_max)
    starts = torch.cat([lo, breaks, -lo], dim=1)
    energies = e_left[:, None] + torch.cat([torch.zeros_like(lo), torch.cumsum(steps, dim=1)], dim=1)
    return _sample_arcs(starts, energies, beta, gen)


def _draw_data(cfg: MCConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Quenched disorder: teacher and training set of every draw (float64)."""
    n_train = round(cfg.alpha * cfg.N)
    s_list, y_list, w0_list = [], [], []
    for g in replica_generators(cfg.seed, cfg.n_draws):
        w0 = sample_teacher(cfg.N, g)
        x, labels = sample_dataset(w0, cfg.b0, n_train, cfg.rho_train, g)
        s_list.append(x.to(torch.float64).T.contiguous())  # (N, P): a coordinate is a row
        y_list.append(2.0 * labels.to(torch.float64) - 1.0)
        w0_list.append(w0)
    return torch.stack(s_list), torch.stack(y_list), torch.stack(w0_list)


def run_gibbs_mc(cfg: MCConfig, rho_test: float | None = None) -> dict:
    """Run the chains; return per-draw estimates (numpy arrays of shape (n_draws,)).

    Keys: R, R_random_start, R_teacher_start, q (overlap of the two chains), b, train_error,
    recall, specificity, plus the test metrics at ``rho_test`` when given, and ``seconds``.
    """
    t_start = time.perf_counter()
    n, d, beta = cfg.N, cfg.n_draws, 1.0 / cfg.T
    sqrt_n = math.sqrt(n)
    S, Y, W0 = _draw_data(cfg)  # (D, N, P), (D, P), (D, N) with |w0|^2 = N
    n_train = Y.shape[1]
    gen = torch.Generator().manual_seed(cfg.seed + 104729)
    # chain 0: uniform on the sphere, b = 0; chain 1: the teacher (w0, b0)
    w_rand = torch.randn((d, n), generator=gen, dtype=torch.float64)
    w_rand *= sqrt_n / w_rand.norm(dim=1, keepdim=True)
    w = torch.stack([w_rand, W0.clone()], dim=1)  # (D, 2, N)
    b = torch.tensor([0.0, cfg.b0], dtype=torch.float64).repeat(d)  # (2D,)
    if not cfg.learn_bias:
        b.fill_(cfg.b0)
    y = Y.repeat_interleave(2, dim=0)  # (2D, P), row = draw * 2 + chain

    def fields() -> torch.Tensor:
        return torch.einsum("dnp,dcn->dcp", S, w).reshape(2 * d, n_train) / sqrt_n

    def energy_of(h_: torch.Tensor) -> torch.Tensor:
        return ((y * (h_ + b[:, None])) < 0).sum(dim=1, dtype=torch.float64)

    h = fields()
    energy = energy_of(h)
    acc = {k: torch.zeros((d, 2), dtype=torch.float64) for k in ("R", "b", "err")}
    q_sum, rate_sums, n_meas = torch.zeros(d, dtype=torch.float64), np.zeros((2, d, 2)), 0
    draws = torch.arange(d)
    for sweep in range(cfg.n_sweeps):
        perm = torch.randperm(n, generator=gen)
        for move in range(n // 2):
            i, j = int(perm[2 * move]), int(perm[2 * move + 1])
            s_i, s_j = S[draws, i][:, None, :], S[draws, j][:, None, :]  # (D, 1, P)
            w_i, w_j = w[:, :, i, None], w[:, :, j, None]  # (D, 2, 1)
            a_cos = ((w_i * s_i + w_j * s_j) / sqrt_n).reshape(2 * d, n_train)
            a_sin = ((w_i * s_j - w_j * s_i) / sqrt_n).reshape(2 * d, n_train)
            theta, energy = circle_move(h - a_cos + b[:, None], a_cos, a_sin, y, energy, beta, gen)
            c, s = torch.cos(theta), torch.sin(theta)
            h = h + (c[:, None] - 1.0) * a_cos + s[:, None] * a_sin
            c, s = c.reshape(d, 2), s.reshape(d, 2)
            wi_old = w[:, :, i].clone()
            w[:, :, i] = c * wi_old - s * w[:, :, j]
            w[:, :, j] = s * wi_old + c * w[:, :, j]
            if cfg.learn_bias and move % cfg.bias_every == 0:
                b, energy = bias_move(h, y, cfg.b_max, beta, gen)
        if (sweep + 1) % cfg.resync_every == 0:
            w *= sqrt_n / w.norm(dim=-1, keepdim=True)
            h = fields()
            energy = energy_of(h)
        if sweep >= cfg.burn_in:
            R = (w * W0[:, None, :]).sum(-1) / n
            bb = b.reshape(d, 2)
            acc["R"] += R
            acc["b"] += bb
            acc["err"] += energy.reshape(d, 2) / n_train
            q_sum += (w[:, 0] * w[:, 1]).sum(-1) / n
            rate_sums += np.stack(recall_specificity(R.numpy(), bb.numpy(), cfg.b0))
            n_meas += 1
    mean = {k: (v / n_meas).numpy() for k, v in acc.items()}
    rates = rate_sums / n_meas  # (2, D, 2): Gibbs averages of recall and specificity
    recall, specificity = rates[0].mean(axis=1), rates[1].mean(axis=1)
    out = {
        "R": mean["R"].mean(axis=1),
        "R_random_start": mean["R"][:, 0],
        "R_teacher_start": mean["R"][:, 1],
        "q": (q_sum / n_meas).numpy(),
        "b": mean["b"].mean(axis=1),
        "train_error": mean["err"].mean(axis=1),
        "recall": recall,
        "specificity": specificity,
    }
    if rho_test is not None:
        for key, val in metrics_from_rates(recall, specificity, rho_test).items():
            out.setdefault(key, val)
    out["seconds"] = time.perf_counter() - t_start
    return out


def summarize_draws(per_draw: dict) -> dict[str, tuple[float, float]]:
    """Mean and standard error over data draws of every per-draw array."""
    out = {}
    for key, val in per_draw.items():
        if isinstance(val, np.ndarray) and val.ndim == 1:
            out[key] = (float(val.mean()), float(val.std(ddof=1) / math.sqrt(len(val))))
    return out
