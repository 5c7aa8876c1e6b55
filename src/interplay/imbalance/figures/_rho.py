"""Thesis Figs. 1.3, 1.5 and 1.6: replica-theory curves along ``rho_train``.

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
    data_rows,
    is_flat,
    metric_values,
    overlay,
    rho_values,
    save_outputs,
    solve_curves,
)
from interplay.imbalance.figures._registry import register_figure
from interplay.imbalance.theory import (
    CurveSolver,
    axis_values,
    curve_argmax,
    curve_root,
    metric_objective,
)

# -- figures -----------------------------------------------------------------------------------


@register_figure("fig1_3")
def fig1_3(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.3: student bias fixed to b0; R and accuracy (ρ_test = ρ_train) vs ρ_train."""
    plt = pyplot()
    rhos = axis_values("figure.rho_train", fc.rho_train)
    fixed = {"alpha": fc.alpha, "T": fc.T, "learn_bias": False}
    curves = solve_curves(fixed, "b0", axis_values("figure.b0", fc.b0), rhos, solver_kw)
    fig, (ax_r, ax_a) = plt.subplots(1, 2, figsize=(10, 4))
    optima = []
    for color, (b0, pts) in zip(COLORS, curves.items(), strict=False):
        rho, R = rho_values(pts), converged_values(pts, "R")
        acc = metric_values(pts, "accuracy", "train")
        ax_r.plot(rho, R, color=color, label=f"$b_0={b0:g}$")
        ax_a.plot(rho, acc, color=color, label=f"$b_0={b0:g}$")
        if not is_flat(R):
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
    return save_outputs(fig, out, fc, data_rows(curves, ["train"]), pd.DataFrame(optima))


@register_figure("fig1_5")
def fig1_5(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.5: R, b and the test metrics vs ρ_train (learned bias)."""
    plt = pyplot()
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
        rho, R, b = rho_values(pts), converged_values(pts, "R"), converged_values(pts, "b")
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
    rho = rho_values(pts)
    r_star, b_star, rho0 = stars[fc.metrics_b0]
    curve = CurveSolver(pts[0].params, pts, **solver_kw)
    for ax, spec in ((ax_c, 0.5), (ax_d, "intrinsic")):
        prefixes = ("", "test/") if spec == 0.5 else ("test_intrinsic/",)
        for color, metric in zip(COLORS, fc.metrics, strict=False):
            ax.plot(rho, metric_values(pts, metric, spec), color=color, label=metric)
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
    return save_outputs(fig, out, fc, data_rows(curves, [0.5, "intrinsic"]), pd.DataFrame(optima))


@register_figure("fig1_6")
def fig1_6(fc, solver_kw: dict, table, out: Path) -> dict:
    """Fig. 1.6: a_bal(ρ_train) - max a_bal for several α (main) and several T (inset)."""
    plt = pyplot()
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
            a_bal = metric_values(pts, "balanced_accuracy", 0.5) - star["value"]
            target.plot(
                rho_values(pts),
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
    data = pd.concat([data_rows(main, [0.5]), data_rows(ins, [0.5])], ignore_index=True)
    return save_outputs(fig, out, fc, data, pd.DataFrame(optima))
