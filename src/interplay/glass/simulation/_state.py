"""Persistence side of the KA pipeline: job checkpoint, resume and the configuration files.

:class:`CheckpointedJob` is the base of :class:`~._pipeline.Job` (which adds the MD
stages and ``run()``): it owns the settings, the output paths and the checkpoint (saved after
every equilibration segment and every iso-configurational run, restored on restart) and writes
a finished configuration as ``{stem}.npz`` + ``{stem}.json`` (GlassBench layout, see
:mod:`._pipeline`), all atomically.

Two guarantees (issue 13, items 3 and 4):

* **Nothing finished is lost.** A configuration is finished once its ``.json`` exists (it is
  written after the ``.npz``). Finished files are never replaced unless ``overwrite=true``; a
  job whose checkpoint or files were made with other settings is refused with a
  :class:`~interplay.core.ConfigError` naming the differing keys (see :meth:`_open_state`).
* **Resume is exact.** The checkpoint holds a LAMMPS binary restart (positions, velocities,
  image flags, step count and the Nosé-Hoover variables of ``fix nvt``), so a job killed at any
  point and resumed writes the same bytes as an uninterrupted one (tested bitwise).
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

from interplay.core import ConfigError, write_json, write_npz
from interplay.glass.simulation._dynamics import K_PEAK, log_time_grid
from interplay.glass.simulation._lammps import KASimulation, Thermo, ka_types, lammps_version
from interplay.glass.simulation._settings import (
    SimulationSettings,
    derived_seed,
    job_identity,
    settings_differences,
)

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

    def indices(self) -> range:
        """The configuration indices this job produces."""
        return range(self.s.job * self.s.configs_per_job, (self.s.job + 1) * self.s.configs_per_job)

    def _save_state(self, extra: dict[str, np.ndarray] | None = None) -> None:
        ck = self.ckpt
        ck.arrays = dict(extra or {})
        ck.arrays["restart"] = np.frombuffer(self.sim.restart_state(), dtype=np.uint8)
        ck.meta["settings"] = job_identity(self.s)
        ck.meta["wall_time"] = self._wall_before + (time.perf_counter() - self._t_start)
        ck.meta["md_steps"] = self._steps_before + self.md_steps
        ck.save()

    def _restore(self) -> None:
        """Continue from the checkpoint's LAMMPS restart (bit-identical continuation).

        The restart carries the thermostat state of the fix current at the save; the stages are
        arranged so that the next ``set_integrator`` call after a restore is the one an
        uninterrupted job would still be running (mid-equilibration: ``nvt`` at T, restored) or
        a fresh one (after the melt and after a configuration, no fix is saved).
        """
        s, ck = self.s, self.ckpt
        self.sim = KASimulation.from_restart(
            ck.arrays["restart"].tobytes(), ka_types(s.n_particles), np.array(ck.meta["box"]), s.dt
        )

    # ----------------------------------------------------------------------------- guards
    def _refuse(self, what: str, differences: list[str]) -> ConfigError:
        return ConfigError(
            f"T={self.s.tag} job {self.s.job} in {self.out}: {what} was made with other "
            f"settings ({'; '.join(differences)}). Rerun with the stored values to resume or "
            "keep it, choose another out_dir for the new settings, or pass overwrite=true to "
            "discard this job and recompute it (its configuration files are then replaced)."
        )

    def _open_state(self) -> str:
        """``"resume"``, ``"done"`` or ``"new"``; raises ``ConfigError`` rather than let a run
        silently skip, mix or replace the results of other settings."""
        s, ck = self.s, self.ckpt
        if ck.load():
            stored = ck.meta.get("settings")
            if stored is None or "restart" not in ck.arrays:
                if not s.overwrite:
                    raise ConfigError(
                        f"{ck.path}: job state of an older pipeline version (no LAMMPS restart, "
                        "no settings): it cannot be resumed exactly. Finish the job with that "
                        "version, or pass overwrite=true to restart it from scratch."
                    )
            else:
                differences = settings_differences(stored, job_identity(s))
                if differences and not s.overwrite:
                    raise self._refuse(f"the job state {ck.path.name}", differences)
                if ck.meta["stage"] != "done" and not differences:
                    return "resume"
                if ck.meta["stage"] == "done" and not s.overwrite:
                    missing = [
                        i for i in self.indices() if not Path(f"{self.file_stem(i)}.json").exists()
                    ]
                    if missing:
                        log.warning(
                            "job done but configurations %s are missing: rerun with "
                            "overwrite=true to recompute them",
                            missing,
                        )
                    return "done"
            log.warning("overwrite=true: discarding the job state %s", ck.path)
            ck.meta, ck.arrays = {}, {}
            return "new"
        return self._check_outputs_free()

    def _check_outputs_free(self) -> str:
        """No checkpoint: ``"new"`` if none of the job's files exist (or ``overwrite=true``),
        ``"done"`` if all exist with the same settings; otherwise refuse."""
        stems = [self.file_stem(i) for i in self.indices()]
        existing = [
            p for st in stems for p in (Path(f"{st}.npz"), Path(f"{st}.json")) if p.exists()
        ]
        if not existing or self.s.overwrite:
            if existing:
                log.warning("overwrite=true: replacing %d existing files", len(existing))
            return "new"
        for st in stems:
            differences = self._file_differences(st)
            if differences:
                raise self._refuse(f"{Path(f'{st}.json').name}", differences)
        if all(Path(f"{st}.npz").exists() and Path(f"{st}.json").exists() for st in stems):
            log.info("T=%s job %d: all its files exist (same settings)", self.s.tag, self.s.job)
            return "done"
        raise ConfigError(
            f"T={self.s.tag} job {self.s.job}: {len(existing)} of its files exist in {self.out} "
            f"({', '.join(sorted(p.name for p in existing))}) but its job state "
            f"{self.ckpt.path} does not (deleted?). Finished files are never replaced: pass "
            "overwrite=true to recompute the whole job, or choose another out_dir."
        )

    def _file_differences(self, stem: Path) -> list[str]:
        """Differing settings of the finished configuration ``stem`` ([] if it is not finished
        or was made by this job with these settings)."""
        meta_path = Path(f"{stem}.json")
        if not meta_path.exists():
            return []
        meta = json.loads(meta_path.read_text())
        differences = settings_differences(meta.get("settings", {}), self._portable_settings(stem))
        # the reference τα is not in the file's settings: compare the time grid it fixes
        t_max = self.s.fixed_t_max()
        if t_max is not None and "times" in meta:
            grid = log_time_grid(self.s.t_min, t_max, self.s.n_times, self.s.dt)
            stored = np.asarray(meta["times"], dtype=float)
            if stored.shape != grid.shape or not np.allclose(stored, grid, rtol=1e-9, atol=0):
                differences.append(f"times: {stored.tolist()} -> {grid.tolist()}")
        return differences

    def _portable_settings(self, stem: Path) -> dict[str, Any]:
        """The settings as stored in a configuration's metadata, free of machine paths.

        ``out_dir`` is absolute while the job runs (the entry point resolves it against the
        launch directory); the metadata keeps it relative to the file itself (``"../.."``, the
        dataset root), so a committed or copied dataset carries no path of the machine that
        produced it.
        """
        settings = {
            k: v for k, v in asdict(self.s).items() if k not in ("tau_alpha_ref", "overwrite")
        }
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
        """Write configuration ``index`` (``{stem}.npz`` arrays, then ``{stem}.json`` metadata).

        A finished file (its ``.json`` exists) is only replaced with ``overwrite=true``; one
        made by this very job (same settings) is kept as it is: it was written just before an
        interruption, from the same state.
        """
        s, ck, sim = self.s, self.ckpt, self.sim
        types = sim.types.astype(np.int8)
        path = Path(f"{stem}.npz")
        if not s.overwrite and Path(f"{stem}.json").exists():
            differences = self._file_differences(stem)
            if differences:
                raise self._refuse(f"{stem.name}.json", differences)
            log.info("kept %s (written before an interruption)", path)
            return path
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
