"""Reproductions of the replica-theory figures of thesis §1.3.3 (Figs. 1.3, 1.5-1.8).

Each ``figure.name`` of ``conf/experiment/theory_fig*.yaml`` maps to a function below that
solves the needed saddle points (with continuation), refines the starred optima with
bounded Brent / brentq searches, and writes ``<name>.png``, the plotted data
``<name>.csv`` and the optima ``<name>_optima.csv`` into the run directory. With
``overlay_csv`` (the ``summary.csv`` of ``python -m interplay.collect MULTIRUN_DIR``) the SGD
results (``<metric>_mean`` ± ``<metric>_sem``) are drawn over the theory curves.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from interplay.imbalance.regimes import intrinsic_imbalance
from interplay.imbalance.replica import SaddlePoint
from interplay.imbalance.replica_run import (
    _plain,
    axis_values,
    make_params,
    metric_objective,
    result_rows,
    write_csv,
)
from interplay.imbalance.replica_sweep import CurveSolver, curve_argmax, curve_root, solve_grid
from interplay.utils.errors import ConfigError, DataError

log = logging.getLogger(__name__)

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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


# -- overlay of SGD experiments --------------------------------------------------------------


def load_overlay(path: str | None) -> pd.DataFrame | None:
    """The ``summary.csv`` of ``python -m interplay.collect`` (or None when not configured)."""
    if not path:
        return None
    p = Path(path)
    if not p.exists():
        raise DataError(
            f"overlay_csv={path} does not exist: give the summary.csv written by "
            "`python -m interplay.collect MULTIRUN_DIR` (under MULTIRUN_DIR/summary/)."
        )
    return pd.read_csv(p)


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
    """Draw ``<prefix><metric>_mean`` ± ``_sem`` against column ``x``; False if absent."""
    if table is None or x not in table.columns:
        return False
    rows = table
    for key, val in (where or {}).items():
        if key in rows.columns:
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


# -- figures -----------------------------------------------------------------------------------


def fig1_3(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.3: student bias fixed to b0; R and accuracy (ρ_test = ρ_train) vs ρ_train."""
    plt = _plt()
    rhos = axis_values("figure.rho_train", fc.rho_train)
    fixed = {"alpha": fc.alpha, "T": fc.T, "learn_bias": False}
    curves = solve_curves(fixed, "b0", axis_values("figure.b0", fc.b0), rhos, solver_kw)
    fig, (ax_r, ax_a) = plt.subplots(1, 2, figsize=(10, 4))
    optima = []
    for color, (b0, pts) in zip(COLORS, curves.items(), strict=False):
        rho, R = _rho(pts), _arr(pts, "R")
        acc = _metric(pts, "accuracy", "train")
        ax_r.plot(rho, R, color=color, label=f"$b_0={b0:g}$")
        ax_a.plot(rho, acc, color=color, label=f"$b_0={b0:g}$")
        if not _flat(R):
            star = curve_argmax(CurveSolver(pts[0].params, pts, **solver_kw), lambda p: p.R, rhos)
            a_star = metric_objective("accuracy", "train")(
                CurveSolver(pts[0].params, pts, **solver_kw)(star["rho"])
            )
            ax_r.plot(star["rho"], star["value"], "*", ms=14, color=color, mec="k")
            ax_a.plot(star["rho"], a_star, "*", ms=14, color=color, mec="k")
            optima.append(
                {
                    "b0": b0,
                    "quantity": "R",
                    "rho_train_star": star["rho"],
                    "value": star["value"],
                    "accuracy_at_star": a_star,
                    "at_boundary": star["at_boundary"],
                }
            )
        overlay(ax_r, table, fc.overlay_x, "R", color, where={"data.b0": b0}, label="SGD")
        overlay(ax_a, table, fc.overlay_x, "accuracy", color, where={"data.b0": b0}, label="SGD")
    for ax, ylab in ((ax_r, "overlap $R$"), (ax_a, r"accuracy ($\rho_{test}=\rho_{train}$)")):
        ax.axvline(0.5, color="grey", ls=":", lw=1)
        ax.set_xlabel(r"$\rho_{train}$")
        ax.set_ylabel(ylab)
        ax.grid(alpha=0.3)
    ax_r.legend(fontsize=8)
    fig.suptitle(rf"$b=b_0$ fixed, $\alpha={fc.alpha:g}$, $T={fc.T:g}$", fontsize=10)
    return _save(fig, out, fc, _data_rows(curves, ["train"]), pd.DataFrame(optima))


def fig1_5(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.5: R, b and the test metrics vs ρ_train (learned bias)."""
    plt = _plt()
    rhos = axis_values("figure.rho_train", fc.rho_train)
    fixed = {"alpha": fc.alpha, "T": fc.T, "learn_bias": True}
    b0s = axis_values("figure.b0", fc.b0)
    if fc.metrics_b0 not in b0s:
        b0s.append(fc.metrics_b0)
    curves = solve_curves(fixed, "b0", b0s, rhos, solver_kw)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    ax_r, ax_b, ax_c, ax_d = axes.ravel()
    inset = ax_r.inset_axes([0.36, 0.08, 0.34, 0.42])
    optima, stars = [], {}
    for color, (b0, pts) in zip(COLORS, curves.items(), strict=False):
        rho, R, b = _rho(pts), _arr(pts, "R"), _arr(pts, "b")
        curve = CurveSolver(pts[0].params, pts, **solver_kw)
        rho0 = intrinsic_imbalance(b0)
        at_rho0 = curve(rho0)
        star_r = curve_argmax(curve, lambda p: p.R, rhos)
        root_b = curve_root(curve, lambda p, b0=b0: float(np.clip(p.b - b0, -1e3, 1e3)), rhos)
        stars[b0] = (star_r["rho"], root_b["rho"] if root_b else math.nan, rho0)
        label = rf"$b_0={b0:g}$ ($\rho_0={rho0:.2f}$)"
        for ax in (ax_r, inset):
            ax.plot(rho, R, color=color, label=label)
            ax.plot(star_r["rho"], star_r["value"], "*", ms=13, color=color, mec="k")
            ax.plot(rho0, at_rho0.R, "D", ms=6, color=color, mec="k")
        ax_b.plot(rho, b, color=color, label=label)
        ax_b.axhline(b0, color=color, ls="--", lw=0.8)
        if root_b:
            ax_b.plot(root_b["rho"], b0, "*", ms=13, color=color, mec="k")
        if math.isfinite(at_rho0.b):
            ax_b.plot(rho0, at_rho0.b, "D", ms=6, color=color, mec="k")
        where = {"data.b0": b0}
        overlay(ax_r, table, fc.overlay_x, "R", color, where=where, label=None)
        overlay(ax_b, table, fc.overlay_x, "b", color, where=where, label=None)
        optima.append(
            {
                "b0": b0,
                "quantity": "R",
                "rho_test": math.nan,
                "rho_train_star": star_r["rho"],
                "value": star_r["value"],
            }
        )
        optima.append(
            {
                "b0": b0,
                "quantity": "b=b0",
                "rho_test": math.nan,
                "rho_train_star": stars[b0][1],
                "value": b0,
            }
        )
        optima.append(
            {
                "b0": b0,
                "quantity": "R at rho0",
                "rho_test": math.nan,
                "rho_train_star": rho0,
                "value": at_rho0.R,
            }
        )
    peak = [s[0] for s in stars.values()]
    inset.set_xlim(*(fc.inset_xlim or (min(peak) - 0.06, max(peak) + 0.06)))
    inset.set_ylim(*(fc.inset_ylim or (0.39, 0.43)))
    inset.axvline(0.5, color="grey", ls=":", lw=1)
    inset.tick_params(labelsize=7)
    pts = curves[fc.metrics_b0]
    rho = _rho(pts)
    r_star, b_star, rho0 = stars[fc.metrics_b0]
    curve = CurveSolver(pts[0].params, pts, **solver_kw)
    for ax, spec in ((ax_c, 0.5), (ax_d, "intrinsic")):
        prefixes = ("", "test/") if spec == 0.5 else ("test_intrinsic/",)
        for color, metric in zip(COLORS, fc.metrics, strict=False):
            ax.plot(rho, _metric(pts, metric, spec), color=color, label=metric)
            star = curve_argmax(curve, metric_objective(metric, spec), rhos)
            ax.plot(star["rho"], star["value"], "*", ms=13, color=color, mec="k")
            optima.append(
                {
                    "b0": fc.metrics_b0,
                    "quantity": metric,
                    "rho_test": spec,
                    "rho_train_star": star["rho"],
                    "value": star["value"],
                    "at_boundary": star["at_boundary"],
                }
            )
            overlay(
                ax,
                table,
                fc.overlay_x,
                metric,
                color,
                prefixes=prefixes,
                where={"data.b0": fc.metrics_b0},
                label=None,
            )
        for x, ls, lab in (
            (rho0, "-.", r"$\rho_0$"),
            (b_star, "--", r"$\rho(b^*)$"),
            (r_star, ":", r"$\rho(R^*)$"),
        ):
            if math.isfinite(x):
                ax.axvline(x, color="grey", ls=ls, lw=1, label=lab)
        rt = "0.5" if spec == 0.5 else rf"\rho_0={rho0:.2f}"
        ax.set_title(rf"$b_0={fc.metrics_b0:g}$, $\rho_{{test}}={rt}$", fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, ncol=2)
    ax_r.axvline(0.5, color="grey", ls=":", lw=1)
    ax_b.axvline(0.5, color="grey", ls=":", lw=1)
    ax_b.set_ylim(*fc.b_ylim)
    ax_r.set_ylabel("overlap $R$")
    ax_b.set_ylabel("student bias $b$")
    ax_r.legend(fontsize=7, loc="upper left")
    for ax, tag in zip(axes.ravel(), "abcd", strict=True):
        ax.set_xlabel(r"$\rho_{train}$")
        ax.grid(alpha=0.3)
        ax.text(0.01, 1.02, f"({tag})", transform=ax.transAxes, fontsize=10)
    fig.suptitle(rf"$\alpha={fc.alpha:g}$, $T={fc.T:g}$", fontsize=10)
    return _save(fig, out, fc, _data_rows(curves, [0.5, "intrinsic"]), pd.DataFrame(optima))


def fig1_6(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.6: a_bal(ρ_train) - max a_bal for several α (main) and several T (inset)."""
    plt = _plt()
    rhos = axis_values("figure.rho_train", fc.rho_train)
    main = solve_curves(
        {"T": fc.T, "b0": fc.b0, "learn_bias": True},
        "alpha",
        axis_values("figure.alpha", fc.alpha),
        rhos,
        solver_kw,
    )
    ins = solve_curves(
        {"alpha": fc.inset_alpha, "b0": fc.b0, "learn_bias": True},
        "T",
        axis_values("figure.inset_T", fc.inset_T),
        rhos,
        solver_kw,
    )
    fig, ax = plt.subplots(figsize=(7, 5))
    inset = ax.inset_axes([0.08, 0.08, 0.36, 0.36])
    optima = []
    for target, curves, key in ((ax, main, "alpha"), (inset, ins, "T")):
        for color, (val, pts) in zip(COLORS, curves.items(), strict=False):
            curve = CurveSolver(pts[0].params, pts, **solver_kw)
            star = curve_argmax(curve, metric_objective("balanced_accuracy", 0.5), rhos)
            a_bal = _metric(pts, "balanced_accuracy", 0.5) - star["value"]
            target.plot(
                _rho(pts),
                a_bal,
                color=color,
                label=rf"$\alpha={val:g}$" if key == "alpha" else rf"$T={val:g}$",
            )
            target.plot(star["rho"], 0.0, "*", ms=11, color=color, mec="k")
            optima.append(
                {
                    key: val,
                    "quantity": "balanced_accuracy",
                    "rho_train_star": star["rho"],
                    "value": star["value"],
                }
            )
            if key == "alpha":
                overlay(
                    target,
                    table,
                    fc.overlay_x,
                    "balanced_accuracy",
                    color,
                    where={"data.alpha": val, "data.b0": fc.b0},
                    shift=star["value"],
                )
        target.axvline(0.5, color="grey", ls=":", lw=1)
        target.set_ylim(*fc.ylim)
        target.grid(alpha=0.3)
    inset.tick_params(labelsize=7)
    inset.legend(fontsize=6, loc="lower right")
    inset.set_title(rf"$\alpha={fc.inset_alpha:g}$", fontsize=8)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel(r"$\rho_{train}$")
    ax.set_ylabel(r"$a_{bal} - \max_{\rho_{train}} a_{bal}$")
    ax.set_title(
        rf"$b_0={fc.b0:g}$, $T={fc.T:g}$ (inset: $\alpha={fc.inset_alpha:g}$)", fontsize=10
    )
    data = pd.concat([_data_rows(main, [0.5]), _data_rows(ins, [0.5])], ignore_index=True)
    return _save(fig, out, fc, data, pd.DataFrame(optima))


def _rho_r_star(points_by: dict, rhos, solver_kw) -> dict:
    out = {}
    for val, pts in points_by.items():
        star = curve_argmax(CurveSolver(pts[0].params, pts, **solver_kw), lambda p: p.R, rhos)
        out[val] = star["rho"]
    return out


def fig1_7(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.7: ρ(R*) vs α (a), and vs ρ0(b0) at two values of α (b, c)."""
    plt = _plt()
    rhos = axis_values("figure.rho_grid", fc.rho_grid)
    alphas = axis_values("figure.alpha", fc.alpha)
    by_alpha = solve_curves(
        {"T": fc.T, "b0": fc.b0, "learn_bias": True}, "alpha", alphas, rhos, solver_kw
    )
    star_a = _rho_r_star(by_alpha, rhos, solver_kw)
    b0s = axis_values("figure.rho0_b0", fc.rho0_b0)
    panels = [(star_a, alphas, "alpha")]
    rows = [
        {"panel": "a", "alpha": a, "b0": fc.b0, "T": fc.T, "rho_R_star": star_a[a]} for a in alphas
    ]
    for tag, alpha in zip("bc", fc.rho0_alpha, strict=True):
        by_b0 = solve_curves(
            {"alpha": alpha, "T": fc.T, "learn_bias": True}, "b0", b0s, rhos, solver_kw
        )
        star_b = _rho_r_star(by_b0, rhos, solver_kw)
        panels.append((star_b, b0s, alpha))
        rows += [
            {
                "panel": tag,
                "alpha": alpha,
                "b0": b,
                "T": fc.T,
                "rho0": intrinsic_imbalance(b),
                "rho_R_star": star_b[b],
            }
            for b in b0s
        ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    axes[0].plot(alphas, [star_a[a] for a in alphas], "o-", ms=4)
    axes[0].set_xscale("log")
    axes[0].axvline(1.0, color="grey", ls="--", lw=1)
    axes[0].set_xlabel(r"$\alpha$")
    axes[0].set_title(
        rf"(a) $b_0={fc.b0:g}$ ($\rho_0={intrinsic_imbalance(fc.b0):.2f}$), "
        rf"$T={fc.T:g}$",
        fontsize=10,
    )
    for ax, (stars, b_list, alpha), tag in zip(axes[1:], panels[1:], "bc", strict=True):
        ax.plot([intrinsic_imbalance(b) for b in b_list], [stars[b] for b in b_list], "o-", ms=4)
        ax.set_xlabel(r"$\rho_0(b_0)$")
        ax.set_title(rf"({tag}) $\alpha={alpha:g}$, $T={fc.T:g}$", fontsize=10)
    for ax in axes:
        ax.axhline(0.5, color="grey", ls="--", lw=1)
        ax.set_ylabel(r"$\rho(R^*)$")
        ax.grid(alpha=0.3)
    data = pd.DataFrame(rows)
    return _save(fig, out, fc, data, data)


def fig1_8(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.8: balanced accuracy (left) and learned bias (right) vs T, several ρ_train."""
    plt = _plt()
    temps = axis_values("figure.T", fc.T)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = []
    rho_specs = axis_values("figure.rho_train", fc.rho_train)
    axes = {
        "alpha": [fc.alpha],
        "T": temps,
        "b0": [fc.b0],
        "rho_train": rho_specs,
        "learn_bias": [True],
    }
    points = solve_grid(axes, solver_kw=solver_kw, make_params=make_params)
    for k, (color, spec) in enumerate(zip(COLORS, rho_specs, strict=False)):
        pts = [p for p in points[k :: len(rho_specs)]]
        rho = pts[0].params.rho_train
        label = rf"$\rho_{{train}}={rho:.2f}$" + (r" $=\rho_0$" if spec == "intrinsic" else "")
        a_bal = _metric(pts, "balanced_accuracy", 0.5)
        ax_a.plot(temps, a_bal, "-", color=color, label=label)
        ax_b.plot(temps, _arr(pts, "b"), "-", color=color, label=label)
        for r in result_rows_many(pts):
            rows.append(r)
        where = {"data.rho_train": rho, "data.b0": fc.b0}
        overlay(ax_a, table, fc.overlay_x, "balanced_accuracy", color, where=where, label=None)
        overlay(ax_b, table, fc.overlay_x, "b", color, where=where, label=None)
    ax_b.axhline(fc.b0, color="k", ls=":", lw=1, label=rf"$b_0={fc.b0:g}$")
    ax_b.set_ylim(*fc.b_ylim)
    for ax, ylab in ((ax_a, r"balanced accuracy $a_{bal}$"), (ax_b, "student bias $b$")):
        ax.set_xscale("log")
        ax.set_xlabel("$T$")
        ax.set_ylabel(ylab)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        rf"$\alpha={fc.alpha:g}$, $b_0={fc.b0:g}$ ($\rho_0={intrinsic_imbalance(fc.b0):.2f}$)",
        fontsize=10,
    )
    return _save(fig, out, fc, pd.DataFrame(rows), None)


def result_rows_many(points: Sequence[SaddlePoint]) -> list[dict]:
    return [row for p in points for row in result_rows(p, [0.5, "intrinsic"])]


FIGURES = {"fig1_3": fig1_3, "fig1_5": fig1_5, "fig1_6": fig1_6, "fig1_7": fig1_7, "fig1_8": fig1_8}


def _save(fig, out: Path, fc, data: pd.DataFrame, optima: pd.DataFrame | None) -> dict:
    fig.tight_layout()
    png = out / f"{fc.name}.png"
    fig.savefig(png, dpi=int(fc.get("dpi", 130)))
    _plt().close(fig)
    write_csv(out / f"{fc.name}.csv", data)
    if optima is not None and len(optima):
        write_csv(out / f"{fc.name}_optima.csv", optima)
        print(optima.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
    print(f"Wrote {png}")
    return {"png": png, "data": data, "optima": optima}


def make_figure(cfg, out: Path) -> dict:
    """Dispatch ``cfg.figure.name`` (set by ``experiment=theory_fig*``)."""
    fc = cfg.get("figure")
    if fc is None or fc.get("name") not in FIGURES:
        raise ConfigError(
            f"figure={_plain(fc)!r}: task=figure needs figure.name in {sorted(FIGURES)} "
            "(use e.g. `python solve.py experiment=theory_fig1_5`)."
        )
    solver_kw = dict(_plain(cfg.get("solver", {})) or {})
    table = load_overlay(cfg.get("overlay_csv"))
    return FIGURES[fc.name](fc, solver_kw, table, out)
