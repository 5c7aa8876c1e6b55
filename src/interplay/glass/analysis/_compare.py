"""Comparison table of the propensity models on the same data, metrics and budget.

``interplay-compare`` (``conf/compare.yaml``; body :func:`compare_from_config`) trains every
model through the real ``train.py`` code path (``conf/train.yaml`` composed with overrides,
then :func:`interplay.runs.train_and_test`, one run directory per model and dataset) and writes
``comparison.md`` (per dataset: ρ_A at τα and its mean over the timescales with bootstrap
intervals over test configurations, the labels' noise ceiling, parameter count, optimizer
steps, epochs, training and wall time -- and a warning when the gradient-trained models ran
different numbers of optimizer steps --, then ρ_A per timescale) and ``comparison.json``
into the output directory.

Models (``models``): any glass model of ``conf/model`` (``train.py model=<name>``); the
default list is in conf/compare.yaml (se3gnn_small, se3gnn_invariant = se3gnn_small with
l_max = 0, bapst_gnn, bapst_gnn_bessel, descriptor_ridge, softness_svm). Datasets
(``datasets``): the entries of ``dataset_settings`` in conf/compare.yaml -- ``ka3d`` (the
embedded simulated data at the default T of conf/data/ka3d.yaml) and ``botan`` (Shiba et al.
T = 0.44 sample, ``botan_root``), each with its train.py overrides and default budget.

CPU budget knobs: ``epochs`` / ``minutes`` per gradient-trained model and dataset
(``{ka3d:12,botan:40}`` style or one number for all); the closed-form models always use one
pass over the training set. ``quick=true`` is a seconds-long smoke run (few configurations,
one epoch).

Examples::

    interplay-compare                                      # the full table (~21 min)
    interplay-compare datasets=[ka3d] models=[descriptor_ridge,bapst_gnn]
    interplay-compare quick=true out=/tmp/cmp              # smoke test
    interplay-compare 'set=["trainer=gpu"]' minutes=30     # a GPU budget
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interplay.core import ConfigError, atomic_open, write_json
from interplay.core.config import conf_dir, project_root

log = logging.getLogger(__name__)

#: Models fitted in one closed-form pass (no optimizer steps to compare).
CLOSED_FORM = {"descriptor_ridge", "softness_svm"}


def available_models() -> list[str]:
    """Every ``conf/model/<name>.yaml``: a comparison row is ``train.py model=<name>``."""
    return sorted(p.stem for p in (conf_dir() / "model").glob("*.yaml"))


@dataclass
class Dataset:
    """One entry of ``dataset_settings`` in conf/compare.yaml."""

    name: str
    overrides: list[str]
    epochs: int
    minutes: float
    description: str = ""


def dataset_table(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, Dataset]:
    """``dataset_settings`` of conf/compare.yaml (overrides, default budget, description of
    each dataset) as :class:`Dataset` objects."""
    return {
        name: Dataset(
            name,
            [str(o) for o in entry["overrides"]],
            int(entry["epochs"]),
            float(entry["minutes"]),
            str(entry.get("description", "")),
        )
        for name, entry in settings.items()
    }


QUICK = [
    "data.max_configs=4",
    "trainer.max_epochs=1",
    "++trainer.limit_train_batches=2",
    "++trainer.limit_val_batches=1",
    "model.figures=false",
]


@dataclass
class Row:
    model: str
    dataset: str
    run_dir: str
    results: dict = field(default_factory=dict)
    wall_seconds: float = float("nan")
    error: str | None = None


def compose_train_config(overrides: list[str], output_dir: Path):
    """``conf/train.yaml`` composed as train.py does, with ``paths.output_dir`` = output_dir."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
    return cfg


def _budget(spec: list[str] | None, name: str, default: float) -> float:
    """``["12"]`` or ``["ka3d:12", "botan:40"]`` -> the value for dataset ``name``."""
    value = default
    for item in spec or []:
        key, sep, val = item.rpartition(":")
        if not sep or key == name:
            value = float(val)
    return value


def run_one(model: str, ds: Dataset, out: Path, extra: list[str], threads: int) -> Row:
    from omegaconf import OmegaConf

    from interplay.runs import train_and_test as run

    run_dir = out / ds.name / model
    overrides = [
        f"model={model}",
        *ds.overrides,
        f"trainer.max_epochs={1 if model in CLOSED_FORM else ds.epochs}",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
        "callbacks=none",
        f"num_threads={threads}",
        f"task_name=compare_{ds.name}_{model}",
        *([] if os.environ.get("INTERPLAY_ROOT") else [f"paths.root_dir={project_root()}"]),
        *extra,
    ]
    if model not in CLOSED_FORM and ds.minutes > 0 and not any("max_time" in o for o in extra):
        sec = int(round(60 * ds.minutes))
        overrides.append(
            f"++trainer.max_time=00:{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
        )
    row = Row(model, ds.name, str(run_dir))
    start = time.perf_counter()
    try:
        cfg = compose_train_config(overrides, run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(run_dir / "config.yaml") as handle:
            handle.write(OmegaConf.to_yaml({k: v for k, v in cfg.items() if k != "hydra"}))
        log.info("=== %s on %s: %s", model, ds.name, " ".join(overrides))
        run(cfg)
        row.results = json.loads((run_dir / "results.json").read_text())
    except Exception as exc:  # one failing model must not lose the table
        log.exception("%s on %s failed", model, ds.name)
        row.error = f"{type(exc).__name__}: {exc}"
    row.wall_seconds = time.perf_counter() - start
    gc.collect()
    return row


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _interval(results: dict, key: str) -> str:
    """``0.433 [0.130, 0.592]``: the value and its bootstrap interval over test configurations."""
    value = results.get(key)
    if value is None:
        return "–"
    lo, hi = results.get(f"{key}_lo"), results.get(f"{key}_hi")
    return _fmt(value) + (f" [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None else "")


def _steps(row: Row) -> str:
    if row.model in CLOSED_FORM:
        return "closed form"
    steps = row.results.get("optimizer_steps")
    return "–" if steps is None else f"{int(steps):,}"


def budget_warning(rows: list[Row]) -> str | None:
    """A line naming the models whose optimizer-step budgets differ (closed-form models
    aside), so that a table never ranks unequal budgets silently."""
    steps = {
        r.model: int(r.results["optimizer_steps"])
        for r in rows
        if not r.error and r.model not in CLOSED_FORM and "optimizer_steps" in r.results
    }
    if len(set(steps.values())) <= 1:
        return None
    listed = ", ".join(f"{m} {s:,}" for m, s in steps.items())
    return (
        f"**Unequal budgets**: the gradient-trained models ran different numbers of optimizer "
        f"steps ({listed}; a wall-clock limit stops each at its own step count). Differences "
        "between them mix model and budget."
    )


def _time_indices(rows: list[Row]) -> list[int]:
    return sorted(
        {
            int(k.rsplit("_t", 1)[1])
            for r in rows
            for k in r.results
            if k.startswith("test/pearson_A_t") and k.rsplit("_t", 1)[1].isdigit()
        }
    )


def markdown_table(rows: list[Row]) -> str:
    """Per dataset: the headline table (ρ_A at τα and its mean over t with 95 % bootstrap
    intervals over test configurations, the labels' noise ceiling, parameters, optimizer
    steps, times), a budget warning where step counts differ, and ρ_A per timescale."""
    parts = []
    for ds in dict.fromkeys(r.dataset for r in rows):
        sub = [r for r in rows if r.dataset == ds]
        head = ["model", "ρ_A(τα) [95% CI]", "ρ_A mean over t [95% CI]", "ceiling_A(τα)",
                "parameters", "optimizer steps", "epochs", "train [s]", "wall [s]"]  # fmt: skip
        lines = [f"**{ds}**", "", "| " + " | ".join(head) + " |",
                 "|---|" + "---:|" * (len(head) - 1)]  # fmt: skip
        for r in sub:
            if r.error:
                msg = " ".join(r.error.split())[:100].replace("|", "/")
                lines.append(f"| {r.model} | failed: {msg} |")
                continue
            n_params = r.results.get("n_parameters")
            cells = [
                r.model,
                _interval(r.results, "test/pearson_A"),
                _interval(r.results, "test/pearson_A_mean"),
                _interval(r.results, "test/ceiling_A"),
                "–" if n_params is None else f"{int(n_params):,}",
                _steps(r),
                str(int(r.results.get("epochs", 0))),
                _fmt(r.results.get("train_seconds"), 1),
                _fmt(r.wall_seconds, 1),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        warning = budget_warning(sub)
        if warning:
            lines += ["", warning]
        times = _time_indices(sub)
        if times:
            lines += ["", "| model | " + " | ".join(f"ρ_A t{t}" for t in times) + " |",
                      "|---|" + "---:|" * len(times)]  # fmt: skip
            for r in sub:
                if not r.error:
                    rho = [_fmt(r.results.get(f"test/pearson_A_t{t}")) for t in times]
                    lines.append(f"| {r.model} | " + " | ".join(rho) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def compare(
    models: list[str],
    dataset_names: list[str],
    out: Path,
    settings: Mapping[str, Mapping[str, Any]],
    epochs: list[str] | None = None,
    minutes: list[str] | None = None,
    quick: bool = False,
    extra: list[str] | None = None,
    threads: int = 1,
) -> list[Row]:
    """Train every model on every dataset; write ``comparison.md`` / ``.json`` into ``out``."""
    known = available_models()
    unknown = [m for m in models if m not in known]
    if unknown:
        raise ConfigError(f"models={unknown}: unknown; choose from {known}")
    table = dataset_table(settings)
    unknown = [d for d in dataset_names if d not in table]
    if unknown:
        raise ConfigError(f"datasets={unknown}: unknown; choose from {sorted(table)}")
    rows = []
    for name in dataset_names:
        ds = table[name]
        ds.epochs = int(_budget(epochs, name, 1 if quick else ds.epochs))
        ds.minutes = _budget(minutes, name, 0.0 if quick else ds.minutes)
        for model in models:
            rows.append(
                run_one(model, ds, out, [*(QUICK if quick else []), *(extra or [])], threads)
            )
            write_outputs(rows, out, table)
    return rows


def write_outputs(rows: list[Row], out: Path, table: dict[str, Dataset]) -> None:
    header = ["# Propensity models compared (interplay-compare)", ""]
    for name in dict.fromkeys(r.dataset for r in rows):
        ds = table[name]
        header.append(
            f"* {name}: {ds.description}; gradient models: max {ds.epochs} epochs"
            + (f", {ds.minutes:g} min" if ds.minutes > 0 else "")
        )
    header += [
        "",
        "ρ_A: Pearson of A particles per test configuration, averaged over configurations, at "
        "the dataset's τα (and its mean over the timescales); brackets: 95 % bootstrap "
        "interval over test configurations. ceiling_A: the best ρ_A the labels' "
        "iso-configurational noise allows (split-half reliability; – where the data holds no "
        "runs). optimizer steps: the gradient-trained models' budget. train [s]: "
        "`train_seconds` of results.json (fit incl. validation); wall [s]: the whole run.",
        "",
        "",
    ]
    out.mkdir(parents=True, exist_ok=True)
    with atomic_open(out / "comparison.md") as handle:
        handle.write("\n".join(header) + markdown_table(rows))
    write_json(out / "comparison.json", [r.__dict__ for r in rows])


def _budget_spec(value: Any) -> list[str] | None:
    """``epochs`` / ``minutes`` of conf/compare.yaml (null, N, or {dataset: N}) as the list of
    ``N`` / ``DATASET:N`` strings of :func:`compare`."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return [f"{name}:{v}" for name, v in value.items()]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [str(v) for v in value]
    return [str(value)]


def compare_from_config(cfg: Any) -> list[Row]:
    """Body of ``interplay-compare``: the keys of ``conf/compare.yaml`` handed to
    :func:`compare`; output into ``out`` (default: this Hydra run's directory)."""
    out = Path(cfg.out) if cfg.get("out") else Path(cfg.paths.output_dir)
    names = list(cfg.datasets) if cfg.datasets else (["ka3d"] if cfg.quick else ["ka3d", "botan"])
    rows = compare(
        list(cfg.models),
        names,
        out,
        cfg.dataset_settings,
        _budget_spec(cfg.epochs),
        _budget_spec(cfg.minutes),
        bool(cfg.quick),
        [str(o) for o in cfg.get("set") or []],
        int(cfg.threads),
    )
    log.info("%s", (out / "comparison.md").read_text())
    return rows
