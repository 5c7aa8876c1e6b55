"""The console scripts of ``pyproject.toml``: one thin function each over one package function.

================== ======================= ===================================================
script             config                  body
================== ======================= ===================================================
interplay-simulate ``conf/simulate.yaml``  :func:`interplay.glass.simulation.simulate_from_config`
interplay-transfer ``conf/transfer.yaml``  :func:`interplay.glass.analysis.transfer_from_config`
interplay-compare  ``conf/compare.yaml``   :func:`interplay.glass.analysis.compare_from_config`
interplay-repair   (directories)           :func:`interplay.glass.simulation.repair_dirs`
interplay-collect  (a multirun directory)  :func:`interplay.runs.collect`
================== ======================= ===================================================

The configured ones are Hydra mains composed from the one ``conf/`` that
:func:`interplay.core.config.conf_dir` finds (``$INTERPLAY_ROOT``, the current directory, or
the editable checkout), so they take Hydra's overrides, ``-m``, ``--help`` and ``--cfg job``.
The two that take directories keep argparse. Bodies are imported only when a job runs, so
``--help`` and ``--cfg job`` answer without loading torch. Why a module of its own: it is the
top layer (import-linter), the only place where the families meet the command line; the root
scripts ``train.py``, ``solve.py`` and ``softness.py`` stay the thin design-card entry points.

Without installed scripts (a fresh worktree), the same commands run as
``python -m interplay.cli <script> [args...]`` with ``<script>`` = ``simulate``,
``interplay-simulate``, ... .
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from interplay.core.config import hydra_main


def _lazy(target: str) -> Callable[[Any], Any]:
    """The package function ``"module:name"``, imported when the Hydra job runs."""
    module, _, name = target.partition(":")

    def body(cfg: Any) -> Any:
        return getattr(importlib.import_module(module), name)(cfg)

    return body


def simulate() -> None:
    """``interplay-simulate [overrides]``: one LAMMPS (T, job) pair (docs/ka_data.md)."""
    hydra_main("simulate", _lazy("interplay.glass.simulation:simulate_from_config"))


def transfer() -> None:
    """``interplay-transfer [overrides]``: temperature transfer, Fig. 2.17 (docs/se3gnn.md)."""
    hydra_main("transfer", _lazy("interplay.glass.analysis:transfer_from_config"))


def compare() -> None:
    """``interplay-compare [overrides]``: the model comparison table (docs/baselines.md)."""
    hydra_main("compare", _lazy("interplay.glass.analysis:compare_from_config"))


def repair(argv: Sequence[str] | None = None) -> None:
    """``interplay-repair DIR... [--workers N]``: recompute propensities of particles stored
    outside the box (``interplay.glass.simulation._repair``); one JSON report per file."""
    parser = argparse.ArgumentParser(
        prog="interplay-repair",
        description="Recompute md_prop of stored configurations whose reference positions "
        "left the box (same seeds; checks that unaffected particles come out unchanged).",
    )
    parser.add_argument("dirs", nargs="+", help="dataset directories (searched recursively)")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    args = parser.parse_args(argv)
    from interplay.glass.simulation import repair_dirs

    for report in repair_dirs(args.dirs, args.workers):
        print(json.dumps(report), flush=True)


def collect(argv: Sequence[str] | None = None) -> None:
    """``interplay-collect SWEEP_DIR [--x KEY]``: a multirun directory into
    ``summary/summary.csv`` and one figure per metric (``interplay.runs.collect``); for
    propensity runs also Figs. 2.9, 2.10-top, 2.15-2.16 and Table 2.1
    (``interplay.glass.analysis.sweep_report``)."""
    parser = argparse.ArgumentParser(
        prog="interplay-collect",
        description="Gather a Hydra multirun directory into one table and one figure per metric.",
    )
    parser.add_argument("sweep_dir", help="a Hydra multirun directory")
    parser.add_argument("--x", help="swept key for the x axis (default: the only swept key)")
    args = parser.parse_args(argv)
    import pandas as pd

    from interplay.glass.analysis import sweep_report
    from interplay.runs import collect as collect_runs

    report = sweep_report(args.sweep_dir, args.x)  # none unless propensity runs
    table = collect_runs(args.sweep_dir, args.x, metric_figures=not report)
    with pd.option_context("display.width", 160, "display.max_columns", 12):
        print(table)
    for path in report:
        print(f"wrote {path}")
    print(f"\nwrote {Path(args.sweep_dir) / 'summary'}")


COMMANDS: dict[str, Callable[[], None]] = {
    "collect": collect,
    "compare": compare,
    "repair": repair,
    "simulate": simulate,
    "transfer": transfer,
}


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m interplay.cli <script> [args...]``: run a console script by name (with or
    without the ``interplay-`` prefix), as if it had been installed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0].removeprefix("interplay-") if argv else ""
    if name not in COMMANDS:
        sys.exit(
            f"usage: python -m interplay.cli {{{','.join(COMMANDS)}}} [args...]"
            + (f"\nunknown script {argv[0]!r}" if argv else "")
        )
    sys.argv = [f"interplay-{name}", *argv[1:]]  # what Hydra and argparse read
    COMMANDS[name]()


if __name__ == "__main__":
    main()
