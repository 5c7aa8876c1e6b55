"""The dispatcher of ``python solve.py``: one task per run, its outputs, a printed summary.

``run(cfg)`` looks up ``cfg.task`` in :data:`TASKS`:

* ``grid`` (default): the Cartesian grid of ``alpha, T, b0, rho_train, learn_bias`` (each a
  scalar, a list or ``{start, stop, num[, log]}``), with metrics for every ``rho_test``;
  writes ``results.csv`` (columns :data:`~interplay.imbalance.theory.RESULT_COLUMNS`) and,
  when ``rho_train`` has >= 3 values, ``optima.csv`` (ρ(R*), ρ(b*), argmax of every metric);
  prints a summary. The library behind it is :func:`interplay.imbalance.theory.solve_table`.
  A requested point that did not converge makes the run fail (non-zero exit, after writing
  ``results.csv``) unless ``allow_unconverged=true``: NaN order parameters are no answer.
* ``figure``: a thesis figure (:func:`interplay.imbalance.figures.make_figure`).
* ``montecarlo``: replica theory vs finite-N Monte Carlo
  (:func:`interplay.imbalance.montecarlo.replica_vs_montecarlo`).

Nothing here is imported by the library: this module sits on top of the imbalance layers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from interplay.core import ConfigError, ConvergenceError, write_csv
from interplay.core.config import resolve_output_dir
from interplay.imbalance.figures import make_figure
from interplay.imbalance.montecarlo import replica_vs_montecarlo
from interplay.imbalance.theory import AXES, solve_table


def print_summary(
    results: pd.DataFrame, optima: pd.DataFrame | None, seconds: float, n_rows: int
) -> None:
    """Counts of converged / trivial points, a thinned table and the refined optima."""
    n_points = len(results.drop_duplicates(list(AXES)))
    n_conv = int(results.drop_duplicates(list(AXES))["converged"].sum())
    grid_s = results.attrs.get("grid_seconds", seconds)
    print(
        f"Solved {n_points} saddle points in {grid_s:.2f} s ({seconds:.2f} s with the optima "
        f"search): {n_conv} converged."
    )
    failed = results[~results["converged"]].drop_duplicates(list(AXES))
    if len(failed):
        print(f"NOT converged ({len(failed)} points; NaN order parameters in results.csv):")
        print(failed[[*AXES, "residual"]].to_string(index=False))
    trivial = results[results["converged"] & ~np.isfinite(results["b"])]
    if len(trivial):
        print(
            f"{len(trivial.drop_duplicates(list(AXES)))} points in the trivial phase "
            "(no finite bias: b = ±inf, q = R = 0, the student predicts one class)."
        )
    cols = ["alpha", "T", "b0", "rho_train", "rho_test", "learn_bias", "q", "R", "b"]
    cols += ["train_error", "balanced_accuracy", "precision", "f1", "converged"]
    with pd.option_context("display.width", 160, "display.max_columns", 30):
        shown = (
            results[cols]
            if len(results) <= n_rows
            else results[cols].iloc[:: max(1, len(results) // n_rows)]
        )
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if optima is not None and len(optima):
            print("\nOptima along rho_train (bounded Brent / brentq refinement):")
            print(optima.to_string(index=False, float_format=lambda v: f"{v:.5g}"))


def solve_grid_task(cfg: Any, out: Path) -> dict:
    """``task=grid``: ``results.csv`` (+ ``optima.csv``) of the configured grid, and a summary."""
    results, optima, _, seconds = solve_table(cfg)
    write_csv(out / "results.csv", results)
    if optima is not None:
        write_csv(out / "optima.csv", optima)
    print_summary(results, optima, seconds, int(cfg.get("summary_rows", 40)))
    print(f"Wrote {out / 'results.csv'}")
    check_converged(results, bool(cfg.get("allow_unconverged", False)))
    return {"results": results, "optima": optima, "seconds": seconds}


def check_converged(results: pd.DataFrame, allow_unconverged: bool) -> None:
    """A :class:`ConvergenceError` when a requested grid point did not converge.

    ``solve.py`` must not exit 0 with NaN order parameters in ``results.csv``: a script or a
    sweep would take them for an answer. ``allow_unconverged=true`` (conf/solve.yaml) accepts
    them, e.g. for a grid that deliberately crosses the region where the solver fails.
    """
    points = results.drop_duplicates(list(AXES))
    n_failed = int((~points["converged"].astype(bool)).sum())
    if n_failed and not allow_unconverged:
        raise ConvergenceError(
            f"{n_failed} of {len(points)} requested saddle points did not converge (listed "
            "above; NaN in results.csv). Loosen solver.tol or raise solver.maxfev, change the "
            "grid, or set allow_unconverged=true to accept them."
        )


#: ``cfg.task`` -> the function that runs it with ``(cfg, output_dir)``.
TASKS: dict[str, Callable[[Any, Path], dict]] = {
    "grid": solve_grid_task,
    "figure": make_figure,
    "montecarlo": replica_vs_montecarlo,
}


def run(cfg: Any, output_dir: str | Path | None = None) -> dict:
    """Run the task of ``cfg`` and write its outputs into ``output_dir`` (the Hydra run dir)."""
    task = cfg.get("task", "grid")
    if task not in TASKS:
        raise ConfigError(f"task={task!r} is not understood: use one of {', '.join(TASKS)}.")
    return TASKS[task](cfg, resolve_output_dir(output_dir))
