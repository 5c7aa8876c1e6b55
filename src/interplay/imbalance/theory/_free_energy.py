"""The replica-symmetric free energy ``Φ(q, R, b)`` and its gradient (thesis eqs. 1.70-1.95).

The formulas (``Φ = G0 + E``, the single-integral form of ``E``, the κ-derivative integrated by
parts) are derived in the docstring of :mod:`interplay.imbalance.theory._saddle`, which re-exports
:class:`RSFreeEnergy` and solves its saddle-point equations.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, log_ndtr, logit, ndtr

from interplay.imbalance.data import intrinsic_imbalance
from interplay.imbalance.theory._integrals import (
    gauss_average_nodes,
    log_sigmoid_mix,
    log_sigmoid_mix_prime,
)

if TYPE_CHECKING:  # replica imports this module: only a type hint here, no import cycle
    from interplay.imbalance.theory._saddle import ControlParams


class RSFreeEnergy:
    """The RS free energy ``Φ(q, R, b)`` of one set of control parameters and its gradient."""

    def __init__(self, params: ControlParams, n_per_panel: int = 10):
        self.p = params
        self.n = n_per_panel
        c_plus = intrinsic_imbalance(params.b0)  # c+ of eq. 1.34 = rho0 (eq. 1.35)
        self.a_plus = params.alpha * params.rho_train / c_plus
        self.a_minus = params.alpha * (1.0 - params.rho_train) / (1.0 - c_plus)
        if params.T == 0.0:
            self.log_e, self.log_s = -math.inf, 0.0
        else:
            beta = 1.0 / params.T
            self.log_e, self.log_s = -beta, math.log(-math.expm1(-beta))
        self.n_eval = 0

    # -- integrals -------------------------------------------------------------------------
    def _z_rule(self, q, omq, kappa, omk2, b):
        steps = [(-b / math.sqrt(q), math.sqrt(omq / q))]  # student boundary a(z) = 0
        if kappa != 0.0:  # teacher boundary b0 + κ z = 0
            steps.append((-self.p.b0 / kappa, math.sqrt(omk2) / abs(kappa)))
        z, w = gauss_average_nodes(steps, self.n)
        g = (self.p.b0 + kappa * z) / math.sqrt(omk2)
        a = (math.sqrt(q) * z + b) / math.sqrt(omq)
        return z, w, ndtr(g), ndtr(-g), a

    def energetic(self, q, omq, kappa, omk2, b) -> float:
        """E(q, R, b) = -αρ G_r^+ - α(1-ρ) G_r^- (eqs. 1.78-1.79)."""
        _, w, wp, wm, a = self._z_rule(q, omq, kappa, omk2, b)
        lp = log_sigmoid_mix(a, self.log_e, self.log_s)
        lm = log_sigmoid_mix(-a, self.log_e, self.log_s)
        return float(np.dot(w, self.a_plus * wp * lp + self.a_minus * wm * lm))

    def gradient_terms(self, q, omq, kappa, omk2, b) -> dict[str, float]:
        """∂E/∂q, ∂E/∂R (at fixed other parameters) and the two halves of ∂E/∂b."""
        self.n_eval += 1
        z, w, wp, wm, a = self._z_rule(q, omq, kappa, omk2, b)
        dp = self.a_plus * wp * log_sigmoid_mix_prime(a, self.log_e, self.log_s)
        dm = self.a_minus * wm * log_sigmoid_mix_prime(-a, self.log_e, self.log_s)
        pos, neg = float(np.dot(w, dp)), float(np.dot(w, dm))  # eq. 1.91: pos - neg = 0
        sq = math.sqrt(q)
        q_term = float(np.dot(w, (z + b * sq) * (dp - dm))) / (2.0 * sq * omq**1.5)
        # D_κ = ∂E/∂κ, integrated by parts along z = -b0 κ + sqrt(1-κ²) s.
        sk = math.sqrt(omk2)
        s_centre = (-b / sq + self.p.b0 * kappa) / sk
        s, ws = gauss_average_nodes([(s_centre, math.sqrt(omq / q) / sk)], self.n)
        a_s = (sq * (-self.p.b0 * kappa + sk * s) + b) / math.sqrt(omq)
        f_s = self.a_plus * log_sigmoid_mix_prime(a_s, self.log_e, self.log_s)
        f_s += self.a_minus * log_sigmoid_mix_prime(-a_s, self.log_e, self.log_s)
        d_kappa = math.exp(-0.5 * self.p.b0**2) / math.sqrt(2 * math.pi) * math.sqrt(q / omq)
        d_kappa *= float(np.dot(ws, f_s))
        return {
            "dE_dR": d_kappa / sq,
            "dE_dq": -kappa / (2.0 * q) * d_kappa + q_term,
            "pos": pos,
            "neg": neg,
            "dE_db": (pos - neg) / math.sqrt(omq),
        }

    def train_error(self, q, omq, kappa, omk2, b) -> float:
        """Average training error per sample, eq. 1.95."""
        if self.log_e == -math.inf:
            return 0.0
        _, w, wp, wm, a = self._z_rule(q, omq, kappa, omk2, b)
        ep = np.exp(self.log_e + log_ndtr(-a) - log_sigmoid_mix(a, self.log_e, self.log_s))
        em = np.exp(self.log_e + log_ndtr(a) - log_sigmoid_mix(-a, self.log_e, self.log_s))
        rho, c_plus = self.p.rho_train, intrinsic_imbalance(self.p.b0)
        return float(
            rho / c_plus * np.dot(w, wp * ep) + (1 - rho) / (1 - c_plus) * np.dot(w, wm * em)
        )

    # -- order parameters in unconstrained coordinates ---------------------------------------
    @staticmethod
    def unpack(x: np.ndarray, b_fixed: float | None):
        """x = (logit q, atanh κ[, b]) -> (q, 1-q, κ, 1-κ², b), keeping 1-q and 1-κ² exact."""
        q, omq = float(expit(x[0])), float(expit(-x[0]))
        kappa = math.tanh(x[1])
        omk2 = 1.0 / math.cosh(x[1]) ** 2 if abs(x[1]) < 350 else 0.0
        b = float(x[2]) if b_fixed is None else b_fixed
        return q, omq, kappa, omk2, b

    @staticmethod
    def pack(q: float, R: float, b: float, learn_bias: bool) -> np.ndarray:
        kappa = R / math.sqrt(q)
        x = [float(logit(q)), math.atanh(kappa)]
        return np.array([*x, b] if learn_bias else x)

    def residuals(self, x: np.ndarray, b_fixed: float | None = None) -> np.ndarray:
        """Relative residuals of the saddle-point equations (each in [-1, 1] near a solution).

        r_q: eq. 1.88 written as ``q - R² = (1-q)² q̂``; r_R: eq. 1.87 ``R = (1-q) R̂``;
        r_b: eq. 1.91 ``pos = neg``, only when ``x`` holds b (``b_fixed`` is None).
        """
        q, omq, kappa, omk2, b = self.unpack(x, b_fixed)
        if not (abs(x[0]) < 60.0 and abs(x[1]) < 17.0 and abs(b) < 60.0):
            return np.full(len(x), 10.0)  # outside the domain (or q, |κ| within 1e-13 of 1)
        t = self.gradient_terms(q, omq, kappa, omk2, b)
        q_hat, r_hat = -2.0 * t["dE_dq"], t["dE_dR"]
        lhs, rhs = q * omk2, omq**2 * q_hat
        R = kappa * math.sqrt(q)
        res = [(lhs - rhs) / (lhs + abs(rhs)), (R - omq * r_hat) / (abs(R) + omq * abs(r_hat))]
        if b_fixed is None:
            res.append(self.bias_residual(t))
        res = np.asarray(res)
        return np.where(np.isfinite(res), res, 10.0)

    @staticmethod
    def bias_residual(t: dict) -> float:
        """(pos - neg)/(pos + neg): eq. 1.91 normalised; its sign is the sign of ∂Φ/∂b."""
        total = t["pos"] + t["neg"]
        return (t["pos"] - t["neg"]) / total if total > 0 else 10.0
