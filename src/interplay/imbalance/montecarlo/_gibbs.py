"""Finite-N Monte Carlo of the Gibbs measure of the imbalanced teacher-student perceptron.

Samples ``P(w, b) ∝ exp(-E(w, b)/T)`` with ``w`` uniform on the sphere ``w.w = N`` (eq. 1.49),
a flat prior on ``b`` (restricted to ``|b| <= b_max``), and the error-counting energy
``E = #{μ : sign(w.S_μ/√N + b) != g0_μ}`` (eq. 1.77) on a training set of ``P = αN`` samples
with exactly ``round(ρ_train P)`` positives (eq. 1.34, drawn with
:func:`interplay.imbalance.data._teacher_student.sample_dataset`). This is the measure whose
quenched average the replica theory computes, so the two must agree up to finite-N effects.

Moves (every one leaves the Gibbs measure invariant):

* **w, plane rotation** (``w_move``): pick two coordinates (i, j) and rotate ``(w_i, w_j)`` in
  their plane by θ. Rotations preserve the uniform measure on the sphere and their orbits
  partition it. The fields move as ``h(θ) = h - A + A cos θ + B sin θ`` with
  ``A = (w_i S_i + w_j S_j)/√N``, ``B = (w_i S_j - w_j S_i)/√N``, so E(θ) is piecewise
  constant with at most 2P breakpoints in closed form. ``heatbath`` (default) samples θ
  exactly from ``exp(-E(θ)/T)`` on the whole circle (one sort of the 2P breakpoints, done as
  a numpy sort of float32 keys whose lowest bit carries the sign of the energy step; the
  energy is then recomputed exactly); ``metropolis`` proposes a Gaussian θ. With ~αN margins
  near zero any move turns w by only ~1/N, so plane rotations (O(P)) beat full-vector moves
  (O(PN)). The heat bath crosses the barriers along the circle: at N = 200 the Metropolis
  version was still too hot (train error +15%, q -12%) after 300 sweeps, the heat bath not.
* **w, meridian**: the slow mode is the teacher overlap R. Write ``ŵ = cos φ ŵ0 + sin φ u``
  (u ⊥ w0) and propose ``φ -> φ + δ`` at fixed u. The meridians (great circles through ±w0)
  partition the sphere, with the uniform measure ∝ ``sin^{N-2} φ dφ`` along them, hence the
  acceptance ``min(1, (sin φ'/sin φ)^{N-2} e^{-βΔE})``. The fields move along
  ``h = cos φ y + sin φ h_u`` with y the (fixed) teacher fields: O(P) per move. Without it,
  R relaxes over hundreds of sweeps at N = 200.
* **b**: Gaussian random-walk Metropolis on the flat prior restricted to ``|b| <= b_max``.
  Metropolis step sizes are tuned during the burn-in only, then frozen.

Everything is vectorised over data draws (quenched disorder) and chains with torch (float64).
Every data draw runs two chains, one started at random and one at the teacher: their
overlap gives q and their agreement checks equilibration. Test metrics of a sample (w, b)
follow from (R, b) exactly (:mod:`interplay.imbalance.theory._metrics`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from interplay.core import ConfigError, check_int_at_least, check_open_unit, check_positive
from interplay.imbalance.data import (
    check_b0,
    replica_generators,
    sample_dataset,
    sample_teacher,
    training_positives,
)
from interplay.imbalance.theory import metrics_from_rates, recall_specificity

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
    bias_every: int = 4  # one bias move every this many rotations
    meridian_every: int = 4  # one meridian (teacher-overlap) move every this many rotations
    learn_bias: bool = True
    b_max: float = 6.0
    seed: int = 0
    resync_every: int = 20  # sweeps between exact recomputations of the fields
    w_move: str = "heatbath"  # heatbath | metropolis (plane rotations)

    def __post_init__(self) -> None:
        check_positive("alpha", self.alpha)
        check_positive("T", self.T)
        check_b0("b0", self.b0)
        check_open_unit("rho_train", self.rho_train)
        check_int_at_least("N", self.N, 4)
        check_int_at_least("n_draws", self.n_draws, 2)
        check_int_at_least("bias_every", self.bias_every, 1)
        check_int_at_least("meridian_every", self.meridian_every, 1)
        if self.w_move not in ("heatbath", "metropolis"):
            raise ConfigError(f"w_move={self.w_move!r} must be heatbath or metropolis.")
        if not 0 <= self.burn_in < self.n_sweeps:
            raise ConfigError(f"burn_in={self.burn_in} must be in [0, n_sweeps={self.n_sweeps}).")
        if abs(self.b0) >= self.b_max:
            raise ConfigError(f"b_max={self.b_max} must exceed |b0|={abs(self.b0)}.")
        if round(self.alpha * self.N) < 2:
            raise ConfigError(
                f"alpha*N={self.alpha * self.N} leaves fewer than 2 training samples."
            )
        training_positives("rho_train", self.rho_train, round(self.alpha * self.N))


def _metropolis(delta_e: torch.Tensor, beta: float, gen: torch.Generator) -> torch.Tensor:
    """Accept mask for energy changes ``delta_e`` at inverse temperature ``beta``."""
    u = torch.rand(delta_e.shape, generator=gen, dtype=delta_e.dtype)
    return u < torch.exp(-beta * delta_e.clamp_min(0.0))


def circle_heatbath(c0, amp_cos, amp_sin, y, beta, rng: np.random.Generator) -> np.ndarray:
    """θ ~ exp(-β E(θ)) on [0, 2π), E(θ) = #{μ: y_μ (c0 + A cos θ + B sin θ)_μ < 0}.

    Arrays (B, P); returns θ (B,) float64. Breakpoints are computed in float32 (the caller
    recomputes the energy at θ exactly, so rounding only blurs the density by ~1e-7 rad).
    """
    n_rows, n_p = c0.shape
    a = amp_cos.astype(np.float32)
    bb = amp_sin.astype(np.float32)
    amp = np.hypot(a, bb)
    phase = np.arctan2(bb, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = -c0.astype(np.float32) / amp
    valid = np.abs(ratio) < 1.0
    psi = np.arccos(np.clip(ratio, -1.0, 1.0))
    roots = np.empty((n_rows, 2 * n_p), dtype=np.float32)
    np.add(phase, psi, out=roots[:, :n_p])
    np.subtract(phase, psi, out=roots[:, n_p:])
    roots += np.float32(TWO_PI) * (roots < 0)
    roots[:, :n_p][~valid] = 7.0  # no crossing: beyond 2π
    roots[:, n_p:][~valid] = 7.0
    # crossing at phase + psi: the margin y*field decreases iff y > 0 -> dE = +y; -y at -psi.
    # The sign rides in the lowest bit of the float32 key (positive floats sort like int32).
    bits = roots.view(np.int32)
    bits &= ~np.int32(1)
    bits[:, :n_p] |= y > 0
    bits[:, n_p:] |= y < 0
    bits.sort(axis=1)
    steps = 2.0 * (bits & 1).astype(np.float32) - 1.0
    bits &= ~np.int32(1)
    edges = bits.view(np.float32)
    inside = edges < TWO_PI
    steps *= inside
    np.minimum(edges, np.float32(TWO_PI), out=edges)
    energies = np.empty((n_rows, 2 * n_p + 1), dtype=np.float32)
    energies[:, 0] = ((y * (c0 + amp_cos)) < 0).sum(axis=1)  # θ = 0: field c0 + A = h + b
    np.cumsum(steps, axis=1, out=energies[:, 1:])
    energies[:, 1:] += energies[:, :1]
    starts = np.empty_like(energies)
    starts[:, 0] = 0.0
    starts[:, 1:] = edges
    lengths = np.empty_like(energies)
    lengths[:, :-1] = edges - starts[:, :-1]
    lengths[:, -1] = TWO_PI - edges[:, -1]
    e_min = np.where(lengths > 0, energies, np.inf).min(axis=1, keepdims=True)
    weights = lengths * np.exp(-beta * (energies - e_min))
    cdf = np.cumsum(weights, axis=1)
    u = rng.random((n_rows, 1), dtype=np.float32) * cdf[:, -1:]
    j = np.minimum((cdf < u).sum(axis=1), cdf.shape[1] - 1)
    rows = np.arange(n_rows)
    theta = starts[rows, j].astype(np.float64) + rng.random(n_rows) * lengths[rows, j]
    return theta


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
    y_np = y.numpy()
    rng = np.random.default_rng(cfg.seed + 7)

    def fields() -> torch.Tensor:
        return torch.einsum("dnp,dcn->dcp", S, w).reshape(2 * d, n_train) / sqrt_n

    def energy_of(h_: torch.Tensor) -> torch.Tensor:
        return ((y * (h_ + b[:, None])) < 0).sum(dim=1, dtype=torch.float64)

    h = fields()
    energy = energy_of(h)
    w0_hat = (W0 / sqrt_n)[:, None, :]  # (D, 1, N)
    y_teacher = (torch.einsum("dnp,dn->dp", S, W0) / sqrt_n).repeat_interleave(2, dim=0)
    acc = {k: torch.zeros((d, 2), dtype=torch.float64) for k in ("R", "b", "err")}
    q_sum, rate_sums, n_meas = torch.zeros(d, dtype=torch.float64), np.zeros((2, d, 2)), 0
    step_w, step_b, step_m = 2.0 / math.sqrt(n), 0.1, 0.3 / math.sqrt(n)  # tuned in burn-in
    trace: list[torch.Tensor] = []  # mean R of the (random, teacher) starts per sweep
    for sweep in range(cfg.n_sweeps):
        perm = torch.randperm(n, generator=gen)
        thetas = step_w * torch.randn((n // 2, 2 * d), generator=gen, dtype=torch.float64)
        n_acc_w = n_acc_b = n_try_b = n_acc_m = n_try_m = 0
        for move in range(n // 2):
            i, j = int(perm[2 * move]), int(perm[2 * move + 1])
            s_i, s_j = S[:, i, None, :], S[:, j, None, :]  # (D, 1, P)
            w_i, w_j = w[:, :, i, None], w[:, :, j, None]  # (D, 2, 1)
            a_cos = ((w_i * s_i + w_j * s_j) / sqrt_n).reshape(2 * d, n_train)
            a_sin = ((w_i * s_j - w_j * s_i) / sqrt_n).reshape(2 * d, n_train)
            if cfg.w_move == "heatbath":
                theta = torch.from_numpy(
                    circle_heatbath(
                        (h - a_cos + b[:, None]).numpy(),
                        a_cos.numpy(),
                        a_sin.numpy(),
                        y_np,
                        beta,
                        rng,
                    )
                )
            else:
                theta = thetas[move]
            c, s = torch.cos(theta), torch.sin(theta)
            h_new = h + (c[:, None] - 1.0) * a_cos + s[:, None] * a_sin
            e_new = energy_of(h_new)
            if cfg.w_move == "heatbath":
                ok = torch.ones_like(e_new, dtype=torch.bool)
            else:
                ok = _metropolis(e_new - energy, beta, gen)
            n_acc_w += int(ok.sum())
            h = torch.where(ok[:, None], h_new, h)
            energy = torch.where(ok, e_new, energy)
            c = torch.where(ok, c, 1.0).reshape(d, 2)
            s = torch.where(ok, s, 0.0).reshape(d, 2)
            wi_old = w[:, :, i].clone()
            w[:, :, i] = c * wi_old - s * w[:, :, j]
            w[:, :, j] = s * wi_old + c * w[:, :, j]
            if move % cfg.meridian_every == 0:
                cos_phi = ((w * w0_hat).sum(-1) / sqrt_n).reshape(2 * d).clamp(-1.0, 1.0)
                phi = torch.arccos(cos_phi)
                phi_new = phi + step_m * torch.randn(phi.shape, generator=gen, dtype=phi.dtype)
                inside = (phi_new > 0) & (phi_new < math.pi) & (phi > 0) & (phi < math.pi)
                sin_phi = torch.sin(phi).clamp_min(1e-300)
                h_u = (h - cos_phi[:, None] * y_teacher) / sin_phi[:, None]
                h_new = torch.cos(phi_new)[:, None] * y_teacher + torch.sin(phi_new)[:, None] * h_u
                e_new = energy_of(h_new)
                log_jac = (n - 2) * (
                    torch.log(torch.sin(phi_new).abs().clamp_min(1e-300)) - torch.log(sin_phi)
                )
                u = torch.rand(phi.shape, generator=gen, dtype=phi.dtype)
                ok = inside & (torch.log(u) < log_jac - beta * (e_new - energy))
                h = torch.where(ok[:, None], h_new, h)
                energy = torch.where(ok, e_new, energy)
                okr = ok.reshape(d, 2, 1)
                u_vec = (w / sqrt_n - cos_phi.reshape(d, 2, 1) * w0_hat) / sin_phi.reshape(d, 2, 1)
                w_new = sqrt_n * (
                    torch.cos(phi_new).reshape(d, 2, 1) * w0_hat
                    + torch.sin(phi_new).reshape(d, 2, 1) * u_vec
                )
                w = torch.where(okr, w_new, w)
                n_acc_m += int(ok.sum())
                n_try_m += ok.numel()
            if cfg.learn_bias and move % cfg.bias_every == 0:
                b_new = b + step_b * torch.randn(b.shape, generator=gen, dtype=b.dtype)
                e_new = ((y * (h + b_new[:, None])) < 0).sum(dim=1, dtype=torch.float64)
                ok = _metropolis(e_new - energy, beta, gen) & (b_new.abs() <= cfg.b_max)
                b = torch.where(ok, b_new, b)
                energy = torch.where(ok, e_new, energy)
                n_acc_b += int(ok.sum())
                n_try_b += ok.numel()
        if sweep < cfg.burn_in:  # Robbins-Monro tuning towards ~40% acceptance, burn-in only
            gain = 1.0 / math.sqrt(sweep + 1.0)
            if cfg.w_move == "metropolis":
                step_w *= math.exp(gain * (n_acc_w / ((n // 2) * 2 * d) - 0.4))
            if n_try_b:
                step_b *= math.exp(gain * (n_acc_b / n_try_b - 0.4))
            if n_try_m:
                step_m *= math.exp(gain * (n_acc_m / n_try_m - 0.4))
        if (sweep + 1) % cfg.resync_every == 0:
            w *= sqrt_n / w.norm(dim=-1, keepdim=True)
            h = fields()
            energy = energy_of(h)
        trace.append((w * W0[:, None, :]).sum(-1).mean(0) / n)
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
    out["step_w"], out["step_b"], out["step_m"] = step_w, step_b, step_m
    out["trace_R"] = torch.stack(trace).numpy()  # (n_sweeps, 2)
    return out


def summarize_draws(per_draw: dict) -> dict[str, tuple[float, float]]:
    """Mean and standard error over data draws of every per-draw array."""
    out = {}
    for key, val in per_draw.items():
        if isinstance(val, np.ndarray) and val.ndim == 1:
            out[key] = (float(val.mean()), float(val.std(ddof=1) / math.sqrt(len(val))))
    return out
