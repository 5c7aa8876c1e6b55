"""Atomic writes: finished files carry the umask's mode (not mkstemp's 0600), a failed write
leaves neither a partial file nor a temporary behind."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from interplay.core import atomic_open, write_csv, write_json, write_npz


@pytest.fixture
def umask():
    """Set a umask for one test and restore the caller's afterwards."""
    saved = os.umask(0o022)
    try:
        yield lambda mask: os.umask(mask)
    finally:
        os.umask(saved)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(
    "write",
    [
        lambda p: write_json(p / "r.json", {"a": 1}),
        lambda p: write_npz(p / "r.npz", x=np.arange(3)),
        lambda p: write_csv(p / "r.csv", pd.DataFrame({"a": [1, 2]})),
    ],
    ids=["json", "npz", "csv"],
)
def test_written_files_respect_umask_022(tmp_path, umask, write):
    umask(0o022)
    write(tmp_path)
    (written,) = list(tmp_path.iterdir())
    assert mode(written) == 0o644, oct(mode(written))


@pytest.mark.parametrize(
    ("mask", "expected"),
    [(0o002, 0o664), (0o077, 0o600), (0o027, 0o640)],
    ids=["umask002", "umask077", "umask027"],
)
def test_mode_follows_any_umask(tmp_path, umask, mask, expected):
    umask(mask)
    write_json(tmp_path / "r.json", [1])
    assert mode(tmp_path / "r.json") == expected


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "r.json"
    write_json(target, {"old": True})
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write('{"new": ')
        raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
