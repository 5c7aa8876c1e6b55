"""Gather a Hydra multirun directory into one table and one figure per metric.

    interplay-collect multirun/train/2026-11-21/12-00-00 [--x data.rho_train]

Every job directory holding a ``results.json`` contributes its rows: the per-resampling rows
of ``records.csv`` when the model wrote them (vectorised quenched averages), otherwise the one
row of ``results.json``. Rows are grouped by the swept overrides (``seed`` excluded, so seeds
are resamplings) and reduced to mean, standard error of the mean and count. Writes
``summary/summary.csv`` and ``summary/<metric>.png``; with a W&B logger in the jobs' config the
figures are logged to W&B too.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from interplay.core import DataError, pyplot, save_figure, write_csv

log = logging.getLogger(__name__)

#: Overrides that distinguish resamplings rather than experimental conditions.
RESAMPLING_KEYS = ("seed", "data.seed", "model.seed")
#: Shown first (and together) in the overview figure when present.
KEY_METRICS = ("balanced_accuracy", "roc_auc", "R", "b", "recall", "specificity")


def _overrides(job_dir: Path) -> dict[str, str]:
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.exists():
        return {}
    pairs = (item.split("=", 1) for item in yaml.safe_load(path.read_text()) or [] if "=" in item)
    return {key.lstrip("+~"): value for key, value in pairs}


def parse_override_value(value: str) -> int | float | str:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5; anything else (``null``, ``inherent``) stays a string."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def load_runs(sweep_dir: str | Path) -> pd.DataFrame:
    """One row per resampling of every job under ``sweep_dir``, with the job's overrides."""
    sweep_dir = Path(sweep_dir)
    job_dirs = sorted(p.parent for p in sweep_dir.rglob("results.json"))
    if not job_dirs:
        raise DataError(
            f"No results.json under {sweep_dir}: give the directory of a finished Hydra multirun "
            "(e.g. multirun/train/<date>/<time>)."
        )
    frames, override_keys = [], set()
    for job_dir in job_dirs:
        results = json.loads((job_dir / "results.json").read_text())
        records = job_dir / "records.csv"
        if records.exists():
            rows = pd.read_csv(records)
            # job-level numbers (epochs, train_seconds, T_eff, ...) apply to every resampling
            for key, value in results.items():
                if key not in rows.columns and not key.startswith("test"):
                    rows[key] = value
        else:
            rows = pd.DataFrame([results])
        for key, value in _overrides(job_dir).items():
            rows[key] = parse_override_value(value)
            override_keys.add(key)
        rows["job"] = job_dir.name
        rows["job_dir"] = str(job_dir)
        frames.append(rows)
    runs = pd.concat(frames, ignore_index=True)
    runs.attrs["overrides"] = sorted(override_keys)
    return runs


def swept_keys(runs: pd.DataFrame) -> list[str]:
    """Override columns that vary across jobs, resampling seeds excluded."""
    return [
        c
        for c in runs.attrs.get("overrides", [])
        if c not in RESAMPLING_KEYS and runs[c].nunique() > 1
    ]


def summarize(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean, standard error and count of every numeric metric, per group of ``by``."""
    excluded = {*by, *RESAMPLING_KEYS, *runs.attrs.get("overrides", []), "resampling"}
    metrics = [c for c in runs.select_dtypes("number").columns if c not in excluded]
    grouped = runs.groupby(by, sort=True) if by else runs.assign(_all=0).groupby("_all")
    mean = grouped[metrics].mean()
    sem = grouped[metrics].std(ddof=1) / np.sqrt(grouped[metrics].count())
    table = pd.concat([mean.add_suffix("_mean"), sem.add_suffix("_sem")], axis=1).rename(
        columns=lambda c: c.removeprefix("test/")
    )
    table["n"] = grouped.size()
    return table.reset_index().drop(columns="_all", errors="ignore")


def log_axis(values: pd.Series) -> bool:
    """Whether an x axis reads better in log scale: positive numbers spanning >= 2 decades
    (batch sizes 1..2000, T_eff = lr/BS), as the thesis draws them."""
    v = pd.to_numeric(values, errors="coerce")
    return bool(v.notna().all() and (v > 0).all() and v.max() / v.min() >= 100)


def plot_metrics(table: pd.DataFrame, x: str, out_dir: Path) -> list[Path]:
    """One PNG per metric (mean +- s.e. vs ``x``) plus an overview of the key metrics."""
    plt = pyplot()
    table = table.sort_values(x)
    xscale = "log" if log_axis(table[x]) else "linear"
    metrics = [c.removesuffix("_mean") for c in table.columns if c.endswith("_mean")]
    paths = []
    for metric in metrics:
        fig, ax = plt.subplots(figsize=(4.5, 3.4))
        ax.errorbar(
            table[x], table[f"{metric}_mean"], table[f"{metric}_sem"], marker="o", capsize=3
        )
        ax.set_xlabel(x)
        ax.set_xscale(xscale)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        paths.append(save_figure(fig, out_dir / f"{metric.replace('/', '_')}.png", dpi=120))
    key = [m for m in KEY_METRICS if m in metrics]
    if key:
        cols = min(3, len(key))
        rows = math.ceil(len(key) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
        for ax, metric in zip(axes.flat, key):
            ax.errorbar(
                table[x], table[f"{metric}_mean"], table[f"{metric}_sem"], marker="o", capsize=3
            )
            best = table[f"{metric}_mean"].idxmax()
            ax.axvline(table.loc[best, x], color="grey", ls=":", lw=1)
            ax.set(xlabel=x, ylabel=metric, xscale=xscale)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(key) :]:
            ax.axis("off")
        fig.tight_layout()
        paths.append(save_figure(fig, out_dir / "overview.png", dpi=120))
    return paths


def _log_to_wandb(sweep_dir: Path, figures: list[Path], table: pd.DataFrame) -> None:
    """Log the summary to W&B when the jobs were run with ``logger=wandb``."""
    config_files = sorted(sweep_dir.rglob(".hydra/config.yaml"))
    config = yaml.safe_load(config_files[0].read_text()) if config_files else {}
    wandb_cfg = (config.get("logger") or {}).get("wandb")
    if not wandb_cfg:
        return
    import wandb

    run = wandb.init(
        project=wandb_cfg.get("project", "interplay"),
        entity=wandb_cfg.get("entity"),
        mode="offline" if wandb_cfg.get("offline", True) else "online",
        dir=str(sweep_dir),
        job_type="collect",
        name=f"summary-{sweep_dir.name}",
    )
    run.log(
        {p.stem: wandb.Image(str(p)) for p in figures} | {"summary": wandb.Table(dataframe=table)}
    )
    run.finish()


def collect(
    sweep_dir: str | Path,
    x: str | None = None,
    metric_figures: bool = True,
    runs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Write ``summary.csv`` and figures into ``sweep_dir/summary``; return the table.

    ``metric_figures=False`` skips the one-PNG-per-metric figures (a family report that draws
    its own, e.g. the ~100 per-timescale keys of a propensity run, asks for that). ``runs``:
    the :func:`load_runs` table when the caller has read it already."""
    sweep_dir = Path(sweep_dir)
    runs = load_runs(sweep_dir) if runs is None else runs
    by = swept_keys(runs)
    if x is None and len(by) == 1:
        x = by[0]
    if x is not None and x not in runs.columns:
        raise DataError(f"--x {x} is not an override of the jobs in {sweep_dir}; swept: {by}.")
    table = summarize(runs, by)
    out_dir = sweep_dir / "summary"
    out_dir.mkdir(exist_ok=True)
    write_csv(out_dir / "summary.csv", table)
    draw = metric_figures and x is not None and len(by) <= 1
    figures = plot_metrics(table, x, out_dir) if draw else []
    _log_to_wandb(sweep_dir, figures, table)
    return table
