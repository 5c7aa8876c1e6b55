"""Figure data for :mod:`interplay.imbalance.figures._registry`: saddle-point curves and arrays.

Solves the curves of a figure along ``rho_train`` (with continuation, via
:func:`~interplay.imbalance.theory._sweep.solve_grid`) and turns lists of saddle points into
the arrays that are plotted and the rows of ``<name>.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from interplay.imbalance.solve import make_params, metric_objective, result_rows
from interplay.imbalance.theory import CurveSolver, SaddlePoint, curve_argmax, solve_grid

# -- solving helpers -------------------------------------------------------------------------


def solve_curves(
    fixed: dict, vary: str, values: Sequence, rhos: Sequence, solver_kw: dict
) -> dict[Any, list[SaddlePoint]]:
    """Curves along rho_train, one per value of ``vary``; ``fixed`` holds the other params."""
    axes = {k: [v] for k, v in fixed.items()}
    axes[vary] = list(values)
    axes["rho_train"] = list(rhos)
    names = ["alpha", "T", "b0", "rho_train", "learn_bias"]
    axes = {n: axes[n] for n in names}
    points = solve_grid(axes, solver_kw=solver_kw, make_params=make_params)
    out: dict[Any, list[SaddlePoint]] = {}
    for point in points:
        out.setdefault(getattr(point.params, vary), []).append(point)
    return out


def _arr(points: Sequence[SaddlePoint], attr: str) -> np.ndarray:
    vals = np.array([getattr(p, attr) if p.converged else np.nan for p in points], dtype=float)
    return np.where(np.isfinite(vals), vals, np.nan)  # trivial phase b = ±inf: not drawn


def _rho(points: Sequence[SaddlePoint]) -> np.ndarray:
    return np.array([p.params.rho_train for p in points])


def _metric(points: Sequence[SaddlePoint], metric: str, spec: Any) -> np.ndarray:
    obj = metric_objective(metric, spec)
    return np.array([obj(p) if p.converged else np.nan for p in points])


def _flat(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    return len(v) == 0 or float(v.max() - v.min()) < 1e-9


def _data_rows(curves: dict, rho_tests: Sequence[Any]) -> pd.DataFrame:
    rows = [row for pts in curves.values() for p in pts for row in result_rows(p, rho_tests)]
    return pd.DataFrame(rows)


def _rho_r_star(points_by: dict, rhos, solver_kw) -> dict:
    out = {}
    for val, pts in points_by.items():
        star = curve_argmax(CurveSolver(pts[0].params, pts, **solver_kw), lambda p: p.R, rhos)
        out[val] = star["rho"]
    return out


def result_rows_many(points: Sequence[SaddlePoint]) -> list[dict]:
    return [row for p in points for row in result_rows(p, [0.5, "intrinsic"])]
