"""Hydra-aware helpers of the entry points: where a run writes, where `conf/` is, and the one
way a console script becomes a Hydra main (:func:`hydra_main`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
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


def plain_value(value: Any) -> Any:
    """``value`` with OmegaConf containers turned into dicts / lists (interpolations resolved),
    so that library code takes a Hydra config node or plain Python values alike."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


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


def hydra_main(config_name: str, body: Callable[[Any], Any]) -> Any:
    """Run ``body(cfg)`` as a Hydra main on ``conf/<config_name>.yaml`` of :func:`conf_dir`,
    with the command line of ``sys.argv`` (overrides, ``-m``, ``--help``, ``--cfg job``).

    Why one helper: every console script finds ``conf/`` the same way and gets the same Hydra
    behaviour (version base, run directories) whatever directory it is started from.
    """
    import hydra

    def task(cfg: Any) -> Any:
        return body(cfg)

    # Hydra names the job (``hydra.job.name``: log file, ``--help``) after the last component
    # of the task function's module: make it the config's name, not the body's private module.
    task.__module__ = f"{__name__}.{config_name}"
    task.__qualname__ = task.__name__ = config_name
    return hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name=config_name)(
        task
    )()


# --------------------------------------------------------------------------- run directories
# A run never writes into a directory that holds another run's results, unless it resumes that
# run from a checkpoint inside it ([reliability] item 2). Hydra writes .hydra/ and opens the log
# before the task function starts, so the check runs earlier, in the Hydra callback RunDirGuard
# (conf/hydra/default.yaml); the task repeats it (check_run_dir with TASK_RESULTS) for runs
# composed without that callback and for the job directories of a multirun.

RUN_MARKER = ".interplay_run"
"""Created exclusively (``O_EXCL``) by :func:`claim_run_dir`: of two runs that pick the same
directory at the same instant, the second is refused."""

RUN_RESULTS = (RUN_MARKER, ".hydra", "results.json", "checkpoints", "multirun.yaml")
"""What marks a directory as another run's: the marker, Hydra's record, results, checkpoints,
a sweep."""

TASK_RESULTS = ("results.json", "checkpoints")
"""The part of RUN_RESULTS a task can check (its own Hydra has written .hydra/ already)."""


def resumes_from(run_dir: str | Path, ckpt_path: str | Path | None) -> bool:
    """Whether ``ckpt_path`` is a checkpoint inside ``run_dir`` (the run continues there).

    Lightning's ``ckpt_path=last`` / ``best`` name a checkpoint of this run's own
    ``checkpoints/``: a resume exactly when that directory exists."""
    if not ckpt_path:
        return False
    if str(ckpt_path) in ("best", "last"):
        return (Path(run_dir) / "checkpoints").is_dir()
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


def launched_rank() -> bool:
    """Whether this process is a rank > 0 that a DDP launcher started in the run directory of
    rank 0 (Lightning's subprocess launcher passes rank 0's ``hydra.run.dir`` and sets
    ``LOCAL_RANK``): it shares that run, it does not reuse another's."""
    return os.environ.get("LOCAL_RANK", "0") != "0"


def claim_run_dir(run_dir: str | Path, ckpt_path: str | Path | None = None) -> bool:
    """:func:`check_run_dir`, then mark ``run_dir`` as this run's (atomically, so that a run
    starting in the same directory at the same moment is refused too). True when resuming."""
    if check_run_dir(run_dir, ckpt_path):
        return True
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with open(run_dir / RUN_MARKER, "x") as marker:
            marker.write(f"pid {os.getpid()}\n")
    except FileExistsError:
        check_run_dir(run_dir)  # raises the ConfigError naming the directory
    return False


class RunDirGuard(Callback):
    """Hydra callback: :func:`claim_run_dir` before Hydra writes anything into the run (or sweep)
    directory. ``resume_key`` names the config key of the checkpoint a run resumes from.

    Hydra turns an exception raised by a callback into a warning and runs the job anyway, so a
    refusal leaves as :class:`SystemExit` carrying the :class:`ConfigError` message (exit 1)."""

    def __init__(self, resume_key: str = "ckpt_path") -> None:
        self.resume_key = resume_key

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config.hydra.run.dir, config.get(self.resume_key))  # the task logs a resume

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config.hydra.sweep.dir, None)

    @staticmethod
    def _check(run_dir: str, ckpt_path: str | None) -> None:
        if launched_rank():
            return
        try:
            claim_run_dir(run_dir, ckpt_path)
        except ConfigError as exc:
            raise SystemExit(f"{type(exc).__name__}: {exc}") from exc
