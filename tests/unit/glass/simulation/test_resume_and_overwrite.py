"""Reliability of the KA pipeline (issue 13, items 3 and 4).

* Nothing finished is lost: the default output lies outside the committed data, finished files
  are never replaced without ``overwrite=true``, and changed settings for an existing job are a
  ``ConfigError`` naming the keys.
* Resume is exact: a job interrupted at any checkpoint (a SIGKILLed ``interplay-simulate``
  process during equilibration; in-process interruptions at every kind of checkpoint) writes
  the same bytes as an uninterrupted one.

Tiny systems (N = 128-256, a few thousand MD steps) so that every test runs in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import CONF, ROOT, compose_config, run_script

pytest.importorskip("lammps")

from interplay.core import ConfigError
from interplay.glass.simulation import Job, SimulationSettings, settings_from_cfg
from interplay.glass.simulation._state import Checkpoint, CheckpointedJob

ENTRY = ["-m", "interplay.cli", "simulate"]  # `interplay-simulate` of this checkout
# equilibration of ~15 segments of 2 tau_alpha: long enough (~2 s) to be killed inside it
KILL_OVERRIDES = [
    "T=1.0", "n_particles=128", "n_runs=2", "n_times=3", "t_max=0.5", "tau_guess=0.5",
    "equil_tau=2.0", "equil_min_time=40", "segment_tau=2.0", "melt_time=1.0",
    "configs_per_job=1", "progress=false",
]  # fmt: skip


def _tiny(out: Path, **kw) -> SimulationSettings:
    base = dict(
        T=1.0, n_particles=128, n_runs=2, n_times=3, t_min=0.05, t_max=0.5, tau_guess=0.5,
        equil_tau=2.0, equil_min_time=6.0, segment_tau=2.0, spacing_tau=1.0, melt_time=1.0,
        configs_per_job=2, n_train=1, fire_ftol=1e-4, out_dir=str(out), progress=False,
    )  # fmt: skip
    base.update(kw)
    return SimulationSettings(**base)


def _outputs(out: Path) -> dict[str, Path]:
    return {p.relative_to(out).as_posix(): p for p in sorted(out.glob("T*/t*/*.npz"))}


def _assert_same_output(a: Path, b: Path) -> None:
    """Same files, bitwise-equal arrays, equal metadata except the wall time."""
    fa, fb = _outputs(a), _outputs(b)
    assert fa and list(fa) == list(fb)
    for name in fa:
        with np.load(fa[name]) as x, np.load(fb[name]) as y:
            assert x.files == y.files
            for key in x.files:
                np.testing.assert_array_equal(x[key], y[key], err_msg=f"{name}:{key}")
        ja, jb = (json.loads(f[name].with_suffix(".json").read_text()) for f in (fa, fb))
        ja.pop("wall_time_s"), jb.pop("wall_time_s")
        assert ja == jb, name


def _fingerprint(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(out.glob("T*/t*/*"))
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted tiny job, and what it checkpointed at every save."""
    out = tmp_path_factory.mktemp("ref") / "ka"
    saves = []
    original = Checkpoint.save

    def recording(self):
        saves.append({k: self.meta.get(k) for k in ("stage", "config", "spaced", "runs_done")})
        original(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Checkpoint, "save", recording)
        Job(_tiny(out)).run()
    return out, saves


@pytest.fixture
def done_job(reference, tmp_path) -> Path:
    """A private copy of the finished reference job (files and state)."""
    out = tmp_path / "ka"
    shutil.copytree(reference[0], out)
    return out


# ------------------------------------------------------------------------- item 4: exact resume
# every kind of checkpoint, and what resuming from it has to restore exactly
CHECKPOINT_KINDS = {
    "after the melt (no thermostat saved)": lambda m: m["stage"] == "equilibrate",
    "mid-equilibration (Nose-Hoover state saved)": lambda m: m["stage"] == "equilibrate",
    "equilibrated": lambda m: m["stage"] == "produce" and m["config"] == 0,
    "mid iso-configurational runs": lambda m: m["stage"] == "iso" and m["runs_done"] > 0,
    "configuration written": lambda m: m["stage"] == "produce" and m["config"] > 0,
    "spaced for the next configuration": lambda m: m["stage"] == "produce" and m["spaced"],
}


def _interruption_points(saves: list[dict]) -> list[int]:
    """The 1-based save after which to interrupt, one per kind (the n-th kind of a repeated
    predicate takes its n-th match)."""
    points = []
    for kind in CHECKPOINT_KINDS.values():
        matches = [k for k, meta in enumerate(saves, start=1) if kind(meta)]
        points.append(next(k for k in matches if k not in points))
    return points


def test_interrupted_at_every_kind_of_checkpoint_resumes_bitwise(reference, tmp_path):
    ref, saves = reference
    for k in _interruption_points(saves):
        out = tmp_path / f"k{k}"
        calls = {"n": 0}
        original = Checkpoint.save

        def dying(self, k=k, calls=calls, original=original):
            original(self)
            calls["n"] += 1
            if calls["n"] == k:
                raise KeyboardInterrupt(f"killed after save {k}")

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(Checkpoint, "save", dying)
            with pytest.raises(KeyboardInterrupt):
                Job(_tiny(out)).run()
        Job(_tiny(out)).run()
        _assert_same_output(ref, out)


def test_interrupted_between_writing_a_file_and_saving_the_state(reference, tmp_path):
    """The configuration written just before the kill is kept as it is, not rewritten."""
    ref, _ = reference
    out = tmp_path / "ka"
    original = CheckpointedJob._write_configuration

    def dying(self, *args, **kwargs):
        path = original(self, *args, **kwargs)
        raise KeyboardInterrupt(f"killed after writing {path}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CheckpointedJob, "_write_configuration", dying)
        with pytest.raises(KeyboardInterrupt):
            Job(_tiny(out)).run()
    before = _fingerprint(out)
    assert len(before) == 2  # the npz and json of configuration 0
    Job(_tiny(out)).run()
    after = _fingerprint(out)
    assert {k: after[k] for k in before} == before
    _assert_same_output(ref, out)


def test_sigkilled_simulate_process_resumes_to_the_uninterrupted_output(tmp_path):
    """Real ``interplay-simulate`` processes, default ``out_dir``: SIGKILL during the NVT
    equilibration (the Nosé-Hoover state matters there), resume, compare bitwise with an
    uninterrupted run of the same seed; the output lies under ``outputs/`` of the launch
    directory, nothing under ``data/``."""
    uninterrupted = tmp_path / "uninterrupted"
    cfg = compose_config([*KILL_OVERRIDES, f"out_dir={uninterrupted}"], config_name="simulate")
    Job(settings_from_cfg(cfg)).run()

    cwd = tmp_path / "launch"
    cwd.mkdir()
    out = cwd / "outputs" / "simulate" / "ka3d"
    state = Checkpoint(out / "T1.0" / ".state" / "job0.npz")
    args = [sys.executable, *ENTRY, *KILL_OVERRIDES, f"hydra.run.dir={tmp_path / 'h1'}"]
    env = {**os.environ, "INTERPLAY_ROOT": str(ROOT)}  # conf/ of this checkout, cwd elsewhere
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if state.path.exists() and state.load() and len(state.meta["taus"]) >= 2:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the job ended before it could be killed in equilibration"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert state.load() and state.meta["stage"] == "equilibrate", "not killed in equilibration"
    assert not _outputs(out)

    run_script([*ENTRY, *KILL_OVERRIDES, f"hydra.run.dir={tmp_path / 'h2'}"], cwd=cwd, env=env)
    _assert_same_output(uninterrupted, out)
    assert not (cwd / "data").exists()

    # the same job asked again with another setting: refused, naming the key and the fix
    proc = subprocess.run(
        [sys.executable, *ENTRY, *KILL_OVERRIDES, "n_runs=3", f"hydra.run.dir={tmp_path}/h3"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "n_runs: 2 -> 3" in proc.stderr and "overwrite=true" in proc.stderr, proc.stderr[-2000:]


# ------------------------------------------------------------------ item 3: nothing is replaced
def test_default_out_dir_is_outside_the_committed_data():
    cfg = compose_config([], config_name="simulate")
    for out_dir in (cfg.out_dir, SimulationSettings().out_dir):
        assert Path(out_dir).parts[0] == "outputs", out_dir  # git-ignored, not data/
    assert "outputs/" in (ROOT / ".gitignore").read_text().splitlines()
    assert "overwrite: false" in (CONF / "simulate.yaml").read_text()


def test_rerun_of_a_finished_job_with_other_settings_is_refused(done_job, caplog):
    before = _fingerprint(done_job)
    with pytest.raises(ConfigError, match=r"n_runs: 2 -> 3.*overwrite=true"):
        Job(_tiny(done_job, n_runs=3)).run()
    with pytest.raises(ConfigError, match=r"seed: 0 -> 1"):
        Job(_tiny(done_job, seed=1)).run()
    assert Job(_tiny(done_job)).run() == []  # same settings: done, nothing redone
    assert _fingerprint(done_job) == before
    (done_job / "T1.0" / "test" / "N128T1.0_1.json").unlink()  # a lost file is reported
    with caplog.at_level("WARNING"):
        assert Job(_tiny(done_job)).run() == []
    assert "configurations [1] are missing" in caplog.text


def test_resuming_an_unfinished_job_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "ka"
    original = Checkpoint.save

    def dying(self):
        original(self)
        raise KeyboardInterrupt("killed after the melt")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Checkpoint, "save", dying)
        with pytest.raises(KeyboardInterrupt):
            Job(_tiny(out)).run()
    with pytest.raises(ConfigError, match=r"t_max: 0.5 -> 0.6"):
        Job(_tiny(out, t_max=0.6)).run()


def test_finished_files_survive_a_deleted_state(done_job):
    before = _fingerprint(done_job)
    shutil.rmtree(done_job / "T1.0" / ".state")
    assert Job(_tiny(done_job)).run() == []  # all files there, same settings: done
    with pytest.raises(ConfigError, match=r"dt: 0.005 -> 0.004"):  # read from the files
        Job(_tiny(done_job, dt=0.004)).run()
    assert _fingerprint(done_job) == before

    (done_job / "T1.0" / "test" / "N128T1.0_1.npz").unlink()  # half a job, no state
    with pytest.raises(ConfigError, match=r"never replaced.*overwrite=true"):
        Job(_tiny(done_job)).run()
    assert _fingerprint(done_job) == {k: v for k, v in before.items() if "N128T1.0_1.npz" not in k}


def test_overwrite_true_recomputes_and_replaces(done_job, reference):
    before = _fingerprint(done_job)
    written = Job(_tiny(done_job, overwrite=True)).run()
    assert len(written) == 2
    after = _fingerprint(done_job)
    assert all(after[k][0] != before[k][0] for k in before)  # rewritten ...
    _assert_same_output(reference[0], done_job)  # ... with the same (deterministic) content
    # a changed setting with overwrite=true: the old job is discarded, the new one written
    Job(_tiny(done_job, n_runs=3, overwrite=True)).run()
    meta = json.loads((done_job / "T1.0" / "train" / "N128T1.0_0.json").read_text())
    assert meta["n_runs"] == 3


def test_state_of_an_older_pipeline_is_not_resumed_inexactly(done_job):
    state = Checkpoint(done_job / "T1.0" / ".state" / "job0.npz")
    assert state.load()
    state.meta["stage"] = "equilibrate"
    del state.meta["settings"], state.arrays["restart"]
    state.save()
    with pytest.raises(ConfigError, match="older pipeline version"):
        Job(_tiny(done_job)).run()
