"""Replica-symmetric theory of the imbalanced teacher-student spherical perceptron (thesis §1.3.2).

Model (eqs. 1.32-1.36): teacher label ``g0 = sign(w0.S/sqrt(N) + b0)``, Gibbs student
``g = sign(w.S/sqrt(N) + b)`` with ``w.w = N``, error-counting energy at temperature ``T``,
``P = alpha N`` training samples of which a fraction ``rho`` (``rho_train``) are positives.

RS free energy (eq. 1.70): ``-βf = extr_{q,R,b} Φ(q,R,b)`` with ``Φ = G0 + E`` where

* ``G0 = ½ log(1-q) + ½ (q-R²)/(1-q)`` is eq. 1.86 after eliminating ``q̂, R̂, λ`` with
  eqs. 1.87-1.88 (``R = R̂(1-q)``, ``q = (q̂+R̂²)(1-q)²``, ``λ + q̂ = 1/(1-q)``);
* ``E = -αρ G_r^+ - α(1-ρ) G_r^-`` (eqs. 1.78-1.79). Writing the student's quenched mean field
  as ``sqrt(q) z`` and integrating the teacher field ``y`` conditionally on ``z`` (``y`` and
  ``sqrt(q) z`` have covariance ``R``), each double integral ``∫Dy ∫Dt`` becomes a single one:

      E = A+ ∫Dz W+(z) L(a) + A- ∫Dz W-(z) L(-a),      A+ = αρ/c+,  A- = α(1-ρ)/c-,
      W±(z) = Φ(±(b0 + κz)/sqrt(1-κ²)),  κ = R/sqrt(q),  a = (sqrt(q) z + b)/sqrt(1-q),
      L(a) = log(e^{-β} + (1-e^{-β}) Φ(a))    (the argument of eq. 1.78 with H(u) = Φ(a)).

The saddle-point equations are the stationarity conditions of ``Φ``: ``R̂ = ∂E/∂R``,
``q̂ = -2 ∂E/∂q`` (eqs. 1.89-1.90) and ``∂E/∂b = 0`` (eq. 1.91). The κ-derivative is integrated
by parts once, which turns the (delta-like as R -> 1) derivative of the teacher step into a
smooth Gaussian average (``D_κ`` below). For ``learn_bias=False`` the student bias is fixed to
``b = b0`` ("when the teacher bias is known") and only the (q, R) equations are solved.
``T = 0`` (β = ∞) is allowed: the Gibbs measure is then uniform on the version space.

The free energy ``Φ`` and its gradient are computed by
:class:`~interplay.imbalance.theory._free_energy.RSFreeEnergy` (re-exported here); this module
holds the control parameters, the saddle point and its solver.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import brentq, root
from scipy.special import ndtri

from interplay.core import ConfigError, check_finite, check_open_unit, check_positive
from interplay.imbalance.data import check_b0
from interplay.imbalance.theory._free_energy import RSFreeEnergy


@dataclass(frozen=True)
class ControlParams:
    """Control parameters of one saddle point (thesis: α, T, b0, ρ_train)."""

    alpha: float
    T: float
    b0: float
    rho_train: float
    learn_bias: bool = True

    def __post_init__(self) -> None:
        check_positive("alpha", self.alpha)
        check_finite("T", self.T)
        if self.T < 0:
            raise ConfigError(f"T={self.T!r} is out of range: T must be >= 0.")
        check_b0("b0", self.b0)
        check_open_unit("rho_train", self.rho_train)
        if not isinstance(self.learn_bias, bool | np.bool_):
            raise ConfigError(f"learn_bias={self.learn_bias!r} must be true or false.")

    def vector(self) -> np.ndarray:
        """Continuous parameters as a vector (for homotopy paths)."""
        return np.array([math.log(self.alpha), self.T, self.b0, self.rho_train])

    @classmethod
    def from_vector(cls, v: np.ndarray, learn_bias: bool) -> ControlParams:
        return cls(
            float(math.exp(v[0])), float(max(v[1], 0.0)), float(v[2]), float(v[3]), learn_bias
        )


@dataclass
class SaddlePoint:
    """Order parameters at the RS saddle point and the solver's diagnostics."""

    params: ControlParams
    q: float
    R: float
    b: float
    q_hat: float = math.nan
    R_hat: float = math.nan
    phi: float = math.nan  # -beta f (eq. 1.70) at the saddle point
    train_error: float = math.nan  # eq. 1.95
    converged: bool = False
    residual: float = math.inf
    message: str = ""
    n_eval: int = 0
    extra: dict = field(default_factory=dict)

    def as_row(self) -> dict:
        row = asdict(self.params)
        row.update(q=self.q, R=self.R, b=self.b, train_error=self.train_error)
        row.update(converged=self.converged, residual=self.residual)
        return row


def default_guess(params: ControlParams) -> tuple[float, float, float]:
    """A starting point (q, R, b): the unbiased Gibbs-learning trend R ~ α/(α + 1.5), and a
    bias that predicts the training fraction of positives, Φ(b) = ρ_train."""
    R = params.alpha / (params.alpha + 1.5)
    q = min(0.98, max(1.2 * R * R, R))
    b = params.b0 if not params.learn_bias else float(ndtri(params.rho_train))
    return q, R, b


#: Beyond |b| = B_SCAN the student flags a positive with probability < Φ(-B_SCAN) ~ 1e-15:
#: a bias equation without a root on [-B_SCAN, B_SCAN] means a divergent bias (trivial phase).
B_SCAN = 8.0


class _Solver:
    def __init__(self, params: ControlParams, tol: float, n_per_panel: int, maxfev: int):
        self.p, self.tol, self.maxfev = params, tol, maxfev
        self.fe = RSFreeEnergy(params, n_per_panel)

    def root(self, x0: np.ndarray, b_fixed: float | None):
        with np.errstate(all="ignore"):
            sol = root(
                self.fe.residuals,
                x0,
                args=(b_fixed,),
                method="hybr",
                options={"xtol": 1e-13, "maxfev": self.maxfev},
            )
            res = self.fe.residuals(sol.x, b_fixed)
        residual = float(np.max(np.abs(res)))
        return sol.x, residual, str(sol.message)

    def fixed_point(self, x_qr: np.ndarray, b: float, max_iter: int = 300) -> np.ndarray:
        """Iterate eqs. 1.87-1.88 at fixed b: (q, R) -> (q̂, R̂) -> (q', R'), damped if needed."""
        q, _, kappa, _, _ = self.fe.unpack(x_qr, b)
        R, damping, last_step = kappa * math.sqrt(q), 1.0, math.inf
        for _ in range(max_iter):
            kappa = R / math.sqrt(q)
            omk2 = (1.0 - kappa) * (1.0 + kappa)
            if not (omk2 > 0.0 and q < 1.0):
                break
            with np.errstate(all="ignore"):
                t = self.fe.gradient_terms(q, 1.0 - q, kappa, omk2, b)
            q_hat, r_hat = -2.0 * t["dE_dq"], t["dE_dR"]
            big_q = q_hat + r_hat * r_hat
            if not (math.isfinite(big_q) and q_hat > 0):
                break
            q_new = 2.0 * big_q / (2.0 * big_q + 1.0 + math.sqrt(4.0 * big_q + 1.0))  # eq. 1.88
            R_new = r_hat * (1.0 - q_new)  # eq. 1.87
            step = abs(q_new - q) + abs(R_new - R)
            if step > last_step:
                damping = max(0.5 * damping, 0.05)
            last_step = step
            q += damping * (q_new - q)
            R += damping * (R_new - R)
            if step < 1e-14 or not (1e-300 < q < 1.0 - 1e-15):
                break
        q = min(max(q, 1e-300), 1.0 - 1e-15)
        R = float(np.clip(R, -0.999999 * math.sqrt(q), 0.999999 * math.sqrt(q)))
        return self.fe.pack(q, R, b, False)

    def root_fixed_b(self, x_qr: np.ndarray, b: float):
        """(q, R) at fixed b: Powell hybrid, else fixed-point iteration then hybrid polish."""
        x, residual, message = self.root(x_qr, b)
        if residual < self.tol:
            return x, residual, message
        x2, residual2, message2 = self.root(self.fixed_point(x_qr, b, self.maxfev), b)
        if residual2 < residual:
            return x2, residual2, f"fixed-point start; {message2}"
        return x, residual, message

    def bias_gradient_sign(self, b: float, x_qr: np.ndarray):
        """Solve (q, R) at fixed b; return (normalised ∂Φ/∂b, x) or (None, x) on failure."""
        x, residual, _ = self.root_fixed_b(x_qr, b)
        if residual > self.tol:
            return None, x_qr
        q, omq, kappa, omk2, _ = self.fe.unpack(x, b)
        return self.fe.bias_residual(self.fe.gradient_terms(q, omq, kappa, omk2, b)), x

    def asymptotic_bias_gradient(self, direction: float) -> float:
        """Limit of (pos - neg)/(pos + neg) as b -> direction*inf (then q, R -> 0):
        tanh((log ρ - log(1-ρ) -/+ β)/2), from L'(a) ~ φ(a) e^{±β} in the tails."""
        beta = math.inf if self.p.T == 0 else 1.0 / self.p.T
        log_odds = math.log(self.p.rho_train) - math.log1p(-self.p.rho_train)
        return math.tanh(0.5 * (log_odds - direction * beta))

    def nested(self, x0: np.ndarray) -> tuple[np.ndarray | None, float | None, str]:
        """Learned bias as a 1D root of ∂Φ/∂b along the fixed-b solutions (q(b), R(b)).

        Returns (x, None, msg) with a bracketed root polished jointly, or (None, ±inf, msg)
        when ∂Φ/∂b keeps one sign on [-B_SCAN, B_SCAN] (trivial phase), or (None, None, msg).
        """
        b_start = float(np.clip(x0[2], -B_SCAN, B_SCAN))
        x_qr = x0[:2].copy()
        g0, x_qr = self.bias_gradient_sign(b_start, x_qr)
        if g0 is None:
            return None, None, "fixed-bias (q, R) equations failed at the initial bias"
        direction = 1.0 if g0 > 0 else -1.0  # Φ increases towards the root
        lo_b, lo_g, lo_x = b_start, g0, x_qr
        step, hi_b = 0.25, None
        trivial_msg = (
            f"no finite bias: dPhi/db keeps the sign {direction:+.0f} from b={b_start:.3g} to the "
            f"asymptote {self.asymptotic_bias_gradient(direction):+.3g} as b -> {direction:+.0f}inf"
            " (trivial phase: the student predicts one class, q = R = 0)"
        )
        while True:
            b = float(np.clip(lo_b + direction * step, -B_SCAN, B_SCAN))
            g, x_new = self.bias_gradient_sign(b, lo_x)
            # The b -> ±inf regime: q < 1e-11 (beyond, q is lost to rounding), |b| = B_SCAN, or a
            # failed fixed-b solve right after one with q < 1e-4 (the relative residual of eq.
            # 1.88 loses ~|log10 q| digits to cancellation). Only there, and only if the
            # analytic asymptote of dPhi/db has the same sign, is the bias declared divergent.
            small_q = g is not None and x_new[0] < -25.0
            at_end = g is not None and abs(b) >= B_SCAN and g * lo_g > 0
            lost = g is None and lo_x[0] < -9.2
            if g is None or small_q or at_end:
                if g is not None and g * lo_g <= 0:
                    hi_b, hi_x = b, x_new
                    break
                asymptote_agrees = self.asymptotic_bias_gradient(direction) * direction > 0
                if (small_q or at_end or lost) and asymptote_agrees:
                    return None, direction * math.inf, trivial_msg
                return None, None, f"fixed-bias (q, R) equations failed at b={b:.4g}"
            if g * lo_g <= 0:
                hi_b, hi_x = b, x_new
                break
            lo_b, lo_g, lo_x = b, g, x_new
            step = min(2.0 * step, 0.5)  # small steps: q(b) falls by ~e^{-2|b|} per unit of b
        cache = {lo_b: lo_x, hi_b: hi_x}

        def g_of_b(bb: float) -> float:
            near = min(cache, key=lambda c: abs(c - bb))
            val, xq = self.bias_gradient_sign(bb, cache[near])
            if val is None:
                raise RuntimeError("fixed-bias solve failed inside the bracket")
            cache[bb] = xq
            return val

        try:
            b_root = brentq(g_of_b, min(lo_b, hi_b), max(lo_b, hi_b), xtol=1e-13)
        except RuntimeError as err:
            return None, None, str(err)
        near = min(cache, key=lambda c: abs(c - b_root))
        return np.array([*cache[near], b_root]), None, "nested bias solve"


def solve_saddle_point(
    params: ControlParams,
    guess: tuple[float, float, float] | None = None,
    *,
    tol: float = 1e-9,
    n_per_panel: int = 10,
    maxfev: int = 400,
) -> SaddlePoint:
    """Solve eqs. 1.87-1.91 for ``params`` from ``guess`` = (q, R, b).

    First a joint Powell-hybrid solve; if it fails with a learned bias, the bias equation is
    solved as a bracketed 1D root along fixed-bias solutions, which also detects the trivial
    phase (no finite root of eq. 1.91: b = ±inf, q = R = 0, reported as converged with
    ``extra["phase"] = "trivial"``). Never raises on non-convergence: the returned point then
    has ``converged=False`` and its residual (max of the relative residuals).
    """
    solver = _Solver(params, tol, n_per_panel, maxfev)
    fe = solver.fe
    q0, R0, b_guess = guess if guess is not None else default_guess(params)
    if not math.isfinite(b_guess):
        b_guess = float(np.sign(b_guess) * B_SCAN)
    q0 = min(max(q0, 1e-9), 1.0 - 1e-12)
    R0 = min(max(R0, -0.999 * math.sqrt(q0)), 0.999 * math.sqrt(q0))
    x0 = fe.pack(q0, R0, b_guess, True)
    b_fixed = None if params.learn_bias else params.b0
    if params.learn_bias:
        x, residual, message = solver.root(x0, None)
    else:
        x, residual, message = solver.root_fixed_b(x0[:2], params.b0)
    if params.learn_bias and not residual < tol:
        x_n, b_inf, msg = solver.nested(x0)
        if b_inf is not None:
            point = SaddlePoint(params, 0.0, 0.0, b_inf, converged=True, residual=0.0)
            point.message, point.extra["phase"] = msg, "trivial"
            # all samples get the label sign(b): errors = the other class (eq. 1.95 at q = 0)
            point.train_error = params.rho_train if b_inf < 0 else 1.0 - params.rho_train
            point.phi = -params.alpha * point.train_error / params.T
            point.n_eval = fe.n_eval
            return point
        if x_n is not None:
            x, residual, message = solver.root(x_n, None)
            message = f"{msg}; {message}"
        else:
            message = f"{message}; {msg}"
    q, omq, kappa, omk2, b = fe.unpack(x, b_fixed)
    R = kappa * math.sqrt(q)
    point = SaddlePoint(params, q, R, b, residual=residual, message=message)
    point.converged = bool(residual < tol and 0 < q < 1 and omk2 > 0 and math.isfinite(b))
    if point.converged:
        t = fe.gradient_terms(q, omq, kappa, omk2, b)
        point.q_hat, point.R_hat = -2.0 * t["dE_dq"], t["dE_dR"]
        point.extra["lambda"] = 1.0 / omq - point.q_hat  # spherical multiplier, λ + q̂ = 1/(1-q)
        g0 = 0.5 * math.log(omq) + 0.5 * q * omk2 / omq
        point.phi = g0 + fe.energetic(q, omq, kappa, omk2, b)
        point.train_error = fe.train_error(q, omq, kappa, omk2, b)
        point.extra["one_minus_q"] = omq
        point.extra["phase"] = "learning"
    point.n_eval = fe.n_eval
    return point
