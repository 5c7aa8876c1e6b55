"""Thesis Figs. 1.7 and 1.8: optima against α and ρ0(b0), and metrics against T.

Each is registered under its ``figure.name``; the contract is in
:mod:`interplay.imbalance.figures._registry`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from interplay.core import COLORS, pyplot
from interplay.imbalance.data import intrinsic_imbalance
from interplay.imbalance.figures._helpers import (
    converged_values,
    metric_values,
    overlay,
    result_rows_many,
    rho_r_star,
    save_outputs,
    solve_curves,
)
from interplay.imbalance.figures._registry import register_figure
from interplay.imbalance.theory import (
    axis_values,
    crossover_interval,
    crossover_temperature,
    make_params,
    solve_grid,
)


@register_figure("fig1_7")
def fig1_7(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.7: ρ(R*) vs α (a), and vs ρ0(b0) at two values of α (b, c)."""
    plt = pyplot()
    rhos = axis_values("figure.rho_grid", fc.rho_grid)
    alphas = axis_values("figure.alpha", fc.alpha)
    by_alpha = solve_curves(
        {"T": fc.T, "b0": fc.b0, "learn_bias": True}, "alpha", alphas, rhos, solver_kw
    )
    star_a = rho_r_star(by_alpha, rhos, solver_kw)
    b0s = axis_values("figure.rho0_b0", fc.rho0_b0)
    panels = [(star_a, alphas, "alpha")]
    rows = [
        {"panel": "a", "alpha": a, "b0": fc.b0, "T": fc.T, "rho_R_star": star_a[a]} for a in alphas
    ]
    for tag, alpha in zip("bc", fc.rho0_alpha, strict=True):
        by_b0 = solve_curves(
            {"alpha": alpha, "T": fc.T, "learn_bias": True}, "b0", b0s, rhos, solver_kw
        )
        star_b = rho_r_star(by_b0, rhos, solver_kw)
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
    return save_outputs(fig, out, fc, data, data)


@register_figure("fig1_8")
def fig1_8(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.8 (and 1.10 with the SGD overlay): balanced accuracy (left) and learned bias
    (right) vs T, several ρ_train, and the crossover temperature T* of each curve
    (:func:`~interplay.imbalance.theory.crossover_temperature`, ``figure.t_star_drop``).

    ``<name>.csv`` gets a ``T_star`` column (that row's curve); ``<name>_optima.csv`` one row
    per ρ_train with the theory T* and, with an overlay, the SGD T* and its 68% interval.
    """
    plt = pyplot()
    temps = axis_values("figure.T", fc.T)
    drop = float(fc.get("t_star_drop", 0.1))
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows, stars = [], []
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
        a_bal = metric_values(pts, "balanced_accuracy", 0.5)
        t_star = crossover_temperature(temps, a_bal, drop)
        star = {"rho_train": rho, "a_bal_plateau": a_bal[0], "T_star": t_star}
        ax_a.plot(temps, a_bal, "-", color=color, label=label)
        if math.isfinite(t_star):
            ax_a.axvline(t_star, color=color, ls=":", lw=1)
        ax_b.plot(temps, converged_values(pts, "b"), "-", color=color, label=label)
        rows += [{**r, "T_star": t_star} for r in result_rows_many(pts)]
        where = {"data.rho_train": rho, "data.b0": fc.b0}
        sgd = rf"SGD $\rho_{{train}}={rho:.2f}$"
        if overlay(ax_a, table, fc.overlay_x, "balanced_accuracy", color, where=where, label=sgd):
            star.update(sgd_t_star(table, fc.overlay_x, where, drop))
        overlay(ax_b, table, fc.overlay_x, "b", color, where=where, label=sgd)
        stars.append(star)
    ax_b.axhline(fc.b0, color="k", ls=":", lw=1, label=rf"$b_0={fc.b0:g}$")
    ax_b.set_ylim(*fc.b_ylim)
    x_label = "$T$" if table is None else r"$T$ (theory), $T_{eff}=lr/BS$ (SGD)"
    for ax, ylab in ((ax_a, r"balanced accuracy $a_{bal}$"), (ax_b, "student bias $b$")):
        ax.set_xscale("log")
        ax.set_xlabel(x_label)
        ax.set_ylabel(ylab)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        rf"$\alpha={fc.alpha:g}$, $b_0={fc.b0:g}$ ($\rho_0={intrinsic_imbalance(fc.b0):.2f}$);"
        rf" dotted: $T^*$ ({drop:g} of the margin above chance lost)",
        fontsize=10,
    )
    return save_outputs(fig, out, fc, pd.DataFrame(rows), pd.DataFrame(stars))


def sgd_t_star(table, x: str, where: dict, drop: float) -> dict:
    """T* of one SGD series (balanced accuracy vs ``x``) with its 68% bootstrap interval."""
    rows = table
    for key, val in where.items():
        rows = rows[np.isclose(rows[key].astype(float), float(val))]
    rows = rows.sort_values(x)
    est = crossover_interval(
        rows[x], rows["balanced_accuracy_mean"], rows["balanced_accuracy_sem"], drop
    )
    out = {f"sgd_{k}": v for k, v in est.items()}
    out["sgd_a_bal_plateau"] = float(rows["balanced_accuracy_mean"].iloc[0])
    return out


# Fig. 1.10 is Fig. 1.8 at the SGD sweep's α, b0, ρ_train (conf/experiment/theory_fig1_10.yaml).
register_figure("fig1_10")(fig1_8)
