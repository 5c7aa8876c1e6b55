"""What counts as "the same job": only this temperature's reference τα, and the time grid it
fixes, are compared against a finished configuration (no simulation runs here)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from helpers import EMBEDDED_KA3D, compose_config

from interplay.glass.simulation import Job, settings_from_cfg
from interplay.glass.simulation._settings import job_identity, settings_differences

# the overrides that made the embedded T = 0.8 data (docs/ka_data.md)
T08 = ["T=0.8", "job=0", "configs_per_job=10", "t_max_tau=2.5", "spacing_tau=3"]


def _settings(out_dir: Path):
    s = settings_from_cfg(compose_config(T08, config_name="simulate"))
    return replace(s, out_dir=str(out_dir.resolve()))


def test_another_temperatures_reference_is_no_change(tmp_path):
    s = _settings(tmp_path)
    other = replace(s, tau_alpha_ref={**s.tau_alpha_ref, "0.7": 99.0})
    assert settings_differences(job_identity(s), job_identity(other)) == []
    this = replace(s, tau_alpha_ref={**s.tau_alpha_ref, "0.8": 3.5})
    assert settings_differences(job_identity(s), job_identity(this)) == [
        "tau_alpha_ref: 2.8 -> 3.5"
    ]


def test_a_finished_file_with_another_time_grid_differs(tmp_path):
    source = EMBEDDED_KA3D / "T0.8" / "train" / "N1000T0.8_0.json"
    stem = tmp_path / "T0.8" / "train" / "N1000T0.8_0"
    stem.parent.mkdir(parents=True)
    Path(f"{stem}.json").write_text(source.read_text())
    s = _settings(tmp_path)
    assert Job(s)._file_differences(stem) == []  # the settings that made it
    moved = replace(s, tau_alpha_ref={**s.tau_alpha_ref, "0.8": 3.5})  # another time grid
    changed = Job(moved)._file_differences(stem)
    assert len(changed) == 1 and changed[0].startswith("times: ")
    assert json.loads(source.read_text())["times"][0] == 0.05
