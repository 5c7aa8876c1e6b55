"""Grids of RS saddle points with continuation, and the derived optima of thesis §1.3.3.

* :func:`solve_from` solves one point from a neighbouring solution; when the direct Newton-type
  solve fails it walks a homotopy path in control-parameter space (log α, T, b0, ρ_train) with
  adaptive steps and a secant predictor; a cold point starts from an anchor (α = 1, T = 0.5,
  b0 = 0, ρ = ½) that always converges.
* :func:`solve_grid` orders a Cartesian grid as a "snake" (each point next to the previous one),
  splits it into contiguous chunks solved in parallel (joblib) when the grid is large enough to
  pay for the worker start-up, and warm-starts every point from its predecessor.
* :func:`curve_argmax` / :func:`curve_root` refine ρ(R*), ρ(b*) and the argmax of any metric
  along ρ_train with bounded ``minimize_scalar`` / ``brentq`` (never read off the grid).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from interplay.imbalance.theory._saddle import ControlParams, SaddlePoint, solve_saddle_point

ANCHOR = dict(alpha=1.0, T=0.5, b0=0.0, rho_train=0.5)


def _is_warm_start(point: SaddlePoint | None) -> bool:
    """Converged with finite order parameters (not a trivial-phase limit b = ±inf)."""
    return point is not None and point.converged and point.extra.get("phase") != "trivial"


def _guess(point: SaddlePoint) -> tuple[float, float, float]:
    return point.q, point.R, point.b


def _homotopy(
    start: SaddlePoint, target: ControlParams, solver_kw: dict, max_steps: int = 400
) -> SaddlePoint:
    """Follow the straight path from ``start.params`` to ``target`` with adaptive steps."""
    v0, v1 = start.params.vector(), target.vector()
    t, h = 0.0, 0.25
    prev: list[tuple[float, SaddlePoint]] = [(0.0, start)]
    last = start
    for _ in range(max_steps):
        t_new = min(1.0, t + h)
        params = (
            target
            if t_new == 1.0
            else ControlParams.from_vector(v0 + t_new * (v1 - v0), target.learn_bias)
        )
        guess = _guess(last)
        if len(prev) >= 2:  # secant predictor in (logit q, atanh κ, b)
            (ta, pa), (tb, pb) = prev[-2], prev[-1]
            xa, xb = _coords(pa), _coords(pb)
            xg = xb + (xb - xa) * (t_new - tb) / (tb - ta)
            guess = _uncoords(xg)
        point = solve_saddle_point(params, guess, **solver_kw)
        if not point.converged and len(prev) >= 2:
            point = solve_saddle_point(params, _guess(last), **solver_kw)
        if point.converged:
            if t_new == 1.0:
                return point
            t, last = t_new, point
            prev.append((t, point))
            h = min(2.0 * h, 0.5)
        else:
            h *= 0.5
            if h < 1e-6:
                break
    failed = solve_saddle_point(target, _guess(last), **solver_kw)
    failed.message = f"homotopy stalled at t={t:.3g} ({failed.message})"
    return failed


def _coords(p: SaddlePoint) -> np.ndarray:
    kappa = p.R / math.sqrt(p.q)
    return np.array([math.log(p.q / (1.0 - p.q)), math.atanh(kappa), p.b])


def _uncoords(x: np.ndarray) -> tuple[float, float, float]:
    q = 1.0 / (1.0 + math.exp(-x[0]))
    return q, math.tanh(x[1]) * math.sqrt(q), float(x[2])


def solve_from(target: ControlParams, start: SaddlePoint | None = None, **solver_kw) -> SaddlePoint:
    """Solve ``target`` from a converged neighbour ``start`` (or cold), with fallbacks."""
    if _is_warm_start(start):
        point = solve_saddle_point(target, _guess(start), **solver_kw)
        if point.converged:
            return point
        point = _homotopy(start, target, solver_kw)
        if point.converged:
            return point
    point = solve_saddle_point(target, None, **solver_kw)
    if point.converged:
        return point
    anchor_params = ControlParams(**ANCHOR, learn_bias=target.learn_bias)
    if start is None or start.params != anchor_params:
        anchor = solve_saddle_point(anchor_params, None, **solver_kw)
        if anchor.converged:
            point = _homotopy(anchor, target, solver_kw)
    return point


def snake_order(shape: Sequence[int]) -> list[tuple[int, ...]]:
    """Multi-indices of a grid such that consecutive ones differ by one step on one axis."""
    if len(shape) == 0:
        return [()]
    inner = snake_order(shape[1:])
    out: list[tuple[int, ...]] = []
    for i in range(shape[0]):
        out.extend((i, *r) for r in (inner if i % 2 == 0 else inner[::-1]))
    return out


def _solve_chunk(chunk: list[ControlParams], solver_kw: dict) -> list[SaddlePoint]:
    out: list[SaddlePoint] = []
    last: SaddlePoint | None = None
    for params in chunk:
        point = solve_from(params, last, **solver_kw)
        out.append(point)
        if _is_warm_start(point):
            last = point
    return out


def solve_grid(
    axes: dict[str, list],
    n_jobs: int = 1,
    parallel_min_points: int = 400,
    solver_kw: dict | None = None,
    make_params: Callable[[dict], ControlParams] | None = None,
) -> list[SaddlePoint]:
    """Solve the Cartesian product of ``axes`` (keys: the fields of :class:`ControlParams`).

    ``make_params`` turns one ``{name: value}`` point into ControlParams (default:
    ``ControlParams(**point)``); it may resolve named values such as ``rho_train=intrinsic``.
    Returns the points in ``itertools.product`` order of ``axes`` (as given).
    """
    solver_kw = solver_kw or {}
    make_params = make_params or (lambda point: ControlParams(**point))
    names = list(axes)
    sizes = [len(axes[n]) for n in names]
    # Longest axis innermost: continuation mostly walks along it.
    order = sorted(range(len(names)), key=lambda i: sizes[i])
    params_in_snake, flat_index = [], []
    for idx in snake_order([sizes[i] for i in order]):
        full = [0] * len(names)
        for pos, axis in enumerate(order):
            full[axis] = idx[pos]
        params_in_snake.append(make_params({n: axes[n][full[k]] for k, n in enumerate(names)}))
        flat_index.append(int(np.ravel_multi_index(full, sizes)))
    n = len(params_in_snake)
    jobs = max(1, min(int(n_jobs), n)) if n >= parallel_min_points else 1
    if jobs == 1:
        solved = _solve_chunk(params_in_snake, solver_kw)
    else:
        from joblib import Parallel, delayed

        bounds = np.linspace(0, n, jobs + 1).astype(int)
        chunks = [params_in_snake[a:b] for a, b in itertools.pairwise(bounds)]
        parts = Parallel(n_jobs=jobs)(delayed(_solve_chunk)(c, solver_kw) for c in chunks)
        solved = [p for part in parts for p in part]
    out: list[SaddlePoint | None] = [None] * n
    for k, point in zip(flat_index, solved, strict=True):
        out[k] = point
    return out  # type: ignore[return-value]


# -- derived optima along rho_train --------------------------------------------------------


class CurveSolver:
    """Memoised saddle points along ρ_train at fixed (α, T, b0, learn_bias)."""

    def __init__(self, base: ControlParams, grid: Sequence[SaddlePoint], **solver_kw):
        self.base = base
        self.solver_kw = solver_kw
        self.known = {p.params.rho_train: p for p in grid if p.converged}
        self.warm = {r: p for r, p in self.known.items() if _is_warm_start(p)}

    def __call__(self, rho: float) -> SaddlePoint:
        if rho in self.known:
            return self.known[rho]
        nearest = min(self.warm, key=lambda r: abs(r - rho)) if self.warm else None
        start = self.warm.get(nearest) if nearest is not None else None
        point = solve_from(replace(self.base, rho_train=float(rho)), start, **self.solver_kw)
        if not point.converged:
            raise RuntimeError(
                f"saddle point did not converge at rho_train={rho} (residual {point.residual:.2e})"
            )
        self.known[rho] = point
        if _is_warm_start(point):
            self.warm[rho] = point
        return point


def curve_argmax(
    curve: CurveSolver,
    objective: Callable[[SaddlePoint], float],
    rhos: Sequence[float],
    xatol: float = 1e-6,
) -> dict:
    """Maximise ``objective(point)`` over ρ_train: grid bracket, then bounded Brent search."""
    rhos = sorted(rhos)
    values = [objective(curve(r)) for r in rhos]
    i = int(np.nanargmax(values))
    lo, hi = rhos[max(i - 1, 0)], rhos[min(i + 1, len(rhos) - 1)]
    if hi - lo <= 0:
        return {"rho": rhos[i], "value": values[i], "at_boundary": True}
    res = minimize_scalar(
        lambda r: -objective(curve(r)),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": xatol},
    )
    rho_star, val = float(res.x), float(-res.fun)
    if values[i] > val:  # never worse than the grid
        rho_star, val = rhos[i], values[i]
    # maximum reached at an end of the range (possibly on a plateau, e.g. a trivial phase)
    edge = max(values[0], values[-1])
    at_boundary = bool(edge >= val - 1e-12 * max(1.0, abs(val)))
    return {"rho": rho_star, "value": val, "at_boundary": at_boundary}


def curve_root(
    curve: CurveSolver,
    fn: Callable[[SaddlePoint], float],
    rhos: Sequence[float],
    xtol: float = 1e-10,
) -> dict | None:
    """ρ_train where ``fn(point)`` crosses zero (the first sign change on the grid), by brentq."""
    rhos = sorted(rhos)
    vals = [fn(curve(r)) for r in rhos]
    for (r0, v0), (r1, v1) in itertools.pairwise(zip(rhos, vals)):
        if v0 == 0.0:
            return {"rho": r0}
        if v0 * v1 < 0:
            return {"rho": float(brentq(lambda r: fn(curve(r)), r0, r1, xtol=xtol))}
    return None
