"""Run directories ([reliability] item 2): default directories are unique per start (sub-second
time, SLURM job id), and a run never writes into a directory that holds another run's results
unless it resumes that run -- real ``train.py`` processes on the tiny perceptron."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, compose_config, run_script

from interplay.core import ConfigError
from interplay.core.config import check_run_dir, claim_run_dir


def snapshot(run_dir: Path) -> dict[str, bytes]:
    """Every file of a run directory with its bytes."""
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def test_reused_run_dir_is_refused_and_left_untouched(tmp_path, tiny_perceptron_overrides):
    run_dir = tmp_path / "run"
    run_script(["train.py", *tiny_perceptron_overrides, f"hydra.run.dir={run_dir}"])
    before = snapshot(run_dir)
    assert {"results.json", ".hydra/config.yaml", "train.log"} <= set(before)

    proc = subprocess.run(
        [
            sys.executable,
            "train.py",
            *tiny_perceptron_overrides,
            "seed=7",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode != 0
    message = proc.stdout + proc.stderr
    assert "ConfigError" in message
    assert str(run_dir.resolve()) in message
    assert "hydra.run.dir" in message and "ckpt_path=" in message
    assert (
        snapshot(run_dir) == before
    )  # results.json, .hydra/ and train.log as the first run left them


def test_two_runs_started_together_get_their_own_directories(tmp_path, tiny_perceptron_overrides):
    """The complaint of lightning-hydra-template #511: two runs started in the same second
    shared one default directory (``%H-%M-%S``)."""
    args = [sys.executable, "train.py", *tiny_perceptron_overrides, f"paths.log_dir={tmp_path}"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("SLURM_JOB_ID", None)
    procs = [
        subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300)[0].decode() for proc in procs]
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-3000:]
    run_dirs = sorted(p.parent for p in tmp_path.glob("outputs/train/*/*/results.json"))
    assert len(run_dirs) == 2, run_dirs
    assert all(d.name.endswith("_local") for d in run_dirs)  # no SLURM job id outside SLURM


def test_default_run_dir_has_microseconds_and_slurm_job_id(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    first = compose_config(["paths.log_dir=/logs"]).hydra.run.dir
    second = compose_config(["paths.log_dir=/logs"]).hydra.run.dir
    assert first != second  # composed within microseconds of each other
    name = Path(first).name
    hms_us, job = name.rsplit("_", 1)
    assert job == "4242"
    assert len(hms_us.split("-")) == 4  # %H-%M-%S-%f
    sweep = compose_config(["paths.log_dir=/logs"]).hydra.sweep.dir
    assert Path(sweep).name.endswith("_4242")


# ------------------------------------------------------------ the rule itself (no processes)
@pytest.mark.parametrize("content", [".hydra", "results.json", "checkpoints", "multirun.yaml"])
def test_check_run_dir_refuses_any_results(tmp_path, content):
    (tmp_path / content).mkdir()
    with pytest.raises(ConfigError, match="already holds another run's results"):
        check_run_dir(tmp_path)
    elsewhere = tmp_path.parent / "other" / "checkpoints" / "last.ckpt"
    with pytest.raises(ConfigError, match="ckpt_path="):
        check_run_dir(tmp_path, elsewhere)  # a checkpoint of another directory is no resume


def test_check_run_dir_allows_resume_from_inside(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    assert check_run_dir(tmp_path, tmp_path / "checkpoints" / "last.ckpt") is True
    assert check_run_dir(tmp_path / "fresh") is False


@pytest.mark.parametrize("name", ["last", "best"])
def test_lightning_named_checkpoints_resume_the_run_that_holds_them(tmp_path, name):
    (tmp_path / "checkpoints").mkdir()
    assert check_run_dir(tmp_path, name) is True  # ckpt_path=last: this run's checkpoints/
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "results.json").write_text("{}")
    with pytest.raises(ConfigError, match="already holds"):
        check_run_dir(tmp_path / "other", name)  # results but no checkpoints/: nothing to resume


def test_claim_run_dir_is_exclusive(tmp_path):
    assert claim_run_dir(tmp_path / "run") is False
    with pytest.raises(ConfigError, match="interplay_run"):
        claim_run_dir(tmp_path / "run")  # a second run that picked the same directory
