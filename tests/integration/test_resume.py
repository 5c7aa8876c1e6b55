"""Resume ([reliability] item 1): a real ``train.py`` run of the default glass job, SIGKILLed
mid-epoch and resumed with ``ckpt_path=<run dir>/checkpoints/last.ckpt``, ends at the requested
epoch with exactly the weights of an uninterrupted run (same seed, CPU); ``test_ckpt_path=best``
works after training. Hydra-composed configs throughout: omegaconf containers in the saved
hyperparameters made every checkpoint unreadable for ``torch.load(weights_only=True)``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers import ROOT
from omegaconf import OmegaConf

from interplay.core import ConfigError
from interplay.runs import check_checkpointable

# The default job (SE(3)-GNN on the embedded KA data), cut to seconds per epoch: 3
# configurations (2 train, 1 validation), one thread, the default (fast) kernel.
TINY_GLASS = [
    "data.max_configs=3",
    "num_threads=1",
    "seed=12345",
    "trainer.max_epochs=3",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "model.figures=false",
    "model.net.conv_impl=fast",
]
EPOCHS = 3


def load(path: Path) -> dict:
    """A checkpoint as Lightning reads it for ckpt_path / test_ckpt_path (weights_only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def start(run_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "train.py", *TINY_GLASS, f"hydra.run.dir={run_dir}", *extra],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(proc: subprocess.Popen) -> str:
    out = proc.communicate(timeout=600)[0].decode()
    assert proc.returncode == 0, out[-5000:]
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """An uninterrupted run (tested on its best checkpoint) and, at the same time, a run that
    is SIGKILLed during its second epoch."""
    base = tmp_path_factory.mktemp("resume")
    reference, killed = base / "reference", base / "killed"
    ref_proc = start(reference, "test_ckpt_path=best")
    proc = start(killed)
    last = killed / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 600
    while not last.exists():  # Lightning moves a finished checkpoint into place
        assert proc.poll() is None, proc.communicate()[0].decode()[-5000:]
        assert time.monotonic() < deadline, "no checkpoint after the first epoch"
        time.sleep(0.05)
    time.sleep(0.5)  # into the second epoch (an epoch takes seconds)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return {"reference": reference, "reference_out": finish(ref_proc), "killed": killed}


def test_killed_run_resumes_to_the_uninterrupted_weights(runs):
    killed = runs["killed"]
    last = killed / "checkpoints" / "last.ckpt"
    assert load(last)["epoch"] == 0  # killed after the first epoch's checkpoint, mid-second
    assert not (killed / "results.json").exists()

    out = finish(start(killed, f"ckpt_path={last}"))
    assert f"Resuming the run in {killed}" in out
    assert json.loads((killed / "results.json").read_text())["epochs"] == EPOCHS
    assert not list(killed.glob("checkpoints/last-v*.ckpt"))  # the resume path holds the newest
    # the interrupted start's CSV metrics are kept beside the resumed start's (one version each)
    assert len(list(killed.glob("csv/*/hparams.yaml"))) == 2

    resumed, reference = load(last), load(runs["reference"] / "checkpoints" / "last.ckpt")
    assert resumed["epoch"] == reference["epoch"] == EPOCHS - 1
    assert resumed["global_step"] == reference["global_step"]
    assert resumed["state_dict"].keys() == reference["state_dict"].keys()
    for key, value in reference["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], value), key
    for ours, theirs in zip(
        resumed["optimizer_states"][0]["state"].values(),
        reference["optimizer_states"][0]["state"].values(),
        strict=True,
    ):
        for key, value in theirs.items():
            assert torch.equal(ours[key], value), key


def test_best_checkpoint_is_tested_after_training(runs):
    reference = runs["reference"]
    results = json.loads((reference / "results.json").read_text())
    assert results["epochs"] == EPOCHS
    assert any(key.startswith("test/") for key in results)
    (best,) = reference.glob("checkpoints/epoch_*.ckpt")
    assert load(best)["epoch"] == EPOCHS - 1  # monitor=null: the newest is the best
    assert f"Loaded model weights from the checkpoint at {best}" in runs["reference_out"]


def test_hyperparameters_a_checkpoint_cannot_hold_are_refused_before_training():
    with pytest.raises(ConfigError, match=r"betas \(ListConfig\)"):
        check_checkpointable("model", {"lr": 1e-3, "betas": OmegaConf.create([0.9, 0.99])})
    check_checkpointable("model", {"betas": [0.9, 0.99], "milestones": (1, 2), "name": None})
