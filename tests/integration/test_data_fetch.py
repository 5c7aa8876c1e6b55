"""The headline command ``python train.py model=se3gnn data.T=0.44`` (issue 15): without the
data it stops at once, as a real process, naming dataset, size, licence, the fetch command and
where a local copy can go; with ``data.download=true`` it fetches GlassBench at T = 0.44 from a
loopback stand-in for Zenodo (a synthetic archive in the provider's layout) and trains on it.
No test here contacts any host but 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
from helpers import ROOT, LoopbackServer, compose_config, glassbench_archive

from interplay.core import DataError
from interplay.runs import train_and_test

HEADLINE = ["model=se3gnn", "data.T=0.44"]
TINY = [  # the headline model, shrunk to seconds on CPU
    "model.net.n_layers=1",
    "model.net.channels=2",
    "model.net.l_max=1",
    "trainer.max_epochs=1",
    "num_threads=1",
    "model.figures=false",
    "model.bootstrap.n=0",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
]


def test_headline_command_without_data_stops_at_once_naming_the_fix(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "INTERPLAY_DATA_MIRROR"}
    env.update(INTERPLAY_DATA=str(tmp_path / "cache"), PYTHONWARNINGS="ignore")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "train.py", *HEADLINE, f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    wall = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for part in (
        "glassbench data at T=0.44 is not in the cache",
        "~580-590 MB",
        "licence CC-BY-4.0",
        "`interplay-data fetch glassbench 0.44`",
        "data.download=true",
        f"put a local copy's train/ and test/ in {tmp_path / 'cache' / 'glassbench' / 'T0.44'}",
        "data.root=<dir>",
    ):
        assert part in out, part
    assert not (tmp_path / "cache").exists()  # nothing downloaded, nothing created
    assert "Epoch" not in out and wall < 120  # stops before any training (imports dominate)


def test_headline_command_fetches_glassbench_from_loopback_and_trains(tmp_path, monkeypatch):
    archive = glassbench_archive(n_train=4, n_test=2, n=200)
    record = "/api/records/10118191"
    key = "KA3D_T0.44.tar.gz"

    with LoopbackServer() as server:
        md5 = "md5:" + hashlib.md5(archive).hexdigest()
        server.routes[record] = {"files": [{"key": key, "size": len(archive), "checksum": md5}]}
        server.routes[f"{record}/files/{key}/content"] = archive
        monkeypatch.setenv("INTERPLAY_DATA_MIRROR", server.url)
        monkeypatch.setenv("INTERPLAY_DATA", str(tmp_path / "cache"))
        cfg = compose_config([*HEADLINE, *TINY], output_dir=tmp_path / "off")
        with pytest.raises(Exception, match="interplay-data fetch glassbench 0.44") as info:
            train_and_test(cfg)  # download is opt-in
        assert isinstance(info.value.__cause__ or info.value, DataError)
        cfg = compose_config([*HEADLINE, *TINY, "data.download=true"], output_dir=tmp_path / "run")
        train_and_test(cfg)
    cached = tmp_path / "cache" / "glassbench" / "T0.44"
    assert sorted(p.name for p in (cached / "test").iterdir()) == [
        "N200T0.44_5.npz",
        "N200T0.44_6.npz",
    ]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert -1.0 <= results["test/pearson_A"] <= 1.0  # trained and tested on the fetched data
    # the data is now cached: the same command without download=true reads it, no request made
    n_requests = len(server.requests)
    cfg = compose_config([*HEADLINE, *TINY, "trainer.max_epochs=0"], output_dir=tmp_path / "again")
    from hydra.utils import instantiate

    dm = instantiate(cfg.data)
    assert dm.data_dir == cached and dm.family == "glassbench"
    assert len(server.requests) == n_requests
