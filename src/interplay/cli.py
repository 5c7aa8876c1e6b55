"""The console scripts of ``pyproject.toml``: one thin function each over one package function.

================== ======================= ===================================================
script             config                  body
================== ======================= ===================================================
interplay-simulate ``conf/simulate.yaml``  :func:`interplay.glass.simulation.simulate_from_config`
interplay-transfer ``conf/transfer.yaml``  :func:`interplay.glass.analysis.transfer_from_config`
interplay-compare  ``conf/compare.yaml``   :func:`interplay.glass.analysis.compare_from_config`
interplay-repair   (directories)           :func:`interplay.glass.simulation.repair_dirs`
interplay-collect  (a multirun directory)  :func:`interplay.runs.collect`
interplay-data     (list|fetch|verify|...) :func:`interplay.glass.data.fetch_dataset` & co.
================== ======================= ===================================================

The configured ones are Hydra mains composed from the one ``conf/`` that
:func:`interplay.core.config.conf_dir` finds (``$INTERPLAY_ROOT``, the current directory, or
the editable checkout), so they take Hydra's overrides, ``-m``, ``--help`` and ``--cfg job``.
The three that take directories or subcommands keep argparse. Bodies are imported only when a
job runs, so ``--help`` and ``--cfg job`` answer without loading torch. Why a module of its
own: it is the top layer (import-linter), the only place where the families meet the command
line; the root scripts ``train.py``, ``solve.py`` and ``softness.py`` stay the thin
design-card entry points.

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
    from interplay.runs import load_runs

    runs = load_runs(args.sweep_dir)  # read once for both reports
    report = sweep_report(args.sweep_dir, args.x, runs)  # none unless propensity runs
    table = collect_runs(args.sweep_dir, args.x, metric_figures=not report, runs=runs)
    with pd.option_context("display.width", 160, "display.max_columns", 12):
        print(table)
    for path in report:
        print(f"wrote {path}")
    print(f"\nwrote {Path(args.sweep_dir) / 'summary'}")


def data(argv: Sequence[str] | None = None) -> None:
    """``interplay-data list | fetch NAME [T] | verify | path [NAME [T]]``: the registry of the
    real datasets and their cache (``interplay.glass.data``; docs/ka_data.md, section Data)."""
    parser = argparse.ArgumentParser(
        prog="interplay-data",
        description="Real glass datasets (GlassBench, Shiba/BOTAN, Bapst): list, fetch into the "
        "cache with checksums and resumable downloads, verify, print the cache path.",
    )
    parser.add_argument("--data-dir", help="the cache (default: $INTERPLAY_DATA or user cache)")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every dataset: temperatures (* = cached), size, licence")
    fetch = sub.add_parser("fetch", help="download, check and unpack one dataset")
    fetch.add_argument("name", help="glassbench | shiba | bapst")
    fetch.add_argument("T", nargs="?", type=float, default=0.44, help="temperature (0.44)")
    fetch.add_argument("--file", help="the record's archive to use (when the name is ambiguous)")
    fetch.add_argument("--keep-archive", action="store_true", help="keep the downloaded archive")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    sub.add_parser("verify", help="recheck every fetched file's sha256")
    path = sub.add_parser("path", help="the cache, or a dataset's directory (its data.root)")
    path.add_argument("name", nargs="?")
    path.add_argument("T", nargs="?", type=float)
    args = parser.parse_args(argv)

    from interplay.core import DataError
    from interplay.glass import data as registry

    try:
        if args.action == "list":
            print(registry.dataset_table(args.data_dir))
        elif args.action == "fetch":
            registry.fetch_dataset(
                args.name, args.T, args.data_dir, file=args.file,
                progressbar=not args.no_progress, keep_archive=args.keep_archive,
            )  # fmt: skip
        elif args.action == "verify":
            results = registry.verify_dataset(args.data_dir)
            for what, ok, detail in results:
                print(f"{'ok    ' if ok else 'FAILED'} {what}: {detail}")
            if not results:
                print(f"nothing fetched in {registry.data_home(args.data_dir)}")
            if not all(ok for _, ok, _ in results):
                sys.exit(1)
        elif args.name is None:
            print(registry.data_home(args.data_dir))
        elif args.T is None:
            print(registry.dataset_root(args.name, args.data_dir))
        else:
            print(registry.dataset_dir(args.name, args.T, args.data_dir))
    except DataError as exc:
        sys.exit(f"interplay-data: {exc}")


COMMANDS: dict[str, Callable[[], None]] = {
    "collect": collect,
    "compare": compare,
    "data": data,
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
