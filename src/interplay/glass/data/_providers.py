"""The providers' file listings: what fetching a registered dataset downloads, with the
checksums each provider publishes (Zenodo record API: md5 per file; Cloud Storage JSON API:
md5 per object; pyg_botan: none, the registry's recorded sha256). Every URL goes through
:func:`mirrored`, so ``$INTERPLAY_DATA_MIRROR`` redirects all of them (the tests' loopback
server)."""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from interplay.core import DataError
from interplay.glass.data._registry import (
    MIRROR_ENV,
    Dataset,
    check_temperature,
    fetch_command,
    get_dataset,
    temperature_tag,
)

TIMEOUT_S = 30.0
ARCHIVES = (".tar.gz", ".tgz", ".tar", ".tar.xz", ".tar.bz2", ".zip")


@dataclass(frozen=True)
class Remote:
    """One file to fetch: its URL, where it goes (relative to the staging directory, or the
    archive's name), the provider's checksum (``md5:...`` / ``sha256``; None: unpublished)."""

    url: str
    dest: str
    known_hash: str | None
    size: int | None
    archive: bool = False


def mirrored(url: str) -> str:
    """``url`` with its ``scheme://host`` replaced by ``$INTERPLAY_DATA_MIRROR`` when set."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return url
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return mirror.rstrip("/") + rest


def offline_hint(name: str, T: float) -> str:
    """What to do on a machine without internet (the development and CI machines)."""
    return (
        f"If this machine is offline, run `{fetch_command(name, T)}` on one that is online and "
        f"copy the {name}/T{temperature_tag(T)}/ directory of its cache into this one's "
        f"(`interplay-data path`), or set {MIRROR_ENV}=<base URL of a mirror>."
    )


def _get_json(url: str, name: str, T: float) -> dict:
    import requests

    try:
        response = requests.get(url, timeout=TIMEOUT_S)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DataError(f"cannot read the {name} file listing {url}: {exc}. "
                        f"{offline_hint(name, T)}") from exc  # fmt: skip


def _names_temperature(text: str, T: float) -> bool:
    """Whether ``text`` states the temperature ``T`` (``0.5`` or ``0.50``, not ``0.56``)."""
    tags = {f"{T:g}", f"{T:.2f}"}
    return any(re.search(rf"(?<![\d.]){re.escape(t)}(?!\d)", text) for t in tags)


def _zenodo_files(d: Dataset, T: float, file: str | None) -> list[Remote]:
    record = _get_json(mirrored(f"{d.base}/api/records/{d.prefix}"), d.name, T)
    entries = record.get("files") or []
    keys = [e.get("key", "") for e in entries]
    if file is not None:
        chosen = [e for e in entries if e.get("key") == file]
    else:
        chosen = [e for e in entries if e.get("key", "").lower().endswith(ARCHIVES)]
        chosen = [e for e in chosen if _names_temperature(e["key"], T)]
        if len(chosen) > 1:  # e.g. 2D and 3D archives of one temperature: the 3D KA one
            chosen = [e for e in chosen if "3d" in e["key"].lower()] or chosen
    if len(chosen) != 1:
        what = "no archive" if not chosen else f"{len(chosen)} archives"
        raise DataError(
            f"{what} of record {d.prefix} matches {d.name} T={temperature_tag(T)}"
            f"{'' if file is None else f' (file {file!r})'}; its files are {keys}. Choose one "
            f"with `{fetch_command(d.name, T)} --file <name>`."
        )
    e = chosen[0]
    url = (e.get("links") or {}).get("self") or (
        f"{d.base}/api/records/{d.prefix}/files/{e['key']}/content"
    )
    return [Remote(mirrored(url), e["key"], e.get("checksum"), e.get("size"), archive=True)]


def _gcs_files(d: Dataset, T: float) -> list[Remote]:
    out, token = [], None
    while True:
        query = "" if token is None else f"?pageToken={token}"
        url = mirrored(f"{d.base}/storage/v1/b/{d.prefix}/o{query}")
        listing = _get_json(url, d.name, T)
        for item in listing.get("items", []):
            name = item["name"]
            split = next((s for s in name.split("/")[:-1] if s in ("train", "test")), None)
            if split is None or not name.endswith((".pickle", ".pkl")):
                continue
            if not _names_temperature(name, T):
                continue
            md5 = item.get("md5Hash")
            known = None if md5 is None else "md5:" + base64.b64decode(md5).hex()
            target = f"{split}/{name.rsplit('/', 1)[-1]}"
            size = int(item["size"]) if "size" in item else None
            out.append(Remote(mirrored(f"{d.base}/{d.prefix}/{name}"), target, known, size))
        token = listing.get("nextPageToken")
        if not token:
            break
    if not out:
        raise DataError(
            f"the {d.name} bucket {d.prefix} lists no train/ or test/ pickle at "
            f"T={temperature_tag(T)}: its layout differs from the registry's rule ({d.note})."
        )
    return out


def remote_files(name: str, T: float, file: str | None = None) -> list[Remote]:
    """What fetching ``name`` at ``T`` downloads, with the provider's checksums (read from its
    listing where it publishes one)."""
    d = get_dataset(name)
    T = check_temperature(d, T)
    if d.provider == "zenodo":
        return _zenodo_files(d, T, file)
    if d.provider == "gcs":
        return _gcs_files(d, T)
    tag = temperature_tag(T)
    return [
        Remote(mirrored(f"{d.base}/{d.prefix}/T{tag}/{rel}"), rel, sha, None)
        for rel, sha in d.files.items()
    ]
