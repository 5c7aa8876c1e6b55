"""The one in-memory form of a glass configuration, and the helpers every format reader shares.

A :class:`Configuration` is what every reader of :mod:`interplay.glass.data.formats` returns,
whatever the file layout: thermal positions wrapped into the box, A/B types, the box, the
temperature, the dataset's own time indices with their times, and the iso-configurational
propensity of each particle at each time (thesis eq. 2.17) -- plus, where the file stores the
runs, the two split-half propensities (runs 1..n/2 and n/2+1..n) from which the labels' noise
ceiling is measured (``interplay.glass.observables``, issue [glass-eval] item 2).

The helpers below sit under the readers (they import only :mod:`interplay.core` and the
neighbour list), so that a new format needs no private name: opening an npz file, checking the
keys a format requires, recomputing the propensity (and its split halves) from stored runs,
wrapping positions into the periodic box.

Bad data must fail here, at reading, naming the file, the key and the particle -- not end as a
NaN loss or as particles folded on top of each other in a graph:

* labels (propensities) and positions are finite, propensities non-negative
  (:meth:`Configuration.validate`, :func:`require_finite`);
* positions span no more than their box (:func:`wrap_into_box`): a box implied by a wrong N or
  density, an N-subset of a larger system or a stored box that disagrees with the positions
  would otherwise be folded in silently;
* the number density and the closest pair (:func:`check_geometry`, asked by the DataModules
  with ``data.density`` / ``data.min_pair_distance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from interplay.core import DataError
from interplay.glass.data._graph import periodic_neighbor_list
from interplay.glass.simulation import wrap_into_box as fold_into_box

#: Positions may stick out of [0, L) by this much (in σ_AA) where a dataset stores slightly
#: unwrapped coordinates (the embedded inherent structures do, by up to 0.03σ). A wider span
#: means positions of another box: folding them into this one would overlap particles.
SPAN_TOLERANCE = 0.5
#: Relative tolerance of the number-density check (the Bapst boxes give ρ = 1.2032 for 1.2).
DENSITY_RTOL = 0.02


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
    #: (2, n_t, N) propensities of the first / second half of the runs (NaN rows: no runs
    #: stored at that time index); None when the data has no runs (averages only).
    propensity_halves: np.ndarray | None = None
    name: str = ""
    source: str = ""
    files: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_particles(self) -> int:
        return int(self.types.size)

    def validate(self) -> Configuration:
        """``self`` if shapes, types, box, positions and labels are sane, else a DataError.

        Every reader ends with this call, so no format can hand a NaN label or position to
        training (it would become a NaN loss, NaN weights and NaN results, exit code 0).
        """
        where = ", ".join(self.files) or self.name
        n = self.types.size

        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise DataError(f"{where}: {msg}")

        need(self.positions.shape == (n, 3), f"positions {self.positions.shape} != ({n}, 3)")
        need(np.isin(self.types, (0, 1)).all(), "types must be 0 (A) / 1 (B)")
        box_ok = self.box.shape == (3,) and np.isfinite(self.box).all() and (self.box > 0).all()
        need(box_ok, f"bad box {self.box}")
        require_finite(where, "positions", self.positions, ("particle", "xyz"))
        n_t = self.time_indices.size
        need(self.times.shape == (n_t,), f"{self.times.shape[0]} times for {n_t} time indices")
        need(self.propensity.shape == (n_t, n), f"propensity {self.propensity.shape} != {n_t, n}")
        # labels: a NaN here is a NaN loss, NaN weights and NaN results later (eq. 2.17: |dr| ≥ 0)
        key = f"propensity (time indices {self.time_indices.tolist()})"
        require_finite(where, key, self.propensity, ("row", "particle"), minimum=0.0)
        if self.propensity_halves is not None:
            halves = self.propensity_halves
            need(halves.shape == (2, n_t, n), f"propensity_halves {halves.shape} != {2, n_t, n}")
            rows = np.isfinite(halves).all(axis=2) | np.isnan(halves).all(axis=2)
            need(bool(rows.all()), "propensity_halves rows must be all finite or all NaN")
            with np.errstate(invalid="ignore"):
                need(not (halves < 0).any(), "propensity_halves must be non-negative")
        for key in ("inherent_positions",):
            v = getattr(self, key)
            need(v is None or v.shape == (n, 3), f"{key} shape {None if v is None else v.shape}")
            if v is not None:
                require_finite(where, key, v, ("particle", "xyz"))
        for key in ("epot", "epot_inherent"):
            v = getattr(self, key)
            need(v is None or v.shape == (n,), f"{key} shape {None if v is None else v.shape}")
            if v is not None:
                require_finite(where, key, v, ("particle",))
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
            propensity_halves=None
            if self.propensity_halves is None
            else self.propensity_halves[:, k],
        )


def _prefix(where: str | Path) -> str:
    return f"{where}: " if str(where) else ""


def require_finite(
    where: str | Path,
    key: str,
    values: np.ndarray,
    axes: tuple[str, ...] = ("particle",),
    minimum: float | None = None,
) -> np.ndarray:
    """``values`` as float64, or a :class:`DataError` naming the file, key and first bad entry.

    ``axes`` names the array's axes (``("run", "particle", "xyz")``), so that the message says
    which particle of which run holds the NaN; ``minimum`` also refuses smaller values.
    """
    arr = np.asarray(values, dtype=np.float64)
    for bad, what in (
        (~np.isfinite(arr), "not finite"),
        (arr < minimum if minimum is not None else None, f"below {minimum}"),
    ):
        if bad is not None and bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            at = ", ".join(f"{a} {i}" for a, i in zip(axes, first, strict=False))
            raise DataError(
                f"{_prefix(where)}{key} is {what} at {at} (value {arr[first]}; "
                f"{int(bad.sum())} such entries): corrupt data file"
            )
    return arr


def wrap_into_box(
    x: np.ndarray, box: np.ndarray, where: str | Path = "", key: str = "positions"
) -> np.ndarray:
    """Positions checked, then mapped into [0, L) per axis (the one folding of
    :func:`interplay.glass.simulation.wrap_into_box`): the graphs assume one periodic image per
    particle.

    Folding is only right for positions of *this* box. Positions spanning more than
    L + :data:`SPAN_TOLERANCE` along an axis come from another box (a box implied by the wrong
    N or density, an N-subset of a larger system, a stored box that disagrees with them) and
    would be folded onto each other, so they are a :class:`DataError` naming ``where``/``key``.
    """
    x = require_finite(where, key, x, ("particle", "xyz"))
    if x.ndim != 2 or x.shape[1] != 3:
        raise DataError(f"{_prefix(where)}{key} has shape {x.shape}, expected (N, 3)")
    box = np.broadcast_to(np.asarray(box, dtype=np.float64), (3,))
    span = np.ptp(x, axis=0) if x.size else np.zeros(3)
    excess = span - box
    if (excess > SPAN_TOLERANCE).any():
        ax = int(np.argmax(excess))
        raise DataError(
            f"{_prefix(where)}{key} span {span[ax]:.4g} along {'xyz'[ax]} but the box is "
            f"{box[ax]:.4g} (N = {len(x)}): these positions do not belong to this box (wrong "
            "box or density, or a subset of a larger system); folding them would overlap "
            "particles"
        )
    return fold_into_box(x, box)


def check_geometry(
    config: Configuration,
    density: float | None = None,
    min_pair_distance: float | None = None,
    density_rtol: float = DENSITY_RTOL,
) -> Configuration:
    """Refuse a configuration whose box or positions cannot be the physical system.

    ``density``: the number density N/V must be within ``density_rtol`` of it (KA: 1.2, thesis
    §2.4.1); a box that disagrees with N (a subset of a larger system, a wrong stored box) fails.
    ``min_pair_distance``: no two particles closer (in σ_AA; KA pairs stay ≳ 0.7σ apart), found
    with the graph's own periodic cell list; overlaps are positions folded into a wrong box or
    corrupt coordinates. ``None`` skips a check. Returns ``config``.
    """
    where = ", ".join(config.files) or config.name
    n, volume = config.n_particles, float(np.prod(config.box))
    if density is not None and abs(n / volume / density - 1.0) > density_rtol:
        raise DataError(
            f"{where}: number density N/V = {n}/{volume:.4g} = {n / volume:.4g}, expected "
            f"{density} (data.density): the box does not belong to these {n} particles (a "
            "subset of a larger system, or a wrong box)"
        )
    if min_pair_distance is None:
        return config
    for key in ("positions", "inherent_positions"):
        x = getattr(config, key)
        if x is None:
            continue
        edge_index, edge_vec = periodic_neighbor_list(x, config.box, cutoff=min_pair_distance)
        if edge_index.shape[1]:
            dist = np.linalg.norm(edge_vec, axis=1)
            k = int(np.argmin(dist))
            j, i = (int(v) for v in edge_index[:, k])
            raise DataError(
                f"{where}: particles {i} and {j} of {key} are {dist[k]:.3g} apart, closer than "
                f"data.min_pair_distance = {min_pair_distance}: positions folded into a wrong "
                "box, or corrupt coordinates"
            )
    return config


def propensity_from_runs(runs: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Iso-configurational mean of |r(t) − r(0)| (thesis eq. 2.17); runs (n_runs, N, 3).

    Recomputed from the stored runs whenever a file has them, so that every format gives the
    propensity of the same definition (unwrapped displacements, arithmetic mean over runs).
    """
    return propensity_and_halves(runs, start)[0]


def propensity_and_halves(
    runs: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """The propensity of all runs (N,) and of the two halves (2, N), runs ``0..h-1`` and
    ``h..2h-1`` with ``h = n_runs // 2`` (None with fewer than two runs).

    Why the halves: the labels are an average over a finite number of runs, so they carry run
    noise; the correlation of two independent half-averages is the labels' split-half
    reliability, from which the best Pearson any predictor can reach follows
    (Spearman-Brown, ``interplay.glass.observables.spearman_brown``). The halves have equal
    size (an odd last run is left out of them, not of the full average), as Spearman-Brown
    assumes.
    """
    disp = np.linalg.norm(np.asarray(runs, dtype=np.float64) - start[None], axis=-1)
    h = disp.shape[0] // 2
    halves = None if h == 0 else np.stack([disp[:h].mean(0), disp[h : 2 * h].mean(0)])
    return disp.mean(0), halves


def join_halves(
    parts: Sequence[np.ndarray | None], sizes: Sequence[int], n: int
) -> np.ndarray | None:
    """(2, sum(sizes), n) split-half propensities of consecutive time rows: ``parts[i]`` is
    (2, sizes[i], n) or None (no runs there: NaN rows); None when no part has runs."""
    if all(p is None for p in parts):
        return None
    return np.concatenate(
        [np.full((2, k, n), np.nan) if p is None else p for p, k in zip(parts, sizes, strict=True)],
        axis=1,
    )


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
