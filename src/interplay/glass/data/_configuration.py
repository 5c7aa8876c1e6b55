"""The one in-memory form of a glass configuration, and the helpers every format reader shares.

A :class:`Configuration` is what every reader of :mod:`interplay.glass.data.formats` returns,
whatever the file layout: thermal positions wrapped into the box, A/B types, the box, the
temperature, the dataset's own time indices with their times, and the iso-configurational
propensity of each particle at each time (thesis eq. 2.17). The helpers below sit under the
readers (they import only :mod:`interplay.core`), so that a new format needs no private name:
opening an npz file, checking the keys a format requires, recomputing the propensity from stored
runs, wrapping positions into the periodic box.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from interplay.core import DataError


@dataclass
class Configuration:
    """One equilibrium configuration and its iso-configurational propensities."""

    positions: np.ndarray  # (N, 3) float64 thermal positions, wrapped into [0, L)
    types: np.ndarray  # (N,) int64, 0 = A, 1 = B
    box: np.ndarray  # (3,) float64
    temperature: float
    times: np.ndarray  # (n_t,) float64 (NaN where the dataset does not say)
    time_indices: np.ndarray  # (n_t,) int64, the dataset's own names of the timescales
    propensity: np.ndarray  # (n_t, N) float64
    inherent_positions: np.ndarray | None = None  # (N, 3) or None
    epot: np.ndarray | None = None  # (N,) per-particle potential energy, thermal
    epot_inherent: np.ndarray | None = None  # (N,) at the inherent structure
    name: str = ""
    source: str = ""
    files: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_particles(self) -> int:
        return int(self.types.size)

    def validate(self) -> Configuration:
        where = ", ".join(self.files) or self.name
        n = self.types.size

        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise DataError(f"{where}: {msg}")

        need(self.positions.shape == (n, 3), f"positions {self.positions.shape} != ({n}, 3)")
        need(np.isin(self.types, (0, 1)).all(), "types must be 0 (A) / 1 (B)")
        need(self.box.shape == (3,) and (self.box > 0).all(), f"bad box {self.box}")
        need(np.isfinite(self.positions).all(), "non-finite positions")
        n_t = self.time_indices.size
        need(self.times.shape == (n_t,), f"{self.times.shape[0]} times for {n_t} time indices")
        need(self.propensity.shape == (n_t, n), f"propensity {self.propensity.shape} != {n_t, n}")
        for key in ("inherent_positions",):
            v = getattr(self, key)
            need(v is None or v.shape == (n, 3), f"{key} shape {None if v is None else v.shape}")
        for key in ("epot", "epot_inherent"):
            v = getattr(self, key)
            need(v is None or v.shape == (n,), f"{key} shape {None if v is None else v.shape}")
        return self

    def select_times(self, time_indices: list[int]) -> Configuration:
        """The same configuration restricted to some of its time indices (dataset names)."""
        pos = {int(t): k for k, t in enumerate(self.time_indices)}
        missing = [t for t in time_indices if int(t) not in pos]
        if missing:
            raise DataError(
                f"{self.name}: time indices {missing} not in the data "
                f"(available: {self.time_indices.tolist()})"
            )
        k = [pos[int(t)] for t in time_indices]
        return replace(
            self,
            times=self.times[k],
            time_indices=self.time_indices[k],
            propensity=self.propensity[k],
        )


def wrap_into_box(x: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Positions mapped into [0, L) per axis: the graphs assume one periodic image per particle."""
    return np.mod(x, box)


def propensity_from_runs(runs: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Iso-configurational mean of |r(t) − r(0)| (thesis eq. 2.17); runs (n_runs, N, 3).

    Recomputed from the stored runs whenever a file has them, so that every format gives the
    propensity of the same definition (unwrapped displacements, arithmetic mean over runs).
    """
    return np.linalg.norm(np.asarray(runs, dtype=np.float64) - start[None], axis=-1).mean(0)


def open_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an npz file, read eagerly; any unreadable file becomes a :class:`DataError`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # any unreadable file is a data error
        raise DataError(f"{path}: cannot read npz file ({exc})") from exc


def require_keys(path: Path, data: dict, keys: tuple[str, ...], fmt: str, source: str) -> None:
    """Fail with the missing keys *and* where files of format ``fmt`` come from (``source``).

    A wrong file for the chosen ``data=`` group is the usual cause, so the message names the
    dataset that the keys belong to rather than just the key.
    """
    missing = [k for k in keys if k not in data]
    if missing:
        raise DataError(
            f"{path}: missing keys {missing} for the {fmt} format (found {sorted(data)}); "
            f"expected files from {source}"
        )
