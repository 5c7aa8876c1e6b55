"""Persistence side of the KA pipeline: job checkpoint, resume and the configuration files.

:class:`CheckpointedJob` is the base of :class:`~._pipeline.Job` (which adds the MD
stages and ``run()``): it owns the settings, the output paths and the checkpoint (saved after
every equilibration segment and every iso-configurational run, restored on restart) and writes
a finished configuration as ``{stem}.npz`` + ``{stem}.json`` (GlassBench layout, see
:mod:`._pipeline`), all atomically.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from interplay.core import write_json, write_npz
from interplay.glass.simulation._dynamics import K_PEAK
from interplay.glass.simulation._lammps import KASimulation, Thermo, ka_types
from interplay.glass.simulation._settings import SimulationSettings, derived_seed

log = logging.getLogger(
    "interplay.glass.simulation._pipeline"
)  # the pipeline's logger, as before the split

FORMAT_VERSION = 1


# --------------------------------------------------------------------------------- checkpoint
class Checkpoint:
    """Job state on disk: a JSON header plus arrays, both replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.meta: dict[str, Any] = {}
        self.arrays: dict[str, np.ndarray] = {}

    def load(self) -> bool:
        if not self.path.exists():
            return False
        with np.load(self.path, allow_pickle=False) as data:
            self.arrays = {k: data[k] for k in data.files if k != "_meta"}
            self.meta = json.loads(str(data["_meta"]))
        return True

    def save(self) -> None:
        write_npz(self.path, _meta=np.array(json.dumps(self.meta)), **self.arrays)


# --------------------------------------------------------------------------------- job base
class CheckpointedJob:
    """Settings, paths, checkpoint save / restore and output files of one (T, job) unit.

    ``Job.run()`` sets ``_t_start``, ``_wall_before`` and ``_steps_before`` (the wall time and MD
    steps of earlier processes of this job) before any state is saved.
    """

    def __init__(self, settings: SimulationSettings) -> None:
        self.s = settings.validate()
        self.out = Path(self.s.out_dir) / f"T{self.s.tag}"
        self.ckpt = Checkpoint(self.out / ".state" / f"job{self.s.job}.npz")
        self.md_steps = 0  # MD steps integrated by this process (for the benchmark)
        self.md_seconds = 0.0
        self.sim: KASimulation | None = None

    def file_stem(self, index: int) -> Path:
        split = "train" if index < self.s.n_train else "test"
        return self.out / split / f"N{self.s.n_particles}T{self.s.tag}_{index}"

    def _save_state(self, extra: dict[str, np.ndarray] | None = None) -> None:
        ck = self.ckpt
        ck.arrays = dict(extra or {})
        ck.arrays["x"] = self.sim.positions()
        ck.arrays["v"] = self.sim.velocities()
        ck.meta["wall_time"] = self._wall_before + (time.perf_counter() - self._t_start)
        ck.meta["md_steps"] = self._steps_before + self.md_steps
        ck.save()

    def _restore(self) -> None:
        s, ck = self.s, self.ckpt
        self.sim = KASimulation(ka_types(s.n_particles), np.array(ck.meta["box"]), dt=s.dt)
        if "x0" in ck.arrays and ck.meta["stage"] == "iso":
            self.sim.set_positions(ck.arrays["x0"], ck.arrays["v0"])
        else:
            self.sim.set_positions(ck.arrays["x"], ck.arrays["v"])

    def _portable_settings(self, stem: Path) -> dict[str, Any]:
        """The settings as stored in a configuration's metadata, free of machine paths.

        ``out_dir`` is absolute while the job runs (the entry point resolves it against the
        launch directory); the metadata keeps it relative to the file itself (``"../.."``, the
        dataset root), so a committed or copied dataset carries no path of the machine that
        produced it.
        """
        settings = {k: v for k, v in asdict(self.s).items() if k != "tau_alpha_ref"}
        settings["out_dir"] = Path(os.path.relpath(self.s.out_dir, stem.parent)).as_posix()
        return settings

    def _write_configuration(
        self,
        index: int,
        stem: Path,
        *,
        times: np.ndarray,
        x0: np.ndarray,
        x_is: np.ndarray,
        md_prop: np.ndarray,
        epot: np.ndarray,
        epot_is: np.ndarray,
        thermo: Thermo,
        n_iter: int,
    ) -> Path:
        """Write configuration ``index`` (``{stem}.npz`` arrays, ``{stem}.json`` metadata)."""
        s, ck, sim = self.s, self.ckpt, self.sim
        types = sim.types.astype(np.int8)
        path = Path(f"{stem}.npz")
        write_npz(
            path,
            types=types,
            initial_positions=x0,
            initial_positions_inherent=x_is,
            md_prop=md_prop.astype(np.float32),
            times=times,
            time_indices=np.arange(times.size),
            box=np.asarray(ck.meta["box"], dtype=np.float64),
            temperature=np.float64(s.T),
            epot=epot,
            epot_inherent=epot_is,
        )
        from interplay.glass.simulation._lammps import lammps_version  # noqa: PLC0415

        taus = [t for t in ck.meta["taus"][1:] if np.isfinite(t)]
        meta = {
            "format_version": FORMAT_VERSION,
            "model": "Kob-Andersen 80:20 LJ, eps AA/AB/BB 1/1.5/0.5, sigma 1/0.8/0.88, "
            "cutoff 2.5 sigma, shifted",
            "temperature": s.T,
            "density": s.density,
            "n_particles": s.n_particles,
            "index": index,
            "job": s.job,
            "seed": s.seed,
            "init_seed": derived_seed(s.seed, s.tag, s.job, "init"),
            "iso_seeds": [derived_seed(s.seed, s.tag, index, "iso", r) for r in range(s.n_runs)],
            "n_runs": s.n_runs,
            "dt": s.dt,
            "times": times.tolist(),
            "tau_alpha": float(np.mean(taus[-max(3, len(taus) // 2) :])),
            "tau_alpha_segments": ck.meta["taus"],
            "tau_alpha_k": K_PEAK,
            "equilibration_time": ck.meta["equil_time"],
            "equilibration_tau": ck.meta["equil_time"] / ck.meta["tau_equil"],
            "thermostat": f"Nose-Hoover NVT, Tdamp={s.thermostat_damp}",
            "pe_per_particle": float(epot.mean()),
            "pe_inherent_per_particle": float(epot_is.mean()),
            "pressure": thermo.pressure,
            "kinetic_temperature": thermo.temperature,
            "fire_iterations": n_iter,
            "lammps_version": lammps_version(),
            "wall_time_s": self._wall_before + (time.perf_counter() - self._t_start),
            "md_steps_job": self._steps_before + self.md_steps,
            "settings": self._portable_settings(stem),
        }
        write_json(Path(f"{stem}.json"), meta)
        log.info("wrote %s (tau_alpha=%.3f)", path, meta["tau_alpha"])
        return path
