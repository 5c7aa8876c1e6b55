"""Resampling vs reweighting (issue 19, item 4): table and figure of a finished sweep.

    python train.py experiment=resample_vs_reweight hydra.sweep.dir=DIR [seed=...]
    python scripts/experiments/resample_vs_reweight.py DIR [DIR2 ...] [--out OUT] [--reference M]

Reads every job's ``records.csv`` (one row per resampling) and ``.hydra/overrides.yaml``
(``imbalance.method``, ``data.rho_train``); sweeps run with other seeds (other teachers) add
their resamplings. Writes ``OUT/resample_vs_reweight.csv`` (mean and s.e.m. over resamplings of
the balanced accuracy, R and the effective rho, plus the paired difference to the
``--reference`` method: within one sweep every job trains the same K teachers and
initialisations) and ``resample_vs_reweight.png`` (the four curves against the effective rho),
and prints the table as Markdown. OUT defaults to DIR/summary; existing outputs are not
overwritten.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from interplay.core import COLORS, new_figure, save_figure, write_csv
from interplay.imbalance import intrinsic_imbalance

METHODS = ("resample", "undersample", "oversample", "reweight")
METRICS = {"test/balanced_accuracy": "a_bal", "test/R": "R"}


def _override(overrides: list[str], key: str, default: str) -> str:
    return next((o.split("=", 1)[1] for o in overrides if o.startswith(key + "=")), default)


def load(sweeps: list[Path]) -> pd.DataFrame:
    """One row per (job, resampling): method, target rho, effective rho, metrics, epochs."""
    frames = []
    jobs = [(i, r) for i, sweep in enumerate(sweeps) for r in sorted(sweep.glob("*/records.csv"))]
    for sweep_index, records in jobs:
        overrides = yaml.safe_load((records.parent / ".hydra" / "overrides.yaml").read_text())
        frame = pd.read_csv(records)
        frame["resampling"] = [(sweep_index, k) for k in frame.resampling]
        frame["method"] = _override(overrides, "imbalance.method", "resample")
        frame["rho"] = float(_override(overrides, "data.rho_train", "nan"))
        frame["epochs"] = json.loads((records.parent / "results.json").read_text())["epochs"]
        frames.append(frame)
    if not frames:
        raise SystemExit(f"{sweeps}: no finished job (*/records.csv)")
    return pd.concat(frames, ignore_index=True)


def summarise(rows: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Mean and s.e.m. over resamplings per (method, rho), and paired differences to
    ``reference`` (same teacher, same initialisation)."""
    out = []
    base = rows[rows.method == reference].set_index(["rho", "resampling"])
    for (method, rho), group in rows.groupby(["method", "rho"]):
        epochs = "/".join(str(e) for e in sorted(group.epochs.unique()))
        entry = {"method": method, "rho": rho, "K": len(group), "epochs": epochs}
        entry["effective_rho"] = group["test/effective_rho"].mean()
        for column, name in METRICS.items():
            values = group[column].to_numpy()
            entry[name] = values.mean()
            entry[f"{name}_sem"] = values.std(ddof=1) / np.sqrt(len(values))
            if rho in base.index.get_level_values(0):
                diff = values - base.loc[[(rho, k) for k in group.resampling], column].to_numpy()
                entry[f"{name}_minus_ref"] = diff.mean()
                entry[f"{name}_minus_ref_sem"] = diff.std(ddof=1) / np.sqrt(len(diff))
        out.append(entry)
    table = pd.DataFrame(out)
    table["order"] = table.method.map(METHODS.index)
    return table.sort_values(["order", "rho"]).drop(columns="order")


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown: value(s.e.m.) in units of the last digit shown (4 decimals)."""

    def pm(row: pd.Series, name: str) -> str:
        if not np.isfinite(row.get(name, np.nan)):
            return ""
        return f"{row[name]:.4f}({round(row[name + '_sem'] * 1e4)})"

    lines = [
        "| method | rho | eff. rho | epochs | a_bal | R | a_bal - ref. | R - ref. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        cells = [r.method, f"{r.rho:g}", f"{r.effective_rho:.4f}", f"{r.epochs}"]
        cells += [pm(r, n) for n in ("a_bal", "R", "a_bal_minus_ref", "R_minus_ref")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def natural_rho(sweep: Path) -> float:
    """rho0(b0) of the fixed data set (eq. 1.35), b0 from the sweep's first job config."""
    config = next(sweep.glob("*/.hydra/config.yaml"))
    return intrinsic_imbalance(float(yaml.safe_load(config.read_text())["data"]["b0"]))


def plot(table: pd.DataFrame, rho0: float, path: Path) -> None:
    fig, axes = new_figure((9.0, 3.6), ncols=2)
    for color, method in zip(COLORS, METHODS, strict=False):
        sub = table[table.method == method]
        for ax, name in zip(axes, METRICS.values(), strict=True):
            ax.errorbar(sub.effective_rho, sub[name], yerr=sub[f"{name}_sem"], color=color,
                        marker="o", capsize=2, label=method)  # fmt: skip
    for ax, label in zip(axes, ("balanced accuracy (rho_test = 1/2)", "R = w.w0/N"), strict=True):
        ax.axvline(rho0, color="grey", linestyle=":", label="rho0 (the fixed set)")
        ax.set_xlabel("effective rho (fraction of positives the loss sees)")
        ax.set_ylabel(label)
    axes[0].legend()
    fig.suptitle(f"SGD perceptron: resampling vs reweighting (rho0 = {rho0:.3f})")
    save_figure(fig, path, dpi=120, bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--reference", default="resample", choices=METHODS)
    args = parser.parse_args()
    out = args.out or args.sweeps[0] / "summary"
    csv, png = out / "resample_vs_reweight.csv", out / "resample_vs_reweight.png"
    for path in (csv, png):
        if path.exists():
            raise SystemExit(f"{path} exists: not overwritten (give --out)")
    out.mkdir(parents=True, exist_ok=True)
    table = summarise(load(args.sweeps), args.reference)
    write_csv(csv, table)
    plot(table, natural_rho(args.sweeps[0]), png)
    print(markdown(table))


if __name__ == "__main__":
    main()
