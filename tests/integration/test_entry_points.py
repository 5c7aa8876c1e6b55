"""Every console script of pyproject.toml runs as a real process (``python -m interplay.cli``,
i.e. this checkout's code whether or not the scripts are installed)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from helpers import ROOT, run_script

import interplay.cli as cli

SCRIPTS = ["collect", "compare", "data", "repair", "simulate", "transfer"]


def _cli(*args: str, cwd=ROOT, timeout: int = 300):
    return run_script(["-m", "interplay.cli", *args], cwd=cwd, timeout=timeout)


def test_pyproject_scripts_are_the_cli_functions():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {f"interplay-{name}": f"interplay.cli:{name}" for name in SCRIPTS}
    assert sorted(cli.COMMANDS) == SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name):
    proc = _cli(f"interplay-{name}", "--help")
    argparse = ("collect", "data", "repair")
    expected = f"usage: interplay-{name}" if name in argparse else "powered by Hydra"
    assert expected in proc.stdout


@pytest.mark.parametrize(
    ("name", "overrides", "expected"),
    [
        ("simulate", ["T=0.9", "job=2"], {"T": 0.9, "job": 2, "n_runs": 32}),
        ("transfer", ["temperatures=[0.9,1.0]"], {"temperatures": [0.9, 1.0], "ridge": 1e-6}),
        (
            "compare",
            ["quick=true", "models=[descriptor_ridge]", "epochs={ka3d:3}", 'set=["trainer=gpu"]'],
            {"quick": True, "models": ["descriptor_ridge"], "epochs": {"ka3d": 3},
             "set": ["trainer=gpu"], "threads": 1},
        ),
    ],
)  # fmt: skip
def test_hydra_scripts_compose_their_config(name, overrides, expected, tmp_path):
    """``--cfg job`` composes conf/<name>.yaml found by conf_dir(), from any directory."""
    proc = run_script(
        ["-m", "interplay.cli", name, *overrides, "--cfg", "job"],
        cwd=tmp_path,  # no conf/ here: found through INTERPLAY_ROOT
        env={"INTERPLAY_ROOT": str(ROOT)},
        timeout=120,
    )
    cfg = yaml.safe_load(proc.stdout)
    for key, value in expected.items():
        assert cfg[key] == value, key


def test_collect_on_a_tiny_multirun(tmp_path):
    for job, (rho, acc) in enumerate([(0.2, 0.6), (0.5, 0.8)]):
        job_dir = tmp_path / str(job)
        (job_dir / ".hydra").mkdir(parents=True)
        (job_dir / ".hydra" / "overrides.yaml").write_text(f"- data.rho_train={rho}\n- seed=1\n")
        (job_dir / "results.json").write_text(json.dumps({"test/balanced_accuracy": acc}))
    proc = _cli("interplay-collect", str(tmp_path))
    assert f"wrote {tmp_path / 'summary'}" in proc.stdout
    table = pd.read_csv(tmp_path / "summary" / "summary.csv")
    assert list(table["data.rho_train"]) == [0.2, 0.5]
    assert list(table["balanced_accuracy_mean"]) == [0.6, 0.8]
    assert (tmp_path / "summary" / "balanced_accuracy.png").exists()


def test_repair_on_a_directory_without_damaged_files(tmp_path):
    """No configuration file: nothing to repair, exit 0 (the physics is in test_simulate)."""
    proc = _cli("repair", str(tmp_path), "--workers", "1")
    assert proc.stdout == ""


def test_unknown_script_names_the_choices():
    with pytest.raises(SystemExit, match="collect,compare,data,repair,simulate,transfer"):
        cli.main(["bogus"])
