"""What the repository ships carries no path of the machine that produced it (issue 12, item 7):
a clone, or a copy of ``data/``, reads the same everywhere and leaks no user or host layout.

Checked on every committed data file: JSON metadata (every string value), other text files, and
the string arrays of ``.npz`` files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import pytest
from helpers import ROOT

DATA = ROOT / "data"
TEXT_SUFFIXES = {".csv", ".md", ".txt", ".yaml", ".yml"}


def data_files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*") if p.is_file() and ".state" not in p.parts)


def strings(obj: Any) -> Iterator[str]:
    """Every string in a parsed JSON document, keys included."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield key
            yield from strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from strings(value)


def is_machine_path(s: str) -> bool:
    """Absolute POSIX or Windows path, or one relative to a home directory."""
    s = s.strip()
    return PurePosixPath(s).is_absolute() or bool(PureWindowsPath(s).drive) or s.startswith("~")


def machine_markers() -> list[str]:
    """This checkout's own absolute location and home: never part of a shipped file."""
    return [str(ROOT), str(Path.home())]


def test_is_machine_path():
    assert is_machine_path("/work/main/data/ka3d") and is_machine_path("C:\\data")
    assert is_machine_path("~/data") and is_machine_path(" /tmp/x")
    assert not is_machine_path("../..") and not is_machine_path("data/ka3d")
    assert not is_machine_path("Kob-Andersen 80:20 LJ, eps AA/AB/BB 1/1.5/0.5")


@pytest.mark.skipif(not DATA.is_dir(), reason="no data/ in this checkout")
def test_committed_data_has_no_machine_paths():
    files = data_files()
    assert files, "data/ is empty"
    found: list[str] = []
    for path in files:
        rel = path.relative_to(ROOT)
        if path.suffix == ".json":
            found += [
                f"{rel}: {s!r}" for s in strings(json.loads(path.read_text())) if is_machine_path(s)
            ]
        elif path.suffix in TEXT_SUFFIXES:
            text = path.read_text(errors="replace")
            found += [f"{rel}: contains {m!r}" for m in machine_markers() if m in text]
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                for key in arrays.files:
                    a = arrays[key]
                    if a.dtype.kind in "US":
                        found += [
                            f"{rel}[{key}]: {s!r}"
                            for s in map(str, np.ravel(a))
                            if is_machine_path(s) or any(m in s for m in machine_markers())
                        ]
    assert not found, "absolute machine paths in committed data:\n" + "\n".join(found[:20])
