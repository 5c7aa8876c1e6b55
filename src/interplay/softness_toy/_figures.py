"""Figures of the SVM-softness toy model (paper Figs. 1-6), PNG in the shared plotting style
(:func:`interplay.core.pyplot`, :func:`interplay.core.save_figure`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from interplay.core import pyplot, save_figure
from interplay.softness_toy._arrhenius import ArrheniusFit
from interplay.softness_toy._model import Inference


def plot_inference(
    inf: Inference | ArrheniusFit,
    path: Path,
    title: str,
    mode: str,
    dpi: int = 120,
    n_points: int = 2000,
    inferred: np.ndarray | None = None,
) -> None:
    """Four panels as Fig. 1 (also Figs. 2, 4): (a) log P vs S per T, (b) log P vs 1/T per S,
    (c) inferred barrier vs S, (d) inferred vs true barrier with the regression line; on real
    data (an :class:`ArrheniusFit`, no true barrier) (d) is the histogram of ``inferred``."""
    label = "log P/(1-P)" if mode == "logit" else "log P"
    plt = pyplot()
    fig, ax = plt.subplots(1, 4, figsize=(17, 4), layout="constrained")
    colors = plt.cm.viridis(np.linspace(0, 1, len(inf.temperatures)))
    for T, row, c in zip(inf.temperatures, inf.log_p, colors):
        ax[0].plot(inf.s_grid, row, "o-", color=c, ms=3, label=f"T={T:g}")
    ax[0].set(xlabel="softness S", ylabel=label, title="(a) P(R|S) by logistic regression")
    ax[0].legend(fontsize=7)
    inv_t = 1.0 / inf.temperatures
    s_colors = plt.cm.plasma(np.linspace(0, 0.9, len(inf.s_grid)))
    for j, c in enumerate(s_colors):
        ax[1].plot(inv_t, inf.log_p[:, j], "o", color=c, ms=3)
        ax[1].plot(inv_t, inf.sigma_grid[j] - inf.barrier_grid[j] * inv_t, "-", color=c, lw=0.8)
    ax[1].set(xlabel="1/T", ylabel=label, title="(b) Arrhenius fits at fixed S")
    fit = inf.barrier_vs_softness
    ax[2].plot(inf.s_grid, inf.barrier_grid, "o", label="slope of (b)")
    ax[2].plot(inf.s_grid, fit["intercept"] + fit["slope"] * inf.s_grid, "-", lw=1)
    ax[2].set(
        xlabel="softness S",
        ylabel="inferred barrier",
        title=f"(c) dE = {fit['intercept']:.2f} {fit['slope']:+.2f} S",
    )
    if not isinstance(inf, Inference):
        ax[3].hist(inferred, bins=50, color="C0")
        ax[3].set(xlabel="inferred barrier", ylabel="particles",
                  title=f"(d) Var inferred barrier = {np.var(inferred):.3g}")  # fmt: skip
        fig.suptitle(title)
        save_figure(fig, path, dpi, bbox_inches="tight")
        return
    n = min(n_points, len(inf.test_energy))
    ax[3].plot(inf.test_energy[:n], inf.inferred_energy[:n], ".", ms=2, alpha=0.4)
    e = np.linspace(inf.test_energy.min(), inf.test_energy.max(), 2)
    ef = inf.energy_fit
    ax[3].plot(e, ef["intercept"] + ef["slope"] * e, "r-", label=f"fit, slope {ef['slope']:.3f}")
    ax[3].plot(e, e, "k--", lw=0.8, label="y = x")
    ax[3].set(xlabel="true barrier E", ylabel="inferred barrier", title="(d) inferred vs true")
    ax[3].legend(fontsize=8)
    fig.suptitle(title)
    save_figure(fig, path, dpi, bbox_inches="tight")


def plot_sweep(
    frame: pd.DataFrame, hue: str, path: Path, title: str, dpi: int = 120, logx_hue: bool = False
) -> None:
    """Fig. 3 / Fig. 5: (a) inferred-vs-true slope and (b) test accuracy vs n_train, per hue."""
    fig, ax = pyplot().subplots(1, 2, figsize=(11, 4), layout="constrained")
    for value, grp in frame.groupby(hue, sort=True):
        stats = grp.drop(columns=[hue]).groupby("n_train").agg(["mean", "std"]).reset_index()
        name = f"{hue}={value:g}" if logx_hue or isinstance(value, float) else f"{value}"
        for a, key in zip(ax, ("inferred_energy_slope", "test_accuracy")):
            a.errorbar(stats["n_train"], stats[key]["mean"], yerr=stats[key]["std"], marker="o",
                       ms=3, capsize=2, label=name)  # fmt: skip
    ax[0].axhline(1.0, color="k", lw=0.8, ls="--")
    ax[0].set(xscale="log", xlabel="training-set size", ylabel="slope inferred vs true",
              title="(a) barrier slope")  # fmt: skip
    ax[1].set(xscale="log", xlabel="training-set size", ylabel="test accuracy",
              title="(b) prediction accuracy")  # fmt: skip
    ax[0].legend(fontsize=8)
    fig.suptitle(title)
    save_figure(fig, path, dpi, bbox_inches="tight")


TOY_RFE_PANELS = (
    ("inferred_energy_variance", "(a) Var inferred barrier"),
    ("test_accuracy", "(b) test accuracy"),
    ("inferred_energy_slope", "(c) slope inferred vs true (needs true E)"),
)


def plot_rfe(
    frame: pd.DataFrame,
    best: int,
    n_relevant: int | None,
    path: Path,
    dpi: int = 120,
    keys: tuple[tuple[str, str], ...] = TOY_RFE_PANELS,
    title: str | None = None,
    logx: bool = False,
) -> None:
    """Fig. 6: one panel per (column, title) of ``keys`` vs the number of features kept
    (mean and std over repeats); toy: Var inferred barrier, accuracy, true slope."""
    stats = frame.groupby("n_features").agg(["mean", "std"]).reset_index()
    fig, ax = pyplot().subplots(1, len(keys), figsize=(5 * len(keys), 4), layout="constrained")
    for a, (key, panel) in zip(ax, keys):
        a.errorbar(stats["n_features"], stats[key]["mean"], yerr=stats[key]["std"], marker="o",
                   ms=3, capsize=2)  # fmt: skip
        a.axvline(best, color="r", lw=0.8, label=f"argmax Var = {best}")
        if n_relevant is not None:
            a.axvline(n_relevant, color="k", lw=0.8, ls="--", label=f"relevant = {n_relevant}")
        a.set(xlabel="features kept by RFE", title=panel, xscale="log" if logx else "linear")
    ax[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    save_figure(fig, path, dpi, bbox_inches="tight")
