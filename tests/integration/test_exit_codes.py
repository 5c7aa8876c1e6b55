"""Exit codes and messages of the entry points, run as real processes (issue 13, item 8).

A failed run must exit non-zero with a message that names the fix; a documented command must
compose. Each test runs ``train.py`` / ``solve.py`` the way a user does (``python <script>``
from the project root) and asserts the exit code and the message.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT, compose_config


def run_entry(args: list[str], env: dict | None = None, timeout: int = 300):
    """``python <args>`` from the project root; returns the process (any exit code)."""
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def output(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def test_solve_py_fails_when_requested_points_do_not_converge(tmp_path):
    """Before: exit 0 with NaN rows in results.csv. Now: exit 1 unless allow_unconverged."""
    args = ["solve.py", "alpha=1.1", "rho_train=[0.3,0.5]", "solver.maxfev=2", "optima=false"]
    proc = run_entry([*args, f"hydra.run.dir={tmp_path / 'strict'}"])
    assert proc.returncode != 0, output(proc)
    assert "2 of 2 requested saddle points did not converge" in output(proc)
    assert "allow_unconverged=true" in output(proc)
    assert not pd.read_csv(tmp_path / "strict" / "results.csv")["converged"].any()  # kept

    proc = run_entry([*args, "allow_unconverged=true", f"hydra.run.dir={tmp_path / 'lax'}"])
    assert proc.returncode == 0, output(proc)
    assert "NOT converged (2 points" in output(proc)


def test_missing_temperature_names_the_temperatures_that_exist(tmp_path):
    """Before: "no train/ or test/ directory under data/ka3d"."""
    proc = run_entry(["train.py", "data.T=0.85", f"hydra.run.dir={tmp_path}"])
    assert proc.returncode != 0
    assert "for T=0.85; it holds T = 0.8, 0.9, 1.0 (set data.T)" in output(proc), output(proc)


def test_botan_directory_without_data_shiba_names_data_shiba(tmp_path):
    """Before: "no glassbench files for T=0.8"; the BOTAN layout is told by its file names."""
    root = tmp_path / "botan"
    (root / "train").mkdir(parents=True)
    for i in range(2):  # file names suffice: the layout is detected before any array is read
        (root / "train" / f"isoconfig_N4096T0.44_{i}_tc07.npz").touch()
    proc = run_entry(["train.py", f"data.root={root}", f"hydra.run.dir={tmp_path / 'run'}"])
    assert proc.returncode != 0
    assert "it holds botan files at T = 0.44 (use data=shiba data.T=0.44)" in output(proc), output(
        proc
    )


@pytest.mark.parametrize("trainer, cpu", [("gpu", "cpu"), ("ddp", "ddp_cpu")])
def test_gpu_trainer_without_cuda_fails_fast_naming_the_cpu_trainer(trainer, cpu, tmp_path):
    """Before: Lightning's "No supported gpu backend found!" after the data was read.

    ``data.root`` points nowhere: the trainer check must come first, before any data access.
    """
    args = ["train.py", f"trainer={trainer}", f"data.root={tmp_path / 'nowhere'}"]
    proc = run_entry([*args, f"hydra.run.dir={tmp_path / 'run'}"], env={"CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode != 0
    assert "no CUDA GPU" in output(proc) and f"run with trainer={cpu}." in output(proc), output(
        proc
    )
    assert "data not found" not in output(proc)


def documented_train_commands(doc: Path) -> list[list[str]]:
    """The overrides of every ``python train.py ...`` line of a document (comments dropped)."""
    lines = re.findall(r"^python train\.py (.*)$", doc.read_text(), flags=re.MULTILINE)
    return [shlex.split(line.split("#")[0]) for line in lines]


def test_the_documented_data_commands_compose(tmp_path):
    """Before: docs/ka_data.md said ``+temperature=T0.44 +timescale=tau_alpha``, which Hydra
    refuses (the groups are in train.yaml's defaults list already)."""
    commands = documented_train_commands(ROOT / "docs" / "ka_data.md")
    assert len(commands) >= 3
    for overrides in commands:
        cfg = compose_config(overrides, output_dir=tmp_path)
        if "temperature=T0.44" in overrides:
            assert cfg.data.T == 0.44 and cfg.data.time_indices == "tau_alpha"
