"""Atomic file writes: a reader never sees a half-written file, a crash never corrupts one.

Write to a temporary file in the destination directory, fsync, then ``os.replace`` -- which
is atomic on POSIX file systems (including the shared file systems of SLURM clusters).

``tempfile.mkstemp`` creates its file with mode 0600 (private on purpose, for temporaries);
the finished file gets the mode ``open()`` would have given it, ``0o666 & ~umask``, so that
collaborators on a shared cluster can read results and simulated data as the umask intends.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np


def _umask() -> int:
    """The process umask. Read from ``/proc`` where possible: ``os.umask`` can only be read by
    setting it, which briefly changes it for every thread of the process."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; move it onto ``path`` on success.

    The file ends with mode ``0o666 & ~umask`` (as ``open()`` would create it), not the 0600
    of ``mkstemp``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, data: Any) -> None:
    with atomic_open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` with an atomic rename (``path`` should end in ``.npz``)."""
    with atomic_open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def write_csv(path: str | Path, frame: Any) -> None:
    """Write a pandas DataFrame as CSV (no index) atomically."""
    with atomic_open(path, "w") as handle:
        frame.to_csv(handle, index=False)
