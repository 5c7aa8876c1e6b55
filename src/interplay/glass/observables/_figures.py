"""Matplotlib figures of the propensity observables (thesis Figs. 2.10-2.13, 2.17).

Every function writes one PNG and returns its path. Figures are built in the shared plotting
style without pyplot (:func:`interplay.core.new_figure`: no pyplot state, no display needed,
the backend is left alone) and written atomically by :func:`interplay.core.save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from interplay.core import new_figure, save_figure


def _figure(size: tuple[float, float] = (5.0, 3.6)):
    return new_figure(size)


def _time_axis(times: Sequence[float] | None, n: int) -> tuple[np.ndarray, str, bool]:
    if times is not None and len(times) == n and np.all(np.isfinite(times)) and min(times) > 0:
        return np.asarray(times, dtype=float), "t (LJ units)", True
    return np.arange(n), "time index", False


def _save_vs_time(fig, ax, path: str | Path, xlabel: str, log: bool, ylabel: str, title: str):
    """Axes, legend and file of a quantity drawn against the timescales."""
    ax.set_xlabel(xlabel)
    if log:
        ax.set_xscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_pearson_vs_time(
    obs: dict[str, np.ndarray],
    path: str | Path,
    times: Sequence[float] | None = None,
    title: str = "",
    tau_column: int | None = None,
) -> Path:
    """Pearson (mean over configurations, solid, with its bootstrap band; pooled, dashed) vs
    timescale (Fig. 2.10), beside the labels' noise ceiling (dotted, where ``ceiling_{A,B}``
    is measured: the best Pearson the labels allow); a vertical line at the τα column (the
    headline) when given."""
    fig, ax = _figure()
    for name, color in (("A", "C0"), ("B", "C1")):
        if f"pearson_{name}" not in obs:
            continue
        y = np.asarray(obs[f"pearson_{name}"])
        t, label, log = _time_axis(times, len(y))
        ax.plot(t, y, "o-", color=color, label=f"{name} (mean per config)")
        if f"pearson_{name}_lo" in obs:
            lo, hi = obs[f"pearson_{name}_lo"], obs[f"pearson_{name}_hi"]
            ax.fill_between(t, lo, hi, color=color, alpha=0.2, lw=0)
        ax.plot(
            t, obs[f"pearson_pooled_{name}"], "s--", color=color, alpha=0.6, label=f"{name} pooled"
        )
        ceiling = np.asarray(obs.get(f"ceiling_{name}", np.nan), dtype=float)
        if ceiling.shape == y.shape and np.isfinite(ceiling).any():
            ax.plot(t, ceiling, "^:", color=color, ms=4, label=f"{name} noise ceiling")
    if tau_column is not None and "pearson_A" in obs:
        ax.axvline(t[tau_column], color="grey", lw=0.8, ls=":", label=r"$\tau_\alpha$")
    return _save_vs_time(fig, ax, path, label, log, "Pearson ρ", title)


def plot_chi4(
    obs: dict[str, np.ndarray],
    path: str | Path,
    times: Sequence[float] | None = None,
    title: str = "",
    warning: bool = False,
) -> Path:
    """chi4^s(t) of the ground truth (MD) and of the predictions (Fig. 2.12); thin lines: with
    the configuration means removed (``*_centered``); ``warning`` prints that too few test
    configurations entered."""
    fig, ax = _figure()
    t, label, log = _time_axis(times, len(obs["chi4_true"]))
    ax.plot(t, obs["chi4_true"], "k-o", label="MD (ground truth)")
    ax.plot(t, obs["chi4_pred"], "C3--^", label="prediction")
    if "chi4_true_centered" in obs:
        hollow = {"mfc": "none", "lw": 1}  # markers: a single timescale draws no line
        ax.plot(t, obs["chi4_true_centered"], "k:o", label="MD, config. means removed", **hollow)
        ax.plot(
            t, obs["chi4_pred_centered"], "C3:^", label="pred., config. means removed", **hollow
        )
    if warning:
        n = int(obs.get("chi4_n_configs", 0))
        ax.text(
            0.02, 0.97, f"only {n} test configurations: chi4 unreliable",
            transform=ax.transAxes, va="top", fontsize=8, color="C3",
        )  # fmt: skip
    return _save_vs_time(fig, ax, path, label, log, r"$\chi_4^s(t)$", title)


def plot_g4(
    obs: dict[str, np.ndarray],
    path: str | Path,
    time_indices: Sequence[int] | None = None,
    columns: Sequence[int] | None = None,
    title: str = "",
) -> Path:
    """G4(r, t) of ground truth (solid) and predictions (dashed) at a few timescales (Fig. 2.13)."""
    n_t = obs["g4_true"].shape[1]
    if columns is None:
        columns = sorted({0, n_t // 2, n_t - 1})
    fig, ax = _figure()
    for n, k in enumerate(columns):
        name = f"t{time_indices[k]}" if time_indices is not None else f"col {k}"
        ax.plot(obs["g4_r"], obs["g4_true"][:, k], "-", color=f"C{n}", label=f"MD {name}")
        ax.plot(obs["g4_r"], obs["g4_pred"][:, k], "--", color=f"C{n}", label=f"GNN {name}")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("r")
    ax.set_ylabel(r"$G_4(r, t)$")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_transfer_matrix(
    temperatures: Sequence[float],
    transfer_test: np.ndarray,
    transfer_learn: np.ndarray,
    path: str | Path,
    title: str = "",
) -> Path:
    """Fig. 2.17: rho at tau_alpha vs test temperature, one colour per training temperature;
    transfer test (squares, dashed) and transfer learn (triangles, solid). Matrices are
    indexed [train T, test T]."""
    from matplotlib import colormaps

    fig, ax = _figure((5.0, 3.8))
    temps = np.asarray(temperatures, dtype=float)
    cmap = colormaps["plasma"]  # cold -> hot, no pale middle colour (unlike coolwarm)
    for i, t_train in enumerate(temps):
        color = cmap(0.85 * i / max(len(temps) - 1, 1))  # stop before plasma's pale yellow
        ax.plot(temps, transfer_test[i], "s--", color=color, label=f"test, train T={t_train:g}")
        ax.plot(temps, transfer_learn[i], "^-", color=color, label=f"learn, train T={t_train:g}")
    ax.set_xlabel("test temperature T")
    ax.set_ylabel("Pearson ρ (A)")
    ax.set_title(title)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)
