"""Hydra-aware helpers of the entry points: where a run writes, where `conf/` is, and the one
way a console script becomes a Hydra main (:func:`hydra_main`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
    from interplay.core._errors import ConfigError  # noqa: PLC0415

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
