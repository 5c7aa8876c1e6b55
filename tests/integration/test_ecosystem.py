"""The tools physicists run this with: W&B offline, Hydra launchers, DDP on CPU, collection."""

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import run_script

from interplay.runs import collect

TINY = [
    "data=teacher_student",
    "model=perceptron",
    "data.N=30",
    "data.n_resamplings=2",
    "data.n_test=200",
    "data.test_chunk=100",
    "trainer.max_epochs=2",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "callbacks=none",
]


def _results(sweep: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(sweep.rglob("results.json"))]


def test_wandb_logger_writes_offline_run_with_metrics(tmp_path):
    run_script(
        ["train.py", *TINY, "logger=wandb", f"hydra.run.dir={tmp_path}"],
        env={"WANDB_SILENT": "true", "WANDB_DIR": str(tmp_path)},
    )
    records = list(tmp_path.rglob("offline-run-*/run-*.wandb"))
    assert records, "no offline W&B run"
    logged = records[0].read_bytes()  # the run's protobuf record stream (what `wandb sync` uploads)
    for key in (b"test/balanced_accuracy", b"train/loss", b"T_eff"):
        assert key in logged, key


@pytest.mark.parametrize("launcher", ["local", "parallel"])
def test_two_job_multirun_through_launcher(launcher, tmp_path):
    """submitit's local executor (SLURM's interface on this machine) and joblib."""
    run_script(
        [
            "train.py",
            "-m",
            *TINY,
            f"hydra/launcher={launcher}",
            "data.rho_train=0.3,0.6",
            f"hydra.sweep.dir={tmp_path}",
        ],
        timeout=400,
    )
    results = _results(tmp_path)
    assert len(results) == 2
    table = collect(tmp_path)
    assert list(table["data.rho_train"]) == [0.3, 0.6]
    assert (table["n"] == 2).all()  # two resamplings per job -> mean and s.e. over 2
    assert (tmp_path / "summary" / "balanced_accuracy.png").stat().st_size > 1000


def test_ddp_cpu_trains_on_two_processes(tmp_path):
    proc = run_script(
        ["train.py", *TINY, "trainer=ddp_cpu", "trainer.max_epochs=2", f"hydra.run.dir={tmp_path}"],
        timeout=400,
    )
    assert (
        "world_size: 2" in proc.stdout + proc.stderr or "MEMBER: 2/2" in proc.stdout + proc.stderr
    )
    assert "test/balanced_accuracy" in json.loads((tmp_path / "results.json").read_text())


def test_collect_mean_and_standard_error(tmp_path):
    """The collected table equals a hand computation over the records of each job."""
    for job, (rho, values) in enumerate([(0.2, [0.6, 0.7, 0.8]), (0.5, [0.5, 0.9, 0.7])]):
        job_dir = tmp_path / str(job)
        (job_dir / ".hydra").mkdir(parents=True)
        (job_dir / ".hydra" / "overrides.yaml").write_text(f"- data.rho_train={rho}\n- data.N=10\n")
        (job_dir / "results.json").write_text("{}")
        pd.DataFrame({"resampling": [0, 1, 2], "test/balanced_accuracy": values}).to_csv(
            job_dir / "records.csv", index=False
        )
    table = collect(tmp_path).set_index("data.rho_train")
    assert table.loc[0.5, "balanced_accuracy_mean"] == pytest.approx(0.7)
    assert table.loc[0.5, "balanced_accuracy_sem"] == pytest.approx(0.2 / 3**0.5)
    assert "data.N_mean" not in table.columns  # constant overrides are not metrics
