"""KA data pipeline: equilibrate, measure τα, iso-configurational runs, inherent structures.

Entry point (Hydra, ``conf/simulate.yaml``; :func:`simulate_from_config` is its body)::

    interplay-simulate T=0.8 job=0
    interplay-simulate -m T=0.8,0.9,1.0 job=0,1,2 configs_per_job=10

Every (T, job) pair is an independent job (a SLURM array element with the submitit launcher):
it starts from its own random configuration (seeded by ``seed``, T and ``job``), melts it,
equilibrates it with a Nosé-Hoover NVT thermostat for ``equil_tau`` × τα (τα measured on the
fly from F_s(k = 7.25, t) = 1/e of the A particles, thesis §2.1.3), and then produces
``configs_per_job`` configurations ``spacing_tau`` × τα apart. For each configuration it runs
``n_runs`` iso-configurational NVE trajectories from fresh Maxwell-Boltzmann velocities (thesis
eq. 2.17: the propensity is the iso-average of |r_i(t) − r_i(0)|), quenches it to its inherent
structure with FIRE and stores the per-particle potential energies of both.

A job checkpoints after every equilibration segment and every iso-configurational run and
continues from there when restarted, bit-identically (the checkpoint holds a LAMMPS restart with
the thermostat state); all files are written atomically. Finished files are never replaced
without ``overwrite=true``, and rerunning a job with other settings is an error naming them
(:mod:`._state`). The default ``out_dir`` (``outputs/simulate/ka3d``) lies outside the committed
data.

The code is split in three modules, every public name importable from
:mod:`interplay.glass.simulation`: ``_settings`` (settings, seeds, Hydra parsing), ``_state``
(checkpoint, resume, output files: the base class of :class:`Job`) and this one (the MD stages
and the body of the entry point; the console script itself is :mod:`interplay.cli`).

Output (GlassBench layout, read by ``interplay.glass.data.load``)::

    out_dir/T{T}/{train,test}/N{N}T{T}_{i}.npz   types, initial_positions,
        initial_positions_inherent, md_prop (n_t, N), times, box, temperature, epot,
        epot_inherent, time_indices
    out_dir/T{T}/{train,test}/N{N}T{T}_{i}.json  metadata (T, rho, N, tau_alpha, seeds, LAMMPS
        version, wall time, ...)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from interplay.core import ConvergenceError
from interplay.glass.simulation._dynamics import (
    K_PEAK,
    log_time_grid,
    self_intermediate_scattering,
    tau_alpha,
)
from interplay.glass.simulation._lammps import KASimulation, box_length, ka_types
from interplay.glass.simulation._settings import (
    SimulationSettings,
    derived_seed,
    format_temperature,
    settings_from_cfg,
)
from interplay.glass.simulation._state import FORMAT_VERSION, Checkpoint, CheckpointedJob

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "Job",
    "SimulationSettings",
    "derived_seed",
    "format_temperature",
    "iso_run_displacements",
    "settings_from_cfg",
    "simulate_from_config",
]

log = logging.getLogger(__name__)


def iso_run_displacements(
    sim: KASimulation, x0: np.ndarray, T: float, seed: int, grid_steps: np.ndarray, run=None
) -> np.ndarray:
    """|r_i(t) - r_i(0)| (n_t, N) of one iso-configurational NVE run from ``x0`` (eq. 2.17).

    ``x0`` must lie in ``[0, L)`` (``KASimulation.positions()`` guarantees it): the run starts
    from ``set_positions(x0)``, which wraps, and displacements are measured from ``x0`` itself.
    ``run(steps, setup)`` integrates (default ``sim.run``; the pipeline passes its timed one).
    """
    run = run or sim.run
    sim.set_positions(x0)
    sim.draw_velocities(T, seed)
    sim.set_integrator("nve")
    disp = np.empty((len(grid_steps), x0.shape[0]))
    done = 0
    for k, n_steps in enumerate(grid_steps):
        run(int(n_steps) - done, setup=(k == 0))
        done = int(n_steps)
        disp[k] = np.linalg.norm(sim.unwrapped_fast() - x0, axis=1)
    return disp


# --------------------------------------------------------------------------------- the job
class Job(CheckpointedJob):
    """One (T, job) unit of the pipeline; ``run()`` is resumable."""

    # ------------------------------------------------------------------ helpers
    def _run(self, steps: int, setup: bool = True) -> None:
        t0 = time.perf_counter()
        self.sim.run(steps, setup=setup)
        self.md_seconds += time.perf_counter() - t0
        self.md_steps += int(steps)

    def _segment_fs(self, length: float) -> tuple[float, np.ndarray, np.ndarray]:
        """NVT for ``length``; F_s of the A particles from the segment start; returns τα."""
        sim, s = self.sim, self.s
        times = log_time_grid(s.dt, length, 24, s.dt)
        start = sim.positions(unwrapped=True)
        a = sim.types == 0
        done, fs = 0, []
        for k, t in enumerate(times):
            steps = sim.steps(t) - done
            self._run(steps, setup=(k == 0))
            done += steps
            fs.append(self_intermediate_scattering((sim.unwrapped_fast() - start)[a]))
        fs = np.array(fs)
        return tau_alpha(times, fs), times, fs

    def time_grid(self, tau: float) -> np.ndarray:
        s = self.s
        t_max = s.fixed_t_max()
        if t_max is None:
            t_max = s.t_max_tau * tau  # the job's own τα
        return log_time_grid(s.t_min, t_max, s.n_times, s.dt)

    # ------------------------------------------------------------------ stages
    def _start(self) -> None:
        s, ck = self.s, self.ckpt
        rng = np.random.default_rng(derived_seed(s.seed, s.tag, s.job, "init"))
        L = box_length(s.n_particles, s.density)
        types = ka_types(s.n_particles)
        self.sim = KASimulation(types, L, dt=s.dt)
        self.sim.set_positions(rng.uniform(0.0, L, (s.n_particles, 3)))
        self.sim.remove_overlaps()
        self.sim.draw_velocities(s.melt_T, derived_seed(s.seed, s.tag, s.job, "melt"))
        self.sim.set_integrator("nvt", s.melt_T, s.thermostat_damp)
        self._run(self.sim.steps(s.melt_time))
        self.sim.set_integrator("none")  # the T-thermostat of _equilibrate starts afresh
        ck.meta = {
            "stage": "equilibrate",
            "equil_time": 0.0,
            "taus": [],
            "config": 0,
            "runs_done": 0,
            "box": [L] * 3,
            "wall_time": 0.0,
            "md_steps": 0,
        }
        self._save_state()

    def current_tau(self) -> float:
        # the first segment follows the melt (aging): never trust it once others exist
        taus = [t for t in self.ckpt.meta["taus"][1:] if np.isfinite(t)]
        if not taus:
            return float("nan")
        return float(np.median(taus[-3:]))

    def _equilibrate(self) -> None:
        s, ck = self.s, self.ckpt
        self.sim.set_integrator("nvt", s.T, s.thermostat_damp)
        guess = s.tau_guess or s.reference_tau() or 1.0
        while True:
            tau = self.current_tau()
            if not np.isfinite(tau):
                tau = guess
            n_seg = len(ck.meta["taus"])
            if (
                n_seg >= 4
                and ck.meta["equil_time"] >= s.equil_tau * tau
                and ck.meta["equil_time"] >= s.equil_min_time
            ):
                break
            length = max(s.segment_tau * tau, 2.0)
            t_seg, _, _ = self._segment_fs(length)
            if not np.isfinite(t_seg):  # no decay within the segment: τα is longer
                guess = 2.0 * length / s.segment_tau
                ck.meta["taus"].append(float("nan"))
            else:
                ck.meta["taus"].append(t_seg)
            ck.meta["equil_time"] += float(length)
            if n_seg > 200:
                raise ConvergenceError(
                    f"T={s.T}: F_s(k={K_PEAK}) did not decay after {ck.meta['equil_time']:.0f} "
                    "time units: this temperature is out of reach of plain MD at this budget"
                )
            log.info(
                "T=%s job %d: equilibration %.1f / %.1f, tau_alpha(segment)=%.3f",
                s.tag,
                s.job,
                ck.meta["equil_time"],
                s.equil_tau * self.current_tau(),
                t_seg,
            )
            self._save_state()
        ck.meta["stage"] = "produce"
        ck.meta["tau_equil"] = self.current_tau()
        self._save_state()

    def _produce(self) -> list[Path]:
        s, ck, sim = self.s, self.ckpt, self.sim
        written: list[Path] = []
        while ck.meta["config"] < s.configs_per_job:
            c = ck.meta["config"]
            index = s.job * s.configs_per_job + c
            stem = self.file_stem(index)
            if ck.meta["stage"] == "produce":
                if c > 0 and not ck.meta.get("spaced", False):
                    sim.set_integrator("nvt", s.T, s.thermostat_damp)
                    t_seg, _, _ = self._segment_fs(s.spacing_tau * self.current_tau())
                    ck.meta["taus"].append(t_seg)
                    ck.meta["spaced"] = True
                    self._save_state()
                x0, v0 = sim.positions(), sim.velocities()
                ck.meta.update(stage="iso", runs_done=0)
                times = self.time_grid(ck.meta["tau_equil"])
                ck.meta["times"] = times.tolist()
                self._save_state(
                    {"x0": x0, "v0": v0, "disp_sum": np.zeros((times.size, s.n_particles))}
                )
            written.append(self._iso_and_write(index, stem))
            ck.meta.update(stage="produce", config=c + 1, spaced=False)
            self._save_state()
        ck.meta["stage"] = "done"
        self._save_state()
        return written

    def _iso_and_write(self, index: int, stem: Path) -> Path:
        s, ck, sim = self.s, self.ckpt, self.sim
        x0, v0 = ck.arrays["x0"], ck.arrays["v0"]
        disp_sum = ck.arrays["disp_sum"]
        times = np.array(ck.meta["times"])
        grid_steps = np.rint(times / s.dt).astype(np.int64)
        iterator = range(ck.meta["runs_done"], s.n_runs)
        if s.progress:
            from tqdm import tqdm

            iterator = tqdm(
                iterator,
                initial=ck.meta["runs_done"],
                total=s.n_runs,
                mininterval=5.0,
                desc=f"T={s.tag} config {index} iso-runs",
                leave=False,
            )
        for r in iterator:
            disp_sum += iso_run_displacements(
                sim, x0, s.T, derived_seed(s.seed, s.tag, index, "iso", r), grid_steps, self._run
            )
            ck.meta["runs_done"] = r + 1
            sim.set_positions(x0, v0)
            self._save_state({"x0": x0, "v0": v0, "disp_sum": disp_sum})

        # inherent structure (FIRE) and per-particle energies, thermal and IS
        sim.set_positions(x0, v0)
        epot = sim.per_particle_energy()
        thermo = sim.thermo()
        n_iter = sim.minimize_fire(s.fire_ftol)
        x_is = sim.positions()
        epot_is = sim.per_particle_energy()
        sim.set_positions(x0, v0)

        md_prop = disp_sum / s.n_runs
        return self._write_configuration(
            index,
            stem,
            times=times,
            x0=x0,
            x_is=x_is,
            md_prop=md_prop,
            epot=epot,
            epot_is=epot_is,
            thermo=thermo,
            n_iter=n_iter,
        )

    def run(self) -> list[Path]:
        """Run (or resume) the job; returns the configuration files written by this call."""
        self._t_start = time.perf_counter()
        state = self._open_state()  # ConfigError on other settings / unprotected files
        resumed = state == "resume"
        self._wall_before = float(self.ckpt.meta.get("wall_time", 0.0)) if resumed else 0.0
        self._steps_before = int(self.ckpt.meta.get("md_steps", 0)) if resumed else 0
        if state == "done":
            log.info("T=%s job %d already done", self.s.tag, self.s.job)
            return []
        if resumed:
            log.info(
                "resuming T=%s job %d at stage %s", self.s.tag, self.s.job, self.ckpt.meta["stage"]
            )
        try:
            if resumed:
                self._restore()
            else:
                self._start()
            if self.ckpt.meta["stage"] == "equilibrate":
                self._equilibrate()
            return self._produce()
        finally:
            if self.sim is not None:  # None when building it failed
                self.sim.close()


def simulate_from_config(cfg: Any) -> list[Path]:
    """Body of ``interplay-simulate``: one (T, job) pair of ``conf/simulate.yaml`` run (or
    resumed) to the end; returns the configuration files written by this call."""
    from hydra.utils import to_absolute_path

    settings = settings_from_cfg(cfg)
    settings.out_dir = to_absolute_path(settings.out_dir)
    return Job(settings).run()
