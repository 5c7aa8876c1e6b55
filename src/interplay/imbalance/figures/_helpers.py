"""What every thesis figure shares: its curves, its arrays, the SGD overlay and its outputs.

One module of public helpers, so that a new figure module imports everything it needs from
here (and from :mod:`interplay.imbalance.theory`) and no figure reaches into another's code:

* :func:`solve_curves` solves a figure's curves along ``rho_train`` (with continuation, via
  :func:`~interplay.imbalance.theory.solve_grid`); :func:`converged_values`,
  :func:`rho_values`, :func:`metric_values` turn a curve into the arrays that are plotted,
  :func:`data_rows` / :func:`result_rows_many` into the rows of ``<name>.csv``;
* :func:`load_overlay` / :func:`overlay` draw SGD results (the ``summary.csv`` of
  ``interplay-collect``) over the theory;
* :func:`save_outputs` writes ``<name>.png``, ``<name>.csv`` and ``<name>_optima.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from interplay.core import DataError, save_figure, write_csv
from interplay.imbalance.theory import (
    CurveSolver,
    SaddlePoint,
    curve_argmax,
    make_params,
    metric_objective,
    result_rows,
    solve_grid,
)

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


def converged_values(points: Sequence[SaddlePoint], attr: str) -> np.ndarray:
    """``attr`` (q, R, b, ...) of each point; NaN where not converged or infinite."""
    vals = np.array([getattr(p, attr) if p.converged else np.nan for p in points], dtype=float)
    return np.where(np.isfinite(vals), vals, np.nan)  # trivial phase b = ±inf: not drawn


def rho_values(points: Sequence[SaddlePoint]) -> np.ndarray:
    """The ρ_train of each point (the x axis of Figs. 1.3, 1.5, 1.6)."""
    return np.array([p.params.rho_train for p in points])


def metric_values(points: Sequence[SaddlePoint], metric: str, spec: Any) -> np.ndarray:
    """A test metric (eqs. 1.110-1.119) of each point at test imbalance ``spec``; NaN if not
    converged."""
    obj = metric_objective(metric, spec)
    return np.array([obj(p) if p.converged else np.nan for p in points])


def is_flat(values: np.ndarray) -> bool:
    """True when a curve has no interior maximum to star (constant, or all NaN)."""
    v = values[np.isfinite(values)]
    return len(v) == 0 or float(v.max() - v.min()) < 1e-9


def data_rows(curves: dict, rho_tests: Sequence[Any]) -> pd.DataFrame:
    """The rows of ``<name>.csv`` (:data:`~interplay.imbalance.theory.RESULT_COLUMNS`)."""
    rows = [row for pts in curves.values() for p in pts for row in result_rows(p, rho_tests)]
    return pd.DataFrame(rows)


def rho_r_star(points_by: dict, rhos: Sequence[float], solver_kw: dict) -> dict:
    """ρ(R*) of each curve: the ρ_train that maximises the overlap R (Brent-refined)."""
    out = {}
    for val, pts in points_by.items():
        star = curve_argmax(CurveSolver(pts[0].params, pts, **solver_kw), lambda p: p.R, rhos)
        out[val] = star["rho"]
    return out


def result_rows_many(points: Sequence[SaddlePoint]) -> list[dict]:
    """Result rows of ``points`` for the balanced and the intrinsic test set."""
    return [row for p in points for row in result_rows(p, [0.5, "intrinsic"])]


# -- overlay of SGD experiments --------------------------------------------------------------


#: Constants of an SGD sweep that decide which theory curve its points belong to.
SWEEP_CONSTANTS = ("data.alpha", "data.b0", "data.rho_train", "data.N", "model.lr")


def sweep_constants(summary: Path) -> dict[str, float]:
    """The :data:`SWEEP_CONSTANTS` of the multirun that ``summary`` (``<sweep>/summary/
    summary.csv``) summarises, read from the first job's ``.hydra/config.yaml``; {} if none.

    ``interplay-collect`` only writes the *swept* overrides as columns, so a constant such as
    ``data.alpha`` must come from the jobs themselves. A CSV that is not inside a ``summary/``
    folder is no collect output: its neighbours are unrelated runs, and nothing is read.
    """
    import yaml

    folder = summary.resolve().parent
    if folder.name != "summary":
        return {}
    configs = sorted(folder.parent.glob("*/.hydra/config.yaml"))
    if not configs:
        return {}
    cfg = yaml.safe_load(configs[0].read_text()) or {}
    out = {}
    for key in SWEEP_CONSTANTS:
        group, name = key.split(".")
        value = (cfg.get(group) or {}).get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def load_overlay(path: str | None, fixed: dict | None = None) -> pd.DataFrame | None:
    """The ``summary.csv`` of ``interplay-collect`` (or None when not configured).

    The sweep's constants (:func:`sweep_constants`, else ``fixed`` = the ``overlay_fixed`` of
    ``solve.yaml``) become columns, so every SGD series is matched to its theory curve by value;
    a swept column always wins over a constant.
    """
    if not path:
        return None
    p = Path(path)
    if not p.exists():
        raise DataError(
            f"overlay_csv={path} does not exist: give the summary.csv written by "
            "`interplay-collect MULTIRUN_DIR` (under MULTIRUN_DIR/summary/)."
        )
    table = pd.read_csv(p)
    for key, value in {**(fixed or {}), **sweep_constants(p)}.items():
        if key not in table.columns:
            table[key] = float(value)
    return table


def check_overlay_constant(table: pd.DataFrame | None, key: str, value: float) -> pd.DataFrame:
    """The rows of ``table`` at ``key = value`` (e.g. the figure's α); a clear error if the
    sweep does not say its ``key`` or holds no row at that value (theory and SGD at different
    α would be compared silently otherwise)."""
    if table is None:
        return table
    if key not in table.columns:
        raise DataError(
            f"overlay_csv does not say its {key}: it is no column of summary.csv and no job "
            f"config (*/.hydra/config.yaml) sits next to summary/; give overlay_fixed.{key}=..."
        )
    rows = table[np.isclose(table[key].astype(float), float(value))]
    if not len(rows):
        have = sorted(set(table[key].astype(float)))
        raise DataError(
            f"overlay_csv holds SGD runs at {key} in {have}, but the theory is drawn at "
            f"{value:g}: overlay runs at the same value (Fig. 1.10: experiment=theory_fig1_10)."
        )
    return rows


def overlay(
    ax,
    table: pd.DataFrame | None,
    x: str,
    metric: str,
    color,
    prefixes=("",),
    where: dict | None = None,
    label: str | None = None,
    shift: float = 0.0,
) -> bool:
    """Draw ``<prefix><metric>_mean`` ± ``_sem`` against column ``x``; False if absent.

    ``where`` selects the series of one theory curve (e.g. ``{"data.rho_train": 0.3}``); a key
    that is neither a column nor a sweep constant is a :class:`DataError` (drawing every row on
    every curve would repeat the points in each curve's colour).
    """
    if table is None or x not in table.columns:
        return False
    rows = table
    for key, val in (where or {}).items():
        if key not in rows.columns:
            raise DataError(
                f"overlay_csv does not say its {key} (no column, no job config next to "
                f"summary/): give overlay_fixed.{key}=... so its points meet the right curve."
            )
        rows = rows[np.isclose(rows[key].astype(float), float(val))]
    for prefix in prefixes:
        col = f"{prefix}{metric}_mean"
        if col in rows.columns and len(rows):
            rows = rows.sort_values(x)
            sem = rows.get(f"{prefix}{metric}_sem")
            ax.errorbar(
                rows[x],
                rows[col] - shift,
                yerr=None if sem is None else sem,
                fmt="o",
                ms=4,
                color=color,
                mfc="white",
                capsize=2,
                label=label or f"SGD {metric}",
            )
            return True
    return False


def save_outputs(fig, out: Path, fc, data: pd.DataFrame, optima: pd.DataFrame | None) -> dict:
    """Write ``<name>.png`` (``figure.dpi``), ``<name>.csv`` and, if any, ``<name>_optima.csv``.

    The contract of every registered figure: its return value is this dict.
    """
    fig.tight_layout()
    png = save_figure(fig, out / f"{fc.name}.png", dpi=int(fc.get("dpi", 130)))
    write_csv(out / f"{fc.name}.csv", data)
    if optima is not None and len(optima):
        write_csv(out / f"{fc.name}_optima.csv", optima)
        print(optima.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
    print(f"Wrote {png}")
    return {"png": png, "data": data, "optima": optima}
