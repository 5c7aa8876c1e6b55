"""Hydra-aware helpers of the entry points: where a run writes, where `conf/` is."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from interplay.core._errors import ConfigError


def resolve_output_dir(output_dir: str | Path | None = None) -> Path:
    """``output_dir`` if given, else the Hydra run directory (``.`` outside Hydra); created."""
    if output_dir is None:
        try:
            from hydra.core.hydra_config import HydraConfig

            output_dir = HydraConfig.get().runtime.output_dir
        except (ImportError, ValueError):
            output_dir = "."
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


def project_root() -> Path:
    """The project checkout that holds ``conf/``: ``$INTERPLAY_ROOT`` if set, else the current
    directory if it has ``conf/``, else the checkout this package was installed from
    (``pip install -e .``). Raises :class:`ConfigError` naming the fix when none has one."""
    env = os.environ.get("INTERPLAY_ROOT")
    candidates = [Path(env)] if env else [Path.cwd(), Path(__file__).resolve().parents[3]]
    for root in candidates:
        if (root / "conf").is_dir():
            return root.resolve()
    raise ConfigError(
        f"no conf/ directory found in {', '.join(map(str, candidates))}: run from the interplay "
        "checkout or set INTERPLAY_ROOT=/path/to/interplay."
    )


def conf_dir() -> Path:
    """The ``conf/`` directory of :func:`project_root` (what every entry point composes)."""
    return project_root() / "conf"


# --------------------------------------------------------------------------- run directories
# A run never writes into a directory that holds another run's results, unless it resumes that
# run from a checkpoint inside it ([reliability] item 2). Hydra writes .hydra/ and opens the log
# before the task function starts, so the check runs earlier, in the Hydra callback RunDirGuard
# (conf/hydra/default.yaml); the task repeats it (check_run_dir with TASK_RESULTS) for runs
# composed without that callback and for the job directories of a multirun.

RUN_RESULTS = (".hydra", "results.json", "checkpoints", "multirun.yaml")
"""What marks a directory as another run's: Hydra's record, results, checkpoints, a sweep."""

TASK_RESULTS = ("results.json", "checkpoints")
"""The part of RUN_RESULTS a task can check (its own Hydra has written .hydra/ already)."""


def resumes_from(run_dir: str | Path, ckpt_path: str | Path | None) -> bool:
    """Whether ``ckpt_path`` is a checkpoint inside ``run_dir`` (the run continues there)."""
    if not ckpt_path or str(ckpt_path) in ("best", "last"):
        return False
    return Path(ckpt_path).resolve().is_relative_to(Path(run_dir).resolve())


def check_run_dir(
    run_dir: str | Path,
    ckpt_path: str | Path | None = None,
    results: Iterable[str] = RUN_RESULTS,
) -> bool:
    """Refuse ``run_dir`` if it holds another run's ``results``; True when this run resumes it.

    Raises :class:`ConfigError` naming the directory, what it holds and the two fixes (another
    directory, or ``ckpt_path`` inside it to resume) -- instead of silently replacing
    ``results.json`` and ``.hydra/`` and leaving ``checkpoints/last.ckpt`` to the old run."""
    run_dir = Path(run_dir).resolve()
    found = [name for name in results if (run_dir / name).exists()]
    if not found:
        return False
    if resumes_from(run_dir, ckpt_path):
        return True
    raise ConfigError(
        f"run directory {run_dir} already holds another run's results ({', '.join(found)}); "
        "a run never writes into it. Choose another directory (hydra.run.dir=... / "
        "hydra.sweep.dir=..., or the default, unique per start), or resume that run with "
        f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}."
    )


class RunDirGuard(Callback):
    """Hydra callback: :func:`check_run_dir` before Hydra writes anything into the run (or sweep)
    directory. ``resume_key`` names the config key of the checkpoint a run resumes from."""

    def __init__(self, resume_key: str = "ckpt_path") -> None:
        self.resume_key = resume_key

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_run_dir(config.hydra.run.dir, config.get(self.resume_key))  # the task logs a resume

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_run_dir(config.hydra.sweep.dir)
