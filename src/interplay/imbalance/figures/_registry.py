"""Reproductions of the replica-theory figures of thesis §1.3.3 (Figs. 1.3, 1.5-1.8).

Each ``figure.name`` of ``conf/experiment/theory_fig*.yaml`` maps to a function (``FIGURES``) that
solves the needed saddle points (with continuation), refines the starred optima with
bounded Brent / brentq searches, and writes ``<name>.png``, the plotted data
``<name>.csv`` and the optima ``<name>_optima.csv`` into the run directory. With
``overlay_csv`` (the ``summary.csv`` of ``interplay-collect MULTIRUN_DIR``) the SGD
results (``<metric>_mean`` ± ``<metric>_sem``) are drawn over the theory curves.

The figure data (saddle-point curves) is computed in :mod:`.theory_figures_data`, drawing and
writing live in :mod:`.theory_figures_plot`, and the figures themselves in
:mod:`.theory_figures_rho` (Figs. 1.3, 1.5, 1.6) and :mod:`.theory_figures_scan` (Figs. 1.7,
1.8); their public names are re-exported here.
"""

from __future__ import annotations

import logging
from pathlib import Path

from interplay.core import ConfigError
from interplay.imbalance.figures._data import result_rows_many, solve_curves
from interplay.imbalance.figures._plot import COLORS, load_overlay, overlay
from interplay.imbalance.figures._rho import fig1_3, fig1_5, fig1_6
from interplay.imbalance.figures._scan import fig1_7, fig1_8
from interplay.imbalance.solve import _plain

__all__ = [
    "COLORS",
    "FIGURES",
    "fig1_3",
    "fig1_5",
    "fig1_6",
    "fig1_7",
    "fig1_8",
    "load_overlay",
    "make_figure",
    "overlay",
    "result_rows_many",
    "solve_curves",
]

log = logging.getLogger(__name__)

FIGURES = {"fig1_3": fig1_3, "fig1_5": fig1_5, "fig1_6": fig1_6, "fig1_7": fig1_7, "fig1_8": fig1_8}


def make_figure(cfg, out: Path) -> dict:
    """Dispatch ``cfg.figure.name`` (set by ``experiment=theory_fig*``)."""
    fc = cfg.get("figure")
    if fc is None or fc.get("name") not in FIGURES:
        raise ConfigError(
            f"figure={_plain(fc)!r}: task=figure needs figure.name in {sorted(FIGURES)} "
            "(use e.g. `python solve.py experiment=theory_fig1_5`)."
        )
    solver_kw = dict(_plain(cfg.get("solver", {})) or {})
    table = load_overlay(cfg.get("overlay_csv"))
    return FIGURES[fc.name](fc, solver_kw, table, out)
