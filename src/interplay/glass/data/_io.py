"""Readers for the three real KA dataset formats behind one function, :func:`load`.

* **Shiba / BOTAN** (Shiba et al. 2023): ``isoconfig_N{N}T{T}_{i}_tc{XX}.npz`` with ``types``,
  ``initial_positions`` (N, 3) in [0, L) and ``positions`` (n_runs, N, 3) unwrapped, one file
  per configuration *and* time index. :func:`load` reads one file; :func:`load_directory`
  merges the files of one configuration into one :class:`Configuration`.
* **Bapst et al. 2020** (DeepMind "glassy_dynamics"): pickled dict with ``positions``,
  ``types``, ``box``, ``time``, ``time_indices``, ``trajectory_target_positions`` (per time
  index, the runs' positions), optional ``targets``, ``metadata``.
* **GlassBench** (Jung et al. roadmap) and this package's simulations: ``N{N}T{T}_{i}.npz`` with
  ``types``, ``initial_positions``, ``initial_positions_inherent``, ``md_prop`` (n_t, N)
  [+ ``times``, ``box``, ``temperature``, ``epot``, ``epot_inherent`` when written here].

The propensity (thesis eq. 2.17) is the iso-configurational mean of |r_i(t) − r_i(0)| computed
from the stored runs whenever a file holds them, otherwise taken from ``targets``/``md_prop``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from interplay.core import DataError

SOURCES = {
    "botan": "Shiba et al. 2023 BOTAN dataset (isoconfig_N4096T{T}_{i}_tc{XX}.npz files)",
    "bapst": 'Bapst et al. 2020 DeepMind "glassy_dynamics" data (aggregated_data_*.pickle)',
    "glassbench": "GlassBench, Jung et al. roadmap 'Predicting dynamic heterogeneity in glass-"
    "forming liquids by physics-inspired machine learning' (T{T}/{train,test}/N4096T{T}_{i}.npz)",
    "ka3d": "the embedded KA dataset (data/ka3d, T = 0.8, 0.9, 1.0), made by the LAMMPS "
    "pipeline: `interplay-simulate -m T=<T> job=0,1,2 configs_per_job=10 "
    "out_dir=<root>` (docs/ka_data.md)",
}

# GlassBench time grid (Jung et al. roadmap; same configurations as Shiba et al.), T = 0.44.
# BOTAN time indices tc01..tc10 are taken to be these times in order (tc07 = 4120 ≈ τα).
KNOWN_TIMES = {
    0.44: (0.13, 1.3, 13.0, 130.0, 412.0, 1300.0, 4120.0, 13000.0, 41200.0, 130000.0),
}

_BOTAN_RE = re.compile(r"isoconfig_N(?P<n>\d+)T(?P<T>[0-9.]+)_(?P<i>\d+)_tc(?P<tc>\d+)\.npz$")
_GB_RE = re.compile(r"N(?P<n>\d+)T(?P<T>[0-9.]+?)_(?P<i>\d+)\.npz$")


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


def _wrap(x: np.ndarray, box: np.ndarray) -> np.ndarray:
    return np.mod(x, box)


def _propensity(runs: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Iso-configurational mean of |r(t) − r(0)| (thesis eq. 2.17); runs (n_runs, N, 3)."""
    return np.linalg.norm(np.asarray(runs, dtype=np.float64) - start[None], axis=-1).mean(0)


def _times_for(T: float, time_indices: np.ndarray, one_based: bool) -> np.ndarray:
    for t_known, grid in KNOWN_TIMES.items():
        if abs(t_known - T) < 1e-9:
            k = time_indices - (1 if one_based else 0)
            if (k >= 0).all() and (k < len(grid)).all():
                return np.asarray(grid, dtype=np.float64)[k]
    return np.full(time_indices.shape, np.nan)


def _open_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a data error
        raise DataError(f"{path}: cannot read npz file ({exc})") from exc


def _require(path: Path, data: dict, keys: tuple[str, ...], fmt: str) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise DataError(
            f"{path}: missing keys {missing} for the {fmt} format (found {sorted(data)}); "
            f"expected files from {SOURCES[fmt]}"
        )


# The format readers live in io_botan / io_bapst / io_glassbench (they use the definitions
# above); they are re-exported here lazily so that importing any of the modules first works.
_READERS = {
    "load_botan": "interplay.glass.data.formats._botan",
    "merge_time_indices": "interplay.glass.data.formats._botan",
    "load_bapst": "interplay.glass.data.formats._bapst",
    "load_glassbench": "interplay.glass.data.formats._glassbench",
}


def __getattr__(name: str) -> Any:
    if name in _READERS:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(_READERS[name]), name)
    raise AttributeError(f"module 'interplay.glass.data._io' has no attribute {name!r}")


__all__ = [
    "SOURCES",
    "Configuration",
    "botan_groups",
    "detect_format",
    "list_files",
    "load",
    "load_directory",
    "load_many",
    *_READERS,
]


# ----------------------------------------------------------------------------- dispatch
def detect_format(path: str | Path) -> str:
    path = Path(path)
    if path.suffix in (".pickle", ".pkl"):
        return "bapst"
    if path.suffix != ".npz":
        raise DataError(f"{path}: unknown data file type (expected .npz or .pickle)")
    if _BOTAN_RE.search(path.name):
        return "botan"
    return "glassbench"


def load(path: str | Path) -> Configuration:
    """Read one configuration file of any of the three formats (see the module docstring)."""
    from interplay.glass.data.formats._bapst import load_bapst  # noqa: PLC0415
    from interplay.glass.data.formats._botan import load_botan  # noqa: PLC0415
    from interplay.glass.data.formats._glassbench import load_glassbench  # noqa: PLC0415

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    fmt = detect_format(path)
    if fmt == "botan":
        return load_botan(path)
    if fmt == "bapst":
        configs = load_bapst(path)
        if len(configs) != 1:
            raise DataError(f"{path}: holds {len(configs)} configurations; use load_many()")
        return configs[0]
    return load_glassbench(path)


def load_many(path: str | Path) -> list[Configuration]:
    """All configurations of a file (Bapst pickles may hold several) or of a directory."""
    from interplay.glass.data.formats._bapst import load_bapst  # noqa: PLC0415

    path = Path(path)
    if path.is_dir():
        return load_directory(path)
    if detect_format(path) == "bapst":
        return load_bapst(path)
    return [load(path)]


def list_files(directory: str | Path, fmt: str | None = None, T: float | None = None) -> list[Path]:
    """Data files of ``directory`` (not recursive), optionally of one format / temperature."""
    directory = Path(directory)
    files = sorted(
        p for p in directory.iterdir() if p.suffix in (".npz", ".pickle", ".pkl") and p.is_file()
    )
    out = []
    for p in files:
        f = detect_format(p)
        if fmt is not None and f != fmt and not (fmt == "ka3d" and f == "glassbench"):
            continue
        if T is not None and f in ("botan", "glassbench"):
            m = (_BOTAN_RE if f == "botan" else _GB_RE).search(p.name)
            if m is not None and abs(float(m["T"]) - T) > 1e-9:
                continue
        out.append(p)
    return out


def botan_groups(files: list[Path]) -> dict[str, list[Path]]:
    """BOTAN files grouped by configuration (``N{N}T{T}_{i}``), in index order."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in files:
        m = _BOTAN_RE.search(p.name)
        if m is not None:
            groups[f"N{m['n']}T{m['T']}_{m['i']}"].append(p)
    return dict(sorted(groups.items(), key=lambda kv: int(kv[0].rsplit("_", 1)[1])))


def load_directory(directory: str | Path, T: float | None = None) -> list[Configuration]:
    """Every configuration in ``directory``; BOTAN files of one configuration are merged."""
    from interplay.glass.data.formats._bapst import load_bapst  # noqa: PLC0415
    from interplay.glass.data.formats._botan import load_botan, merge_time_indices  # noqa: PLC0415
    from interplay.glass.data.formats._glassbench import load_glassbench  # noqa: PLC0415

    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory")
    files = list_files(directory, T=T)
    botan = [p for p in files if detect_format(p) == "botan"]
    out = [merge_time_indices([load_botan(p) for p in g]) for g in botan_groups(botan).values()]
    for p in files:
        f = detect_format(p)
        if f == "bapst":
            out.extend(c for c in load_bapst(p) if T is None or abs(c.temperature - T) < 1e-9)
        elif f == "glassbench":
            out.append(load_glassbench(p))
    return out
