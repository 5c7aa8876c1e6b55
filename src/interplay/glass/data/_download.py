"""Fetching the registered datasets (:mod:`._registry`) into the cache, checked and resumable.

Why pooch (``pooch.retrieve``): the scientific-Python standard for "download once, check the
hash, move into place only if it matches" -- a corrupt download is deleted, never kept. What
pooch does not do is added here: the file list and checksums read from each provider's listing
(Zenodo record API, Cloud Storage JSON API), downloads that resume from a ``.part`` file with an
HTTP ``Range`` request after an interruption, extraction that refuses links and paths outside
the target, and the provider's layout (``T{T}/{train,test}``) placed atomically: a temperature
directory appears only when all its files are in, so a half-fetched dataset never trains.

No downloaded byte is ever executed: archives are unpacked as plain files and directories,
the manifest is JSON, and the Bapst pickles are read later by the safe unpickler of
:func:`interplay.core.load_array_pickle`. ``$INTERPLAY_DATA_MIRROR`` replaces every
provider's ``scheme://host`` (same paths below it): the tests serve the providers from
127.0.0.1 and no test or script ever contacts a real provider.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from interplay.core import DataError, write_json
from interplay.glass.data._layout import has_split, temperature_dir
from interplay.glass.data._providers import TIMEOUT_S, Remote, offline_hint, remote_files
from interplay.glass.data._registry import (
    DATASETS,
    MANIFEST,
    check_temperature,
    data_home,
    dataset_dir,
    dataset_root,
    fetch_command,
    get_dataset,
    missing_message,
    temperature_tag,
)

log = logging.getLogger(__name__)


class ResumableDownloader:
    """A pooch downloader that appends to ``part`` with an HTTP ``Range`` request, so an
    interrupted download continues where it stopped; shows a tqdm progress bar."""

    chunk_size = 1 << 16  # bytes read at a time: at most this much is refetched after a cut

    def __init__(self, part: Path, progressbar: bool = True) -> None:
        self.part = part
        self.progressbar = progressbar

    def __call__(self, url: str, output_file: str, pooch: object = None) -> None:
        import requests
        from tqdm.auto import tqdm

        start = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={start}-"} if start else {}
        with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT_S) as response:
            if start and response.status_code == 416:  # the part is the whole file already
                os.replace(self.part, output_file)
                return
            response.raise_for_status()
            if response.status_code != 206:  # the server ignored the range: start over
                start = 0
            total = int(response.headers.get("content-length", 0)) + start or None
            with (
                open(self.part, "ab" if start else "wb") as out,
                tqdm(total=total, initial=start, unit="B", unit_scale=True,
                     desc=self.part.name.removesuffix(".part"),
                     disable=not self.progressbar) as bar,
            ):  # fmt: skip
                for chunk in response.iter_content(chunk_size=self.chunk_size):
                    out.write(chunk)
                    bar.update(len(chunk))
        os.replace(self.part, output_file)


def _download(remote: Remote, directory: Path, name: str, T: float, progressbar: bool) -> Path:
    """``remote`` into ``directory/remote.dest``: skipped when present (and matching its hash),
    resumed from ``.part``, deleted on a checksum mismatch."""
    import pooch
    import requests

    target = directory / remote.dest
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        pooch.retrieve(
            remote.url,
            known_hash=remote.known_hash,
            fname=target.name,
            path=target.parent,
            downloader=ResumableDownloader(part, progressbar),
        )
    except ValueError as exc:  # pooch: hash mismatch; it deleted the downloaded file
        raise DataError(
            f"checksum mismatch for {remote.url}: {exc}. The corrupt download was deleted; "
            f"rerun `{fetch_command(name, T)}` to download it again."
        ) from exc
    except requests.RequestException as exc:
        have = part.stat().st_size if part.exists() else 0
        of = f" of {remote.size}" if remote.size else ""
        raise DataError(
            f"download of {remote.url} failed after {have}{of} bytes ({exc}). Rerun "
            f"`{fetch_command(name, T)}`: it resumes from {part}. {offline_hint(name, T)}"
        ) from exc
    return target


def _safe_extract(archive: Path, into: Path) -> None:
    """Unpack ``archive`` into ``into``: regular files and directories only, every path inside
    ``into`` (no absolute paths, ``..``, links or devices) -- unpacking never runs anything."""

    def check(member_name: str, ok: bool) -> None:
        path = (into / member_name).resolve()
        if not ok or not path.is_relative_to(into.resolve()):
            raise DataError(f"{archive} holds {member_name!r}, which is not a plain file or "
                            f"directory inside the dataset; refusing to extract it")  # fmt: skip

    into.mkdir(parents=True, exist_ok=True)
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                check(info.filename, not (info.external_attr >> 16) & 0o170000 == 0o120000)
            z.extractall(into)
        return
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for m in members:
            check(m.name, m.isfile() or m.isdir())
        tar.extractall(into, members=members, filter="data")


def _split_dir(staging: Path) -> Path:
    """The directory of ``staging`` (itself or below, depth <= 3) holding train/ or test/."""
    level = [staging]
    for _ in range(4):
        found = sorted(p for p in level if has_split(p))
        if found:
            return found[0]
        level = [c for p in level for c in p.iterdir() if c.is_dir()]
    raise DataError(f"{staging} holds no train/ or test/ directory after extraction")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_dataset(
    name: str,
    T: float,
    data_dir: str | os.PathLike | None = None,
    *,
    file: str | None = None,
    progressbar: bool = True,
    keep_archive: bool = False,
    announce: Callable[[str], None] = print,
) -> Path:
    """Download ``name`` at ``T`` into the cache and return its temperature directory.

    Prints size, licence and citation first; a present directory is left alone (``verify``
    checks it). Files gather in ``.partial-T{T}/`` (rerun to resume) and the directory is
    renamed into place only when complete, with a manifest of every file's sha256."""
    d = get_dataset(name)
    T = check_temperature(d, T)
    target = dataset_dir(name, T, data_dir)
    if has_split(target):
        announce(f"{name} T={temperature_tag(T)} is already in {target}")
        return target
    remotes = remote_files(name, T, file)
    sizes = [r.size for r in remotes]
    size = f"{sum(sizes) / 1e6:.1f} MB" if all(s is not None for s in sizes) else d.size
    host = urlsplit(remotes[0].url).netloc
    announce(
        f"{name} T={temperature_tag(T)}: {len(remotes)} file(s), {size} from {host}; "
        f"licence {d.licence}; cite {d.citation}; into {target}"
    )
    staging = target.with_name(f".partial-{target.name}")
    for remote in remotes:
        if remote.archive:
            downloads = dataset_root(name, data_dir) / ".downloads"
            archive = _download(remote, downloads, name, T, progressbar)
            unpacked = staging / "unpacked"
            shutil.rmtree(unpacked, ignore_errors=True)
            _safe_extract(archive, unpacked)
            found = _split_dir(unpacked)
            for split in ("train", "test"):
                if (found / split).is_dir():
                    shutil.rmtree(staging / split, ignore_errors=True)
                    os.replace(found / split, staging / split)
            shutil.rmtree(unpacked)
            if not keep_archive:
                archive.unlink()
        else:
            _download(remote, staging, name, T, progressbar)
    files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest = {
        "dataset": name,
        "T": T,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sources": {r.dest: {"url": r.url, "checksum": r.known_hash} for r in remotes},
        "files": {str(p.relative_to(staging)): _sha256(p) for p in files},
    }
    write_json(staging / MANIFEST, manifest)
    os.replace(staging, target)
    announce(f"{name} T={temperature_tag(T)}: {len(files)} files in {target}")
    return target


def verify_dataset(data_dir: str | os.PathLike | None = None) -> list[tuple[str, bool, str]]:
    """Recheck every fetched dataset of the cache: each file's sha256 against the manifest
    written at fetch time (and the registry's where it records one). ``(what, ok, detail)``."""
    out = []
    for name, d in DATASETS.items():
        for manifest_path in sorted(dataset_root(name, data_dir).glob(f"T*/{MANIFEST}")):
            base = manifest_path.parent
            manifest = json.loads(manifest_path.read_text())
            expected = dict(manifest["files"])
            for rel, sha in d.files.items():
                if sha is not None and rel in expected:
                    expected[rel] = sha  # the registry's own record wins
            bad = [
                f"{rel} ({'missing' if not (base / rel).is_file() else 'sha256 differs'})"
                for rel, sha in expected.items()
                if not (base / rel).is_file() or _sha256(base / rel) != sha
            ]
            what = f"{name} {base.name}"
            detail = f"{len(expected)} files" if not bad else "bad: " + ", ".join(bad)
            out.append((what, not bad, detail))
    return out


def ensure_dataset(
    name: str, T: float, data_dir: str | os.PathLike | None = None, download: bool = False
) -> Path:
    """The ``data.root`` of ``name`` at ``T`` in the cache, fetched first when ``download``;
    a :class:`DataError` naming size, licence, the fetch command and where a copy can go when
    it is missing (how ``train.py`` stops within seconds, before any model is built)."""
    root = dataset_root(name, data_dir)
    if temperature_dir(root, T) is None:
        if not download:
            raise DataError(missing_message(name, T, data_dir))
        fetch_dataset(name, T, data_dir)
    return root


def resolve_root(
    root: str | None,
    T: float,
    dataset: str | None,
    family: str,
    download: bool = False,
    data_dir: str | None = None,
    fallback: str | None = None,
) -> tuple[Path, str]:
    """A DataModule's ``(root, family)``: ``root`` as given; without one, ``dataset``'s cache
    (:func:`ensure_dataset`). ``fallback`` names a registered dataset read instead when
    ``root`` lacks ``T`` and that dataset publishes ``T`` -- how ``data.T=0.44`` with the
    embedded ka3d default becomes GlassBench at 0.44 (the headline command)."""
    if root not in (None, ""):
        path = Path(str(root)).expanduser()
        if fallback is None or temperature_dir(path, T) is not None:
            return path, family
        if not any(abs(T - t) < 1e-9 for t in get_dataset(fallback).temperatures):
            return path, family  # nothing to fall back to: the message of the missing T
        log.info("T=%g is not in %s: reading %s from the data cache", T, path, fallback)
        return ensure_dataset(fallback, T, data_dir, download), fallback
    if dataset is None:
        raise DataError(f"data.root is required for {family}: it has no registered download")
    return ensure_dataset(dataset, T, data_dir, download), family


def dataset_table(data_dir: str | os.PathLike | None = None) -> str:
    """The text of ``interplay-data list``: every source, its temperatures (``*`` = cached),
    size, licence, checksums, citation and notes."""
    lines = [f"data home: {data_home(data_dir)}  (* = cached)"]
    for name, d in DATASETS.items():
        temps = [
            temperature_tag(t) + ("*" if has_split(dataset_dir(name, t, data_dir)) else "")
            for t in d.temperatures
        ]
        lines += [
            "",
            f"{name}: {d.title}",
            f"  T          {' '.join(temps)}",
            f"  size       {d.size}",
            f"  licence    {d.licence}",
            f"  source     {d.page}",
            f"  checksums  {d.checksums}",
            f"  cite       {d.citation}",
        ]
        if d.note:
            lines.append(f"  note       {d.note}")
    return "\n".join(lines)
