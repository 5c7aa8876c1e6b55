"""Replica theory vs finite-N Monte Carlo of the Gibbs measure (independent validation).

``python solve.py experiment=replica_vs_montecarlo`` (``task=montecarlo`` of
:mod:`interplay.imbalance.solve`) solves the saddle point at each configured point, runs
:func:`~interplay.imbalance.montecarlo.run_gibbs_mc` for every N, and writes
``replica_vs_montecarlo.csv`` (theory, MC mean ± s.e.m. over data draws, z-score; an
equilibration row per run; with several N a weighted fit ``y = y_inf + c/N``) and a PNG.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interplay.core import ConfigError, pyplot, save_figure, write_csv
from interplay.core.config import plain_value
from interplay.imbalance.data import intrinsic_imbalance, resolve_rho
from interplay.imbalance.montecarlo._gibbs import MCConfig, run_gibbs_mc, summarize_draws
from interplay.imbalance.theory import (
    ControlParams,
    generalization_metrics,
    solve_from,
)

COMPARED = ("R", "q", "b", "train_error", "balanced_accuracy", "precision", "f1")


def _mc_point(cfg_kwargs: dict, rho_test: float, threads: int) -> dict:
    torch.set_num_threads(threads)
    return run_gibbs_mc(MCConfig(**cfg_kwargs), rho_test)


def compare_point(point, per_draw: dict, rho_test: float, quantities=COMPARED, z_max=3.0):
    """Rows (one per quantity) of theory vs Monte Carlo mean ± s.e.m. for one saddle point."""
    p = point.params
    theory = {"R": point.R, "q": point.q, "b": point.b, "train_error": point.train_error}
    theory.update(
        {k: float(v) for k, v in generalization_metrics(point.R, point.b, p.b0, rho_test).items()}
    )
    stats = summarize_draws(per_draw)
    rows = []
    for key in quantities:
        mean, sem = stats[key]
        if not math.isfinite(theory[key]):  # trivial phase: b = ±inf has no z-score
            z = math.nan
        else:
            z = (mean - theory[key]) / sem if sem > 0 else math.inf
        rows.append(
            {
                "alpha": p.alpha,
                "T": p.T,
                "b0": p.b0,
                "rho_train": p.rho_train,
                "rho_test": rho_test,
                "quantity": key,
                "theory": theory[key],
                "mc_mean": mean,
                "mc_sem": sem,
                "z": z,
                "agree": bool(abs(z) <= z_max) if math.isfinite(theory[key]) else None,
            }
        )
    return rows


def _equilibration_row(point, per_draw: dict, rho_test: float, z_max: float) -> dict:
    """R of the random-started minus the teacher-started chains: 0 at equilibrium."""
    a, b = per_draw["R_random_start"], per_draw["R_teacher_start"]
    eq = float(a.mean() - b.mean())
    sem = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    p = point.params
    return {
        "alpha": p.alpha,
        "T": p.T,
        "b0": p.b0,
        "rho_train": p.rho_train,
        "rho_test": rho_test,
        "quantity": "R(random start) - R(teacher start)",
        "theory": 0.0,
        "mc_mean": eq,
        "mc_sem": sem,
        "z": eq / sem,
        "agree": bool(abs(eq / sem) <= z_max),
    }


def _extrapolate(by_n: list[list[dict]], sizes: list[int], quantities, z_max: float) -> list[dict]:
    """Weighted least-squares fit ``y = y_inf + c/N`` per quantity; the row of y_inf."""
    rows = []
    for q_index in range(len(quantities)):
        ys = np.array([rows_n[q_index]["mc_mean"] for rows_n in by_n])
        sems = np.array([rows_n[q_index]["mc_sem"] for rows_n in by_n])
        design = np.stack([np.ones(len(sizes)), 1.0 / np.asarray(sizes, dtype=float)], axis=1)
        weights = 1.0 / sems**2
        cov = np.linalg.inv(design.T @ (weights[:, None] * design))
        coef = cov @ design.T @ (weights * ys)
        mean, sem = float(coef[0]), float(math.sqrt(cov[0, 0]))
        base = dict(by_n[-1][q_index])
        finite = math.isfinite(base["theory"])
        z = (mean - base["theory"]) / sem if finite else math.nan
        agree = bool(abs(z) <= z_max) if finite else None
        base.update(N="inf (fit a + c/N)", mc_mean=mean, mc_sem=sem, z=z, agree=agree)
        rows.append(base)
    return rows


def replica_vs_montecarlo(cfg: Any, out: Path) -> dict:
    """Solve the theory and run the Monte Carlo at every ``montecarlo.points``; table + PNG."""
    import pandas as pd
    from joblib import Parallel, delayed

    mc = plain_value(cfg.get("montecarlo"))
    if not mc or not mc.get("points"):
        raise ConfigError(
            "task=montecarlo needs montecarlo.points (experiment=replica_vs_montecarlo)."
        )
    common = {k: mc[k] for k in ("alpha", "T", "learn_bias") if k in mc}
    keys = ("n_draws", "n_sweeps", "burn_in", "bias_every", "meridian_every", "b_max", "seed")
    mc_kw = {k: mc[k] for k in keys if k in mc}
    sizes = [int(n) for n in (mc.get("N", 200) if isinstance(mc.get("N"), list) else [mc["N"]])]
    z_max = float(mc.get("z_max", 3.0))
    jobs, points = [], []
    for spec in mc["points"]:
        full = {**common, **spec}
        b0 = float(full["b0"])
        rho = resolve_rho("rho_train", full["rho_train"], intrinsic_imbalance(b0))
        rho_test = resolve_rho(
            "rho_test", full.get("rho_test", mc.get("rho_test", 0.5)), intrinsic_imbalance(b0)
        )
        params = ControlParams(
            float(full["alpha"]), float(full["T"]), b0, rho, bool(full.get("learn_bias", True))
        )
        point = solve_from(params)
        if not point.converged:
            raise ConfigError(f"no converged saddle point at {params}: pick another point.")
        # b = ±inf (trivial phase, docs/replica.md) is kept: the MC then tests R = q = 0,
        # train error = min(rho, 1 - rho) and how far b runs towards ±b_max as N grows.
        points.append((point, rho_test))
        for n in sizes:
            kw = {**mc_kw, "alpha": params.alpha, "T": params.T, "b0": b0, "rho_train": rho}
            jobs.append(({**kw, "N": n, "learn_bias": params.learn_bias}, rho_test))
    n_jobs = int(mc.get("n_jobs", 1))
    threads = max(1, int(mc.get("torch_threads", 1)))
    results = Parallel(n_jobs=n_jobs)(delayed(_mc_point)(kw, rt, threads) for kw, rt in jobs)
    rows = []
    quantities = mc.get("quantities", COMPARED)
    for k, (point, rho_test) in enumerate(points):
        by_n = []
        for n, per_draw in zip(sizes, results[k * len(sizes) : (k + 1) * len(sizes)], strict=True):
            rows_n = compare_point(point, per_draw, rho_test, quantities, z_max)
            rows_n.append(_equilibration_row(point, per_draw, rho_test, z_max))
            for row in rows_n:
                row["N"] = str(n)
            rows += rows_n
            by_n.append(rows_n)
            print(
                f"MC at b0={point.params.b0:g}, rho_train={point.params.rho_train:.3g}, N={n}: "
                f"{per_draw['seconds']:.1f} s"
            )
        if len(sizes) >= 2:
            rows += _extrapolate(by_n, sizes, quantities, z_max)
    table = pd.DataFrame(rows)
    write_csv(out / "replica_vs_montecarlo.csv", table)
    _plot_comparison(table, out / "replica_vs_montecarlo.png", int(mc.get("dpi", 130)))
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    tested = table["agree"].notna()
    n_bad = int((table.loc[tested, "agree"] == False).sum())  # noqa: E712 (object column)
    n_test = int(tested.sum())
    print(f"{n_test - n_bad}/{n_test} comparisons within {mc.get('z_max', 3.0)} s.e.m.")
    return {"table": table}


def _plot_comparison(table, path: Path, dpi: int) -> None:
    plt = pyplot()
    quantities = [q for q in table["quantity"].unique() if not q.startswith("R(random")]
    sizes = list(table["N"].unique())
    fig, axes = plt.subplots(1, len(quantities), figsize=(2.7 * len(quantities), 3.5))
    for ax, key in zip(np.atleast_1d(axes), quantities, strict=True):
        rows = table[table["quantity"] == key]
        pts = rows.drop_duplicates(["b0", "rho_train"])[["b0", "rho_train", "theory"]]
        x = np.arange(len(pts))
        ax.plot(x, pts["theory"], "_", ms=20, mew=2, color="k", label="replica")
        for k, n in enumerate(sizes):
            sub = rows[rows["N"] == n]
            offset = 0.12 * (k - (len(sizes) - 1) / 2)
            ax.errorbar(
                x + offset,
                sub["mc_mean"],
                sub["mc_sem"],
                fmt="o",
                ms=4,
                capsize=3,
                color=("tab:red", "tab:orange", "tab:purple", "tab:green")[k % 4],
                label=f"MC N={n}",
            )
        labels = [f"{b:g}\n{r:.2g}" for b, r in zip(pts["b0"], pts["rho_train"], strict=True)]
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_title(key, fontsize=9)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_xlabel(r"$b_0$ / $\rho_{train}$", fontsize=8)
    np.atleast_1d(axes)[0].legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, path, dpi=dpi)
