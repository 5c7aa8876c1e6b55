"""Chapter-2 figures and Table 2.1 drawn from Hydra multirun directories of propensity runs.

``interplay-collect SWEEP_DIR`` writes the generic summary (:func:`interplay.runs.collect`)
and, when the jobs are propensity runs (their ``results.json`` holds ``tau_alpha_index``),
:func:`sweep_report` adds into ``SWEEP_DIR/summary/``:

* ``training_curves.png`` -- Fig. 2.9: train / validation loss and validation ρ_A at τα vs
  epoch of every job, the epochs where the learning rate drops marked by dashed lines (read
  from the logged ``train/lr``: any scheduler, not only the thesis's halvings);
* ``pearson_vs_time.png`` -- Fig. 2.10 (top): ρ_A(t) of every setting overlaid (mean over
  seeds; band = bootstrap interval over test configurations of the first seed), with the
  labels' noise ceiling where measured;
* ``pearson_vs_<key>.png`` -- Figs. 2.15-2.16: ρ_A per timescale against the swept key
  (``model.net.l_max``, ``model.net.n_layers``, ``data.n_train`` -> the number of training
  configurations actually used), mean over seeds with the seed spread (min-max bar);
* ``table.csv`` / ``table.md`` -- Table 2.1: per setting, median / best / worst and mean ±
  s.e. over seeds of ρ_A at τα and of the mean over timescales, beside the ceiling and the
  optimizer steps.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from interplay.core import DataError, atomic_open, new_figure, save_figure, write_csv
from interplay.runs import load_runs, swept_keys

log = logging.getLogger(__name__)

#: results.json key whose value replaces the override ``data.n_train`` on an x axis: the sweep
#: may say ``null`` (= the whole training split), the runs record how many configurations
#: were actually used.
ACTUAL_VALUES = {"data.n_train": "n_train_configs"}
_TIME_KEY = re.compile(r"^test/pearson_A_t(\d+)$")
HEADLINE = "test/pearson_A"  # ρ_A at the dataset's τα index (§2.4.3)


def is_propensity_sweep(runs: pd.DataFrame) -> bool:
    """Whether the jobs are propensity runs (their results name a τα index)."""
    return "tau_alpha_index" in runs.columns


def setting_label(row: pd.Series, keys: list[str]) -> str:
    """``key=value`` of the swept overrides (seed excluded), or ``run`` when nothing varies."""
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in keys) or "run"


def timescale_columns(runs: pd.DataFrame) -> dict[int, str]:
    """``{time index: results column}`` of the per-timescale ρ_A of the jobs."""
    cols = {int(m.group(1)): c for c in runs.columns if (m := _TIME_KEY.match(c))}
    return dict(sorted(cols.items()))


def observable_arrays(job_dir: str | Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The ``keys`` present in one job's ``observables.npz`` (no pickles); {} without it."""
    path = Path(job_dir) / "observables.npz"
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as npz:
        return {k: np.asarray(npz[k], dtype=float) for k in keys if k in npz.files}


def job_times(job_dir: str | Path) -> dict[int, float]:
    """``{time index: t}`` of one job, from its ``observables.npz``."""
    grid = observable_arrays(job_dir, ("time_indices", "times"))
    if len(grid) < 2:
        return {}
    return dict(zip(grid["time_indices"].astype(int).tolist(), grid["times"].tolist()))


# ----------------------------------------------------------------------- Fig. 2.9
def training_curve(job_dir: str | Path) -> pd.DataFrame:
    """Per-epoch ``train/loss``, ``val/loss``, ``val/pearson_A``, ``train/lr`` of one job.

    Reads every Lightning ``metrics.csv`` under the job (a resumed run appends a new CSV
    version); an epoch logged twice (resumed mid-way) keeps its last value.
    """
    files = sorted(Path(job_dir).rglob("metrics.csv"), key=lambda p: p.stat().st_mtime)
    if not files:
        return pd.DataFrame()
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    if "epoch" not in frame.columns:
        return pd.DataFrame()
    keep = [c for c in ("train/loss", "val/loss", "val/pearson_A", "train/lr") if c in frame]
    return frame.groupby("epoch")[keep].last()


def lr_drops(curve: pd.DataFrame) -> list[int]:
    """Epochs whose learning rate is lower than the epoch before (the dashed lines)."""
    if "train/lr" not in curve:
        return []
    lr = curve["train/lr"].dropna()
    return [
        int(e) for e, prev, now in zip(lr.index[1:], lr.values[:-1], lr.values[1:]) if now < prev
    ]


def plot_training_curves(jobs: list[tuple[str, Path]], path: Path) -> Path | None:
    """Fig. 2.9: loss (left) and validation ρ_A at τα (right) vs epoch for every job."""
    curves = [(label, training_curve(d)) for label, d in jobs]
    curves = [(label, c) for label, c in curves if not c.empty]
    if not curves:
        return None
    fig, (ax_loss, ax_rho) = new_figure((9.0, 3.6), ncols=2)
    for i, (label, curve) in enumerate(curves):
        color = f"C{i % 10}"
        if "train/loss" in curve:
            ax_loss.plot(curve.index, curve["train/loss"], "-", color=color, label=f"{label} train")
        if "val/loss" in curve:
            ax_loss.plot(curve.index, curve["val/loss"], "--", color=color, label=f"{label} val")
        if "val/pearson_A" in curve:
            ax_rho.plot(curve.index, curve["val/pearson_A"], "o-", ms=3, color=color, label=label)
        for epoch in lr_drops(curve):
            for ax in (ax_loss, ax_rho):
                ax.axvline(epoch, color=color, ls="--", lw=0.7, alpha=0.6)
    ax_loss.set(xlabel="epoch", ylabel="loss (sum of MSE over timescales)", yscale="log")
    ax_rho.set(xlabel="epoch", ylabel=r"validation $\rho_A$ at $\tau_\alpha$")
    ax_rho.set_title("dashed: learning-rate drops", fontsize=8)
    for ax in (ax_loss, ax_rho):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


# ----------------------------------------------------------------- Fig. 2.10 (top)
def plot_pearson_vs_time(
    groups: list[tuple[str, list[Path]]], path: Path, tau_alpha: float | None = None
) -> Path | None:
    """Fig. 2.10 (top): ρ_A(t) of every setting overlaid -- the mean over its seeds (thick),
    each seed (thin); a single seed gets its bootstrap band over test configurations."""
    fig, ax = new_figure((5.5, 3.8))
    drawn = False
    keys = ("times", "pearson_A", "pearson_A_lo", "pearson_A_hi", "ceiling_A")
    for i, (label, dirs) in enumerate(groups):
        arrays = [
            a
            for a in (observable_arrays(d, keys) for d in dirs)
            if {"pearson_A", "times"} <= a.keys()
        ]
        t = arrays[0]["times"] if arrays else None
        arrays = [a for a in arrays if a["times"].shape == t.shape]
        if not arrays:
            continue
        color = f"C{i % 10}"
        curves = np.array([a["pearson_A"] for a in arrays])
        ax.plot(t, curves.mean(axis=0), "o-", ms=4, lw=2, color=color,
                label=f"{label} (seeds: {len(arrays)})")  # fmt: skip
        if len(arrays) > 1:
            ax.plot(t, curves.T, "-", lw=0.6, alpha=0.5, color=color)
        elif "pearson_A_lo" in arrays[0]:
            ax.fill_between(t, arrays[0]["pearson_A_lo"], arrays[0]["pearson_A_hi"],
                            color=color, alpha=0.15, lw=0)  # fmt: skip
        ceiling = arrays[0].get("ceiling_A")
        if ceiling is not None and np.isfinite(ceiling).any():
            ax.plot(t, ceiling, ":", color=color, lw=1)
        drawn = True
    if not drawn:
        return None
    if tau_alpha is not None and math.isfinite(tau_alpha):
        ax.axvline(tau_alpha, color="grey", lw=0.8, ls="--", label=r"$\tau_\alpha$")
    ax.set(xlabel="t (LJ units)", ylabel=r"$\rho_A$ (mean over test configurations)", xscale="log")
    ax.set_title("thick: mean over seeds, thin: seeds (one seed: 95% bootstrap band); "
                 "dotted: noise ceiling", fontsize=7)  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


# ------------------------------------------------------------- Figs. 2.15-2.16
def plot_pearson_vs_parameter(runs: pd.DataFrame, x: str, panels: list[str], path: Path) -> Path:
    """ρ_A per timescale vs ``x``, one panel per combination of the ``panels`` keys (e.g.
    E_pot input none / IS of Fig. 2.15): mean over seeds, bar = min-max over seeds."""
    cols = timescale_columns(runs)
    times = job_times(runs["job_dir"].iloc[0])
    tau = runs["tau_alpha_index"].iloc[0]
    subsets = list(runs.groupby(panels, sort=True, dropna=False)) if panels else [((), runs)]
    fig, axes = new_figure((4.6 * len(subsets), 3.8), ncols=len(subsets), squeeze=False)
    for ax, (key, subset) in zip(axes.flat, subsets):
        for i, (k, col) in enumerate(cols.items()):
            stats = subset.groupby(x)[col].agg(["mean", "min", "max"]).sort_index()
            err = np.vstack([stats["mean"] - stats["min"], stats["max"] - stats["mean"]])
            label = (f"t={times[k]:.3g}" if k in times else f"t{k}") + (
                r" ($\tau_\alpha$)" if k == tau else ""
            )
            ax.errorbar(stats.index, stats["mean"], err, marker="o", ms=4, capsize=2,
                        color=f"C{i % 10}", label=label)  # fmt: skip
        ax.set(xlabel=x, ylabel=r"$\rho_A$ (bar: seed min-max)")
        if panels:
            values = key if isinstance(key, tuple) else (key,)
            ax.set_title(", ".join(f"{k}={v}" for k, v in zip(panels, values)), fontsize=8)
        if x in ACTUAL_VALUES.values():
            ax.set_xscale("log", base=2)
        if pd.api.types.is_integer_dtype(subset[x]):
            ax.set_xticks(sorted(subset[x].unique()))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


# ------------------------------------------------------------------ Table 2.1
def seed_statistics(values: pd.Series) -> dict[str, float]:
    """Median / best / worst / average (``avg``: "mean" already names the mean over
    timescales) / s.e. / n over seeds (thesis Table 2.1 format)."""
    v = values.dropna().to_numpy(dtype=float)
    n = len(v)
    return {
        "median": float(np.median(v)) if n else math.nan,
        "best": float(v.max()) if n else math.nan,
        "worst": float(v.min()) if n else math.nan,
        "avg": float(v.mean()) if n else math.nan,
        "sem": float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        "n": n,
    }


def seed_table(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per setting: seed statistics of ρ_A at τα, of its mean over t and of every
    timescale; the ceiling at τα and the optimizer steps (mean over seeds)."""
    metrics = [HEADLINE, "test/pearson_A_mean", *timescale_columns(runs).values()]
    metrics = [m for m in dict.fromkeys(metrics) if m in runs]
    rows = []
    groups = runs.groupby(by, sort=True, dropna=False) if by else [((), runs)]
    for key, group in groups:
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        for metric in metrics:
            name = metric.removeprefix("test/")
            row |= {f"{name}_{s}": v for s, v in seed_statistics(group[metric]).items()}
        for extra in ("test/ceiling_A", "optimizer_steps", "n_train_configs", "train_seconds"):
            if extra in group:
                row[extra.removeprefix("test/")] = float(group[extra].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(value: float, digits: int = 3) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def markdown_seed_table(table: pd.DataFrame, by: list[str]) -> str:
    """Table 2.1 as Markdown: ρ_A at τα and mean over t, median [worst, best], mean ± s.e."""
    head = [*by, "ρ_A(τα) median [worst, best]", "mean ± s.e.", "ρ_A mean over t median",
            "ceiling_A(τα)", "seeds", "optimizer steps", "training configurations"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_dict("records"):  # (iterrows would turn integer keys into floats)
        h = "pearson_A"
        cells = [
            *(str(r[k]) for k in by),
            f"{_cell(r[f'{h}_median'])} [{_cell(r[f'{h}_worst'])}, {_cell(r[f'{h}_best'])}]",
            f"{_cell(r[f'{h}_avg'])} ± {_cell(r[f'{h}_sem'])}",
            _cell(r.get("pearson_A_mean_median", math.nan)),
            _cell(r.get("ceiling_A", math.nan)),
            str(int(r[f"{h}_n"])),
            _cell(r.get("optimizer_steps", math.nan), 0),
            _cell(r.get("n_train_configs", math.nan), 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    steps = table["optimizer_steps"].dropna().unique() if "optimizer_steps" in table else []
    if len(steps) > 1:
        lines.append(
            f"\n**Budgets differ**: the settings ran {', '.join(f'{s:.0f}' for s in steps)} "
            "optimizer steps (mean over seeds); compare them with that in mind."
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- driver
def _resolve_x(runs: pd.DataFrame, by: list[str], x: str | None) -> str | None:
    """The x axis of Figs. 2.15-2.16: ``x``, else the one swept key that is not an input
    choice; ``data.n_train`` reads as the recorded number of training configurations."""
    if x is None:
        numeric = [k for k in by if pd.api.types.is_numeric_dtype(runs[k]) or k in ACTUAL_VALUES]
        x = numeric[0] if len(numeric) == 1 else None
    if x is not None and ACTUAL_VALUES.get(x) in runs:
        return ACTUAL_VALUES[x]
    return x


def sweep_report(
    sweep_dir: str | Path, x: str | None = None, runs: pd.DataFrame | None = None
) -> list[Path]:
    """Figs. 2.9, 2.10-top, 2.15-2.16 and Table 2.1 of a propensity multirun (module doc);
    returns the written paths (none when the jobs are not propensity runs)."""
    sweep_dir = Path(sweep_dir)
    runs = load_runs(sweep_dir) if runs is None else runs
    if not is_propensity_sweep(runs):
        return []
    if HEADLINE not in runs:
        raise DataError(f"The jobs under {sweep_dir} hold no {HEADLINE}: rerun them with train.py.")
    by = swept_keys(runs)
    out = sweep_dir / "summary"
    out.mkdir(exist_ok=True)
    labels = runs.apply(setting_label, axis=1, keys=by) if len(runs) else []
    runs = runs.assign(setting=labels)
    written = []
    jobs = [
        (f"{r['setting']} seed={r.get('seed', '–')}", Path(r["job_dir"]))
        for _, r in runs.iterrows()
    ]
    written.append(plot_training_curves(jobs, out / "training_curves.png"))
    groups = [(s, [Path(d) for d in g["job_dir"]]) for s, g in runs.groupby("setting", sort=False)]
    tau = float(runs["tau_alpha"].iloc[0]) if "tau_alpha" in runs else None
    written.append(plot_pearson_vs_time(groups, out / "pearson_vs_time.png", tau))
    axis = _resolve_x(runs, by, x)
    if axis is not None and axis in runs and runs[axis].nunique() > 1:
        panels = [k for k in by if k != axis and ACTUAL_VALUES.get(k) != axis]
        path = out / f"pearson_vs_{axis.rsplit('.', 1)[-1]}.png"
        written.append(plot_pearson_vs_parameter(runs, axis, panels, path))
    table = seed_table(runs, by)
    write_csv(out / "table.csv", table)
    with atomic_open(out / "table.md") as handle:
        handle.write(markdown_seed_table(table, by))
    written += [out / "table.csv", out / "table.md"]
    return [p for p in written if p is not None]
