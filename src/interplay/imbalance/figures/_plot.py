"""Plotting and writing for :mod:`interplay.imbalance.figures._registry`.

The colour cycle, the matplotlib (Agg) import, the overlay of SGD results read from the
``summary.csv`` of ``interplay-collect``, and :func:`_save`, which writes a figure's
``<name>.png``, ``<name>.csv`` and ``<name>_optima.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from interplay.core import DataError
from interplay.imbalance.solve import write_csv

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# -- overlay of SGD experiments --------------------------------------------------------------


def load_overlay(path: str | None) -> pd.DataFrame | None:
    """The ``summary.csv`` of ``interplay-collect`` (or None when not configured)."""
    if not path:
        return None
    p = Path(path)
    if not p.exists():
        raise DataError(
            f"overlay_csv={path} does not exist: give the summary.csv written by "
            "`interplay-collect MULTIRUN_DIR` (under MULTIRUN_DIR/summary/)."
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
