"""The dataset registry and ``interplay-data``: every download path against a loopback server
(127.0.0.1, started by the test) that stands in for Zenodo, Cloud Storage and GitHub -- provider
checksums read from the listing, an interrupted download resumed with HTTP Range, a checksum
mismatch, extraction into the provider's layout, the cache resolved by the DataModules."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile

import numpy as np
import pytest
from helpers import BAPST, BOTAN, LoopbackServer, glassbench_archive

import interplay.cli as cli
from interplay.core import DataError
from interplay.glass.data import (
    DATASETS,
    BapstDataModule,
    KA3DDataModule,
    ResumableDownloader,
    ShibaDataModule,
    data_home,
    dataset_dir,
    fetch_dataset,
    load_directory,
    mirrored,
    verify_dataset,
)

ZENODO_RECORD = "/api/records/10118191"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def server(monkeypatch):
    with LoopbackServer() as srv:
        monkeypatch.setenv("INTERPLAY_DATA_MIRROR", srv.url)
        yield srv


def test_registry_entries_and_cache_location(monkeypatch, tmp_path):
    for d in DATASETS.values():
        assert d.licence and d.citation and d.size and d.checksums and d.temperatures
    assert DATASETS["glassbench"].licence == "CC-BY-4.0"
    assert DATASETS["shiba"].licence == "Apache-2.0"
    # the BOTAN sha256 recorded in the registry are those of the provider's files we hold
    for rel, sha in DATASETS["shiba"].files.items():
        if sha is not None:
            assert hashlib.sha256((BOTAN / rel).read_bytes()).hexdigest() == sha, rel
    # cache: explicit > $INTERPLAY_DATA > platformdirs user cache
    monkeypatch.delenv("INTERPLAY_DATA", raising=False)
    assert data_home().parts[-2:] == ("interplay", "data")
    monkeypatch.setenv("INTERPLAY_DATA", str(tmp_path / "env"))
    assert data_home() == tmp_path / "env"
    assert data_home(tmp_path / "cfg") == tmp_path / "cfg"
    assert dataset_dir("glassbench", 0.5) == tmp_path / "env" / "glassbench" / "T0.5"
    with pytest.raises(DataError, match="publishes T = 0.44, 0.5, 0.56, 0.64"):
        fetch_dataset("glassbench", 0.8, tmp_path)
    monkeypatch.setenv("INTERPLAY_DATA_MIRROR", "http://127.0.0.1:9/")
    assert (
        mirrored("https://zenodo.org/api/records/1?x=2") == "http://127.0.0.1:9/api/records/1?x=2"
    )


def test_glassbench_interrupted_download_resumes_and_extracts(server, tmp_path, monkeypatch):
    monkeypatch.setattr(ResumableDownloader, "chunk_size", 1024)  # keep what arrived before a cut
    archive = glassbench_archive(n_train=2, n_test=1, n=100)
    key = "KA3D_T0.44.tar.gz"
    url = f"{ZENODO_RECORD}/files/{key}/content"
    listing = {"files": [
        {"key": "KA3D_T0.56.tar.gz", "size": 1, "checksum": "md5:0"},
        {"key": key, "size": len(archive), "checksum": f"md5:{md5(archive)}",
         "links": {"self": f"https://zenodo.org{url}"}},
    ]}  # fmt: skip
    server.routes.update({ZENODO_RECORD: listing, url: archive})
    server.cut_once.add(url)
    said = []
    with pytest.raises(DataError, match="resumes from") as info:
        fetch_dataset("glassbench", 0.44, tmp_path, progressbar=False, announce=said.append)
    assert "CC-BY-4.0" in said[0] and f"{len(archive) / 1e6:.1f} MB" in said[0]
    part = tmp_path / "glassbench" / ".downloads" / f"{key}.part"
    have = part.stat().st_size
    assert len(archive) // 2 - 1024 < have <= len(archive) // 2  # the half sent before the cut
    assert f"after {have} of {len(archive)} bytes" in str(info.value)
    assert not (tmp_path / "glassbench" / "T0.44").exists()  # nothing half-fetched is visible

    target = fetch_dataset("glassbench", 0.44, tmp_path, progressbar=False, announce=said.append)
    assert server.requests[-1] == (url, f"bytes={have}-")  # resumed, not restarted
    assert target == tmp_path / "glassbench" / "T0.44"
    names = sorted(str(p.relative_to(target)) for p in target.rglob("*.npz"))
    assert names == ["test/N100T0.44_3.npz", "train/N100T0.44_1.npz", "train/N100T0.44_2.npz"]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:  # byte-identical to the archive's
        want = tar.extractfile("KA3D/T0.44/train/N100T0.44_1.npz").read()
    assert (target / "train" / "N100T0.44_1.npz").read_bytes() == want
    assert not list((tmp_path / "glassbench" / ".downloads").iterdir())  # archive removed
    assert load_directory(target / "train")[0].propensity.shape == (10, 100)
    assert verify_dataset(tmp_path) == [("glassbench T0.44", True, "3 files")]
    (target / "test" / "N100T0.44_3.npz").write_bytes(b"tampered")
    ((what, ok, detail),) = verify_dataset(tmp_path)
    assert not ok and "test/N100T0.44_3.npz (sha256 differs)" in detail


def test_checksum_mismatch_keeps_nothing_then_shiba_sample_fetches(server, tmp_path, capsys):
    prefix = "/" + DATASETS["shiba"].prefix + "/T0.44/"
    files = {rel: (BOTAN / rel) for rel in DATASETS["shiba"].files}
    files["test/isoconfig_N4096T0.44_404_tc07.npz"] = (
        BOTAN / "test/isoconfig_N4096T0.44_401_tc07.npz"
    )
    files["test/isoconfig_N4096T0.44_405_tc07.npz"] = (
        BOTAN / "test/isoconfig_N4096T0.44_402_tc07.npz"
    )
    for rel, path in files.items():
        server.routes[prefix + rel] = path.read_bytes()
    bad = prefix + "train/isoconfig_N4096T0.44_3_tc07.npz"
    good = server.routes[bad]
    server.routes[bad] = good[:-1] + bytes([good[-1] ^ 1])  # one flipped bit
    with pytest.raises(DataError, match="checksum mismatch .*corrupt download was deleted"):
        fetch_dataset("shiba", 0.44, tmp_path, progressbar=False, announce=lambda s: None)
    staging = tmp_path / "shiba" / ".partial-T0.44" / "train"
    assert not (staging / "isoconfig_N4096T0.44_3_tc07.npz").exists()
    assert not list(staging.glob("*.part")) and not (tmp_path / "shiba" / "T0.44").exists()

    server.routes[bad] = good
    n_before = len(server.requests)
    fetch_dataset("shiba", 0.44, tmp_path, progressbar=False, announce=lambda s: None)
    assert len(server.requests) - n_before == 13  # the files already checked are not refetched
    # the DataModule without data.root reads the cache
    dm = ShibaDataModule(root=None, T=0.44, data_dir=str(tmp_path), cache=False)
    assert dm.data_dir == tmp_path / "shiba" / "T0.44"
    assert [len(dm.units[s]) for s in ("train", "test")] == [10, 5]
    cli.data(["--data-dir", str(tmp_path), "list"])
    out = capsys.readouterr().out
    assert "  T          0.44*\n" in out and "Apache-2.0" in out and "CC-BY-4.0" in out


@pytest.mark.skipif(not BAPST.is_dir(), reason="shared Bapst sample missing")
def test_bapst_bucket_listing_md5_and_cache_root(server, tmp_path):
    data = (BAPST / "test_large.pickle").read_bytes()
    name = "data/T0.44/train/aggregated_data_0.pickle"
    digest = base64.b64encode(hashlib.md5(data).digest()).decode()
    listing = {"items": [
        {"name": name, "size": str(len(data)), "md5Hash": digest},
        {"name": "data/T0.56/train/aggregated_data_0.pickle", "size": "1", "md5Hash": digest},
        {"name": "checkpoints/T0.44/model.ckpt", "size": "1"},
    ]}  # fmt: skip
    bucket = "/" + DATASETS["bapst"].prefix
    server.routes.update({f"/storage/v1/b{bucket}/o": listing, f"{bucket}/{name}": data})
    with pytest.raises(DataError, match=r"bapst data at T=0.44 is not in the cache .*fetch bapst"):
        BapstDataModule(root=None, T=0.44, data_dir=str(tmp_path))
    dm = BapstDataModule(root=None, T=0.44, data_dir=str(tmp_path), download=True, cache=False)
    assert dm.units["train"] == [[tmp_path / "bapst" / "T0.44" / "train" / name.split("/")[-1]]]
    manifest = json.loads((tmp_path / "bapst" / "T0.44" / ".interplay_fetched.json").read_text())
    assert manifest["sources"]["train/aggregated_data_0.pickle"]["checksum"] == f"md5:{md5(data)}"


def test_unsafe_archive_is_refused(server, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("T0.44/train/link.npz")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    archive = buffer.getvalue()
    listing = {"files": [{"key": "T0.44.tar.gz", "size": len(archive), "checksum": None}]}
    server.routes[ZENODO_RECORD] = listing
    server.routes[f"{ZENODO_RECORD}/files/T0.44.tar.gz/content"] = archive
    with pytest.raises(DataError, match="not a plain file or directory"):
        fetch_dataset("glassbench", 0.44, tmp_path, progressbar=False, announce=lambda s: None)
    assert not list(tmp_path.rglob("link.npz"))


def test_ka3d_falls_back_to_glassbench_only_for_its_temperatures(tmp_path):
    from helpers import EMBEDDED_KA3D

    with pytest.raises(DataError, match=r"interplay-data fetch glassbench 0.44`") as info:
        KA3DDataModule(root=str(EMBEDDED_KA3D), T=0.44, fallback="glassbench", data_dir=tmp_path)
    for part in ("~580-590 MB", "CC-BY-4.0", f"{tmp_path}/glassbench/T0.44", "data.download=true"):
        assert part in str(info.value)
    with pytest.raises(DataError, match="it holds T = 0.8, 0.9, 1.0"):
        KA3DDataModule(root=str(EMBEDDED_KA3D), T=0.85, fallback="glassbench", data_dir=tmp_path)
    assert np.isclose(KA3DDataModule(root=str(EMBEDDED_KA3D), T=0.8, fallback="glassbench").T, 0.8)
