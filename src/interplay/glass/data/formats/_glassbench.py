"""GlassBench (Jung et al. roadmap) reader; also reads this package's own simulations (ka3d).

``N{N}T{T}_{i}.npz`` with ``types``, ``initial_positions``, ``initial_positions_inherent``,
``md_prop`` (n_t, N) [+ ``times``, ``time_indices``, ``box``, ``temperature``, ``epot``,
``epot_inherent`` when written by ``interplay-simulate``; optional ``md_prop_halves``
(2, n_t, N): the propensities of the two halves of the iso-configurational runs, for the labels'
noise ceiling -- GlassBench and the present ka3d files store only the average, so their ceiling
is NaN]. The fallback reader of ``.npz``: any npz file that no other format claims is read as
GlassBench.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from interplay.core import DataError
from interplay.glass.data._configuration import (
    Configuration,
    open_npz,
    require_finite,
    require_keys,
    wrap_into_box,
)
from interplay.glass.data._tau_alpha import TauAlpha, tau_alpha_from_time
from interplay.glass.data.formats._registry import Reader
from interplay.glass.simulation import halves_path

# GlassBench time grid (Jung et al. roadmap; same configurations as Shiba et al.), T = 0.44.
# BOTAN time indices tc01..tc10 are taken to be these times in order (tc07 = 4120 ≈ τα).
KNOWN_TIMES = {
    0.44: (0.13, 1.3, 13.0, 130.0, 412.0, 1300.0, 4120.0, 13000.0, 41200.0, 130000.0),
}
#: τα of the GlassBench grid (DESIGN.md: t = 4120 ≈ τα at T = 0.44).
KNOWN_TAU_ALPHA = {0.44: 4120.0}

_NAME_RE = re.compile(r"N(?P<n>\d+)T(?P<T>[0-9.]+?)_(?P<i>\d+)\.npz$")


class GlassBenchReader(Reader):
    """One configuration per ``N{N}T{T}_{i}.npz``; ``md_prop`` holds the propensities."""

    name = "glassbench"
    source = (
        "GlassBench, Jung et al. roadmap 'Predicting dynamic heterogeneity in glass-"
        "forming liquids by physics-inspired machine learning' "
        "(T{T}/{train,test}/N4096T{T}_{i}.npz)"
    )
    suffixes = (".npz",)
    fallback = True
    known_times = KNOWN_TIMES
    first_time_index = 0
    known_tau_alpha = KNOWN_TAU_ALPHA

    def __init__(self, density: float = 1.2) -> None:
        self.density = density  # KA number density: the box when a file stores none

    def temperature(self, path: Path) -> float | None:
        m = _NAME_RE.search(path.name)
        return None if m is None else float(m["T"])

    def read(self, files: list[Path]) -> list[Configuration]:
        return [self.read_file(p) for p in files]

    def tau_alpha(
        self,
        units: list[list[Path]],
        T: float,
        time_indices: np.ndarray,
        times: np.ndarray,
        metadata: Mapping,
    ) -> TauAlpha | None:
        """ka3d: the median of the ``tau_alpha`` stored in the configurations' ``.json`` files
        (each estimated by the simulation from its own F_s, so one alone is noisy); else the
        GlassBench grid (``known_tau_alpha``)."""
        taus = []
        for unit in units:
            sidecar = unit[0].with_suffix(".json")
            if sidecar.is_file():
                tau = json.loads(sidecar.read_text()).get("tau_alpha")
                if tau is not None and np.isfinite(tau) and tau > 0:
                    taus.append(float(tau))
        if not taus:
            return super().tau_alpha(units, T, time_indices, times, metadata)
        tau = float(np.median(taus))
        rule = f"median tau_alpha = {tau:.4g} of {len(taus)} configurations' .json metadata"
        return tau_alpha_from_time(time_indices, times, tau, rule)

    def read_file(self, path: Path) -> Configuration:
        """One GlassBench file (``md_prop`` may also be stored transposed, (N, n_t))."""
        data = open_npz(path)
        require_keys(path, data, ("types", "initial_positions", "md_prop"), self.name, self.source)
        types = data["types"].astype(np.int64)
        n = types.size
        prop = np.asarray(data["md_prop"], dtype=np.float64)
        if prop.ndim != 2:
            raise DataError(f"{path}: md_prop has shape {prop.shape}, expected (n_t, {n})")
        if prop.shape[1] != n and prop.shape[0] == n:
            prop = prop.T
        if prop.shape[1] != n:
            raise DataError(f"{path}: md_prop has shape {prop.shape}, expected (n_t, {n})")
        prop = require_finite(path, "md_prop", prop, ("row", "particle"), minimum=0.0)
        if "temperature" in data:
            T = float(data["temperature"])
        elif (T_name := self.temperature(path)) is not None:
            T = T_name
        else:
            raise DataError(f"{path}: no temperature key and no N{{N}}T{{T}}_{{i}}.npz file name")
        box = data.get("box")
        box = (
            np.full(3, (n / self.density) ** (1.0 / 3.0))
            if box is None
            else np.broadcast_to(np.asarray(box, np.float64), (3,)).copy()
        )
        idx = (
            np.asarray(data["time_indices"], np.int64)
            if "time_indices" in data
            else np.arange(prop.shape[0])
        )
        times = (
            np.asarray(data["times"], np.float64) if "times" in data else self.grid_times(T, idx)
        )
        inh = data.get("initial_positions_inherent")
        if inh is not None:
            inh = wrap_into_box(inh, box, path, "initial_positions_inherent")
        epot, epot_inh = data.get("epot"), data.get("epot_inherent")
        halves = data.get("md_prop_halves")
        if halves is None and halves_path(path).is_file():  # replayed runs (simulation)
            halves = np.load(halves_path(path), allow_pickle=False)
        if halves is not None:
            halves = np.asarray(halves, dtype=np.float64)
            if halves.shape != (2, *prop.shape):
                raise DataError(
                    f"{path}: md_prop_halves has shape {halves.shape}, "
                    f"expected (2, {prop.shape[0]}, {n})"
                )
        return Configuration(
            positions=wrap_into_box(data["initial_positions"], box, path, "initial_positions"),
            types=types,
            box=box,
            temperature=T,
            times=times,
            time_indices=idx,
            propensity=prop,
            inherent_positions=inh,
            epot=None if epot is None else epot.astype(np.float64),
            epot_inherent=None if epot_inh is None else epot_inh.astype(float),
            propensity_halves=halves,
            name=path.stem,
            source=self.name,
            files=(str(path),),
        ).validate()
