"""Grids of control parameters and the tables ``solve.py`` writes (thesis §1.3.2-1.3.3).

The library half of ``python solve.py``: a configuration value becomes a list of grid values
(:func:`axis_values`), a grid point becomes :class:`ControlParams` with named imbalances
resolved (:func:`make_params`), a saddle point becomes one row per test imbalance with the
metrics of eqs. 1.110-1.119 (:func:`result_rows`), and the optima along ρ_train are refined,
never read off the grid (:func:`curve_optima`). :func:`solve_table` chains them for a whole
config. The thesis figures and the Monte Carlo comparison use the same functions, so that
every table of chapter 1 has the same columns and the same conventions.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from interplay.core import ConfigError
from interplay.core.config import plain_value
from interplay.imbalance.data import intrinsic_imbalance, resolve_rho
from interplay.imbalance.theory._metrics import TEST_METRICS, generalization_metrics
from interplay.imbalance.theory._saddle import ControlParams, SaddlePoint
from interplay.imbalance.theory._sweep import CurveSolver, curve_argmax, curve_root, solve_grid

log = logging.getLogger(__name__)

#: Columns of ``results.csv`` and of every figure's data table: the control parameters, the
#: order parameters (q, R, b), the training error and the test metrics of eqs. 1.110-1.119.
RESULT_COLUMNS = (
    "alpha",
    "T",
    "b0",
    "rho_train",
    "rho_test",
    "learn_bias",
    "q",
    "R",
    "b",
    "train_error",
    *TEST_METRICS,
    "converged",
    "residual",
)
#: The control parameters that span a grid (the fields of :class:`ControlParams`).
AXES = ("alpha", "T", "b0", "rho_train", "learn_bias")


# -- configuration values --------------------------------------------------------------------


def axis_values(name: str, value: Any) -> list:
    """A config value as a list: scalar, list, or ``{start, stop, num[, log]}`` (linspace)."""
    value = plain_value(value)
    if isinstance(value, dict):
        missing = {"start", "stop", "num"} - set(value)
        if missing:
            raise ConfigError(
                f"{name}={value!r}: a range needs the keys start, stop, num (and optionally log)."
            )
        num = int(value["num"])
        if num < 1:
            raise ConfigError(f"{name}.num={num} must be >= 1.")
        if value.get("log", False):
            if value["start"] <= 0 or value["stop"] <= 0:
                raise ConfigError(f"{name}: a log range needs start, stop > 0, got {value!r}.")
            return [float(v) for v in np.geomspace(value["start"], value["stop"], num)]
        return [float(v) for v in np.linspace(value["start"], value["stop"], num)]
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise ConfigError(f"{name} is an empty list: give at least one value.")
    return values


def resolve_rho_test(value: Any, b0: float, rho_train: float) -> float:
    """``rho_test``: a number, ``intrinsic`` (rho0(b0)), ``balanced`` or ``train`` (= rho_train)."""
    if value == "train":
        return rho_train
    return resolve_rho("rho_test", value, intrinsic_imbalance(b0))


def make_params(raw: dict) -> ControlParams:
    """ControlParams from one grid point whose rho_train may be ``intrinsic``/``balanced``."""
    try:
        b0 = float(raw["b0"])
        rho = resolve_rho("rho_train", raw["rho_train"], intrinsic_imbalance(b0))
        learn = raw["learn_bias"]
        if not isinstance(learn, bool):
            raise ConfigError(f"learn_bias={learn!r} must be true or false.")
        return ControlParams(float(raw["alpha"]), float(raw["T"]), b0, rho, learn)
    except (TypeError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"bad grid point {raw}: {err}") from err


# -- results table -------------------------------------------------------------------------


def result_rows(point: SaddlePoint, rho_tests: Sequence[Any]) -> list[dict]:
    """One row of :data:`RESULT_COLUMNS` per rho_test; NaN order parameters if not converged."""
    p = point.params
    rows = []
    for spec in rho_tests:
        rho_test = resolve_rho_test(spec, p.b0, p.rho_train)
        row = {
            "alpha": p.alpha,
            "T": p.T,
            "b0": p.b0,
            "rho_train": p.rho_train,
            "rho_test": rho_test,
            "learn_bias": p.learn_bias,
            "converged": point.converged,
            "residual": point.residual,
        }
        if point.converged:
            metrics = generalization_metrics(point.R, point.b, p.b0, rho_test)
            row.update(q=point.q, R=point.R, b=point.b, train_error=point.train_error)
            row.update({k: float(v) for k, v in metrics.items()})
        else:  # never passed off as a solution
            row.update({k: math.nan for k in ("q", "R", "b", "train_error", *TEST_METRICS)})
        rows.append({k: row[k] for k in RESULT_COLUMNS})
    return rows


def metric_objective(metric: str, spec: Any) -> Callable[[SaddlePoint], float]:
    """``point -> metric`` for the optimum search (rho_test may follow rho_train)."""

    def objective(point: SaddlePoint) -> float:
        p = point.params
        rho_test = resolve_rho_test(spec, p.b0, p.rho_train)
        return float(generalization_metrics(point.R, point.b, p.b0, rho_test)[metric])

    return objective


def curve_optima(
    base: ControlParams,
    points: Sequence[SaddlePoint],
    rho_tests: Sequence[Any],
    metrics: Sequence[str] = TEST_METRICS,
    solver_kw: dict | None = None,
) -> list[dict]:
    """ρ(R*), ρ(b*) and the argmax of each metric along ρ_train (refined, not grid values)."""
    solver_kw = solver_kw or {}
    curve = CurveSolver(base, points, **solver_kw)
    rhos = sorted({p.params.rho_train for p in points if p.converged})
    head = {"alpha": base.alpha, "T": base.T, "b0": base.b0, "learn_bias": base.learn_bias}
    rows = []
    if len(rhos) < 3:
        return rows
    try:
        star = curve_argmax(curve, lambda p: p.R, rhos)
        rows.append({**head, "quantity": "R", "rho_test": math.nan, **_star(star)})
        if base.learn_bias:
            root = curve_root(curve, lambda p: float(np.clip(p.b - base.b0, -1e3, 1e3)), rhos)
            rows.append(
                {
                    **head,
                    "quantity": "b=b0",
                    "rho_test": math.nan,
                    "rho_train_star": root["rho"] if root else math.nan,
                    "value": base.b0 if root else math.nan,
                    "at_boundary": False,
                }
            )
        for spec, metric in itertools.product(rho_tests, metrics):
            if metric == "gen_error":
                continue  # = 1 - accuracy
            star = curve_argmax(curve, metric_objective(metric, spec), rhos)
            rho_t = spec if isinstance(spec, str) else float(spec)
            rows.append({**head, "quantity": metric, "rho_test": rho_t, **_star(star)})
    except RuntimeError as err:
        log.warning("optimum search failed for %s: %s", base, err)
    return rows


def _star(star: dict) -> dict:
    return {
        "rho_train_star": star["rho"],
        "value": star["value"],
        "at_boundary": star["at_boundary"],
    }


def solve_table(cfg: Any) -> tuple[pd.DataFrame, pd.DataFrame | None, list[SaddlePoint], float]:
    """Solve the grid of ``cfg`` (top-level keys) -> (results, optima or None, points, seconds)."""
    axes = {name: axis_values(name, cfg[name]) for name in AXES}
    rho_tests = axis_values("rho_test", cfg.rho_test)
    solver_kw = dict(plain_value(cfg.get("solver", {})) or {})
    start = time.perf_counter()
    points = solve_grid(
        axes,
        n_jobs=int(cfg.get("n_jobs", 1)),
        parallel_min_points=int(cfg.get("parallel_min_points", 400)),
        solver_kw=solver_kw,
        make_params=make_params,
    )
    grid_seconds = time.perf_counter() - start
    results = pd.DataFrame(
        [row for point in points for row in result_rows(point, rho_tests)],
        columns=list(RESULT_COLUMNS),
    )
    optima = None
    numeric_rho = all(not isinstance(v, str) for v in axes["rho_train"])
    if cfg.get("optima", True) and numeric_rho and len(axes["rho_train"]) >= 3:
        rows = []
        groups: dict[tuple, list[SaddlePoint]] = {}
        for point in points:
            p = point.params
            groups.setdefault((p.alpha, p.T, p.b0, p.learn_bias), []).append(point)
        for (alpha, T, b0, learn), pts in groups.items():
            base = ControlParams(alpha, T, b0, 0.5, learn)
            rows.extend(curve_optima(base, pts, rho_tests, solver_kw=solver_kw))
        optima = pd.DataFrame(rows)
    results.attrs["grid_seconds"] = grid_seconds
    return results, optima, points, time.perf_counter() - start
