"""Helpers shared by every test: project paths, the real data in ../shared/data, Hydra config
composition the way train.py does it, and running the entry points as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
EMBEDDED_KA3D = ROOT / "data" / "ka3d"
SHARED_DATA = ROOT.parent / "shared" / "data"
BOTAN = SHARED_DATA / "botan_T0.44"
BAPST = SHARED_DATA / "bapst_testdata"


def compose_config(
    overrides: list[str] | None = None, config_name: str = "train", output_dir: Path | None = None
) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with overrides, with a usable ``paths.output_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name, overrides=overrides or [], return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
    if output_dir is not None and "paths" in cfg:
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir)
    return cfg


def run_script(args: list[str], cwd: Path = ROOT, timeout: int = 300, env: dict | None = None):
    """Run ``python <args>`` from the project root; fail the test with its output on error."""
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"python {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc
