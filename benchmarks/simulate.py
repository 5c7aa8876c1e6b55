"""Throughput of the KA pipeline vs raw LAMMPS on the same system, measured in one run.

    PYTHONPATH=src python benchmarks/simulate.py [--n 1000] [--runs 8] [--repeats 3]

Pipeline = the iso-configurational stage of ``interplay.glass.simulation._pipeline.Job`` for one
configuration (``n_runs`` NVE runs from fresh Maxwell-Boltzmann velocities, stopped at the 10
log-spaced grid times to record |dr|, a checkpoint written after every run). Raw = one LAMMPS
``run`` of the same total number of NVE steps on the same configuration in the same process.
Both report particle-steps per second; the ratio raw / pipeline - 1 is the overhead (target
<= 10 %). Repeats are interleaved so that machine load affects both alike; medians reported.
The FIRE quench and the energies of the configuration (not MD steps) are timed separately.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from interplay.glass.simulation import Job, KASimulation, SimulationSettings, box_length, ka_types


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--T", type=float, default=1.0)
    ap.add_argument("--t-max", type=float, default=3.15, help="end of the time grid (LJ)")
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = SimulationSettings(
            T=args.T, n_particles=args.n, n_runs=args.runs, t_max=args.t_max, tau_guess=1.0,
            equil_tau=1.0, equil_min_time=2.0, segment_tau=1.0, melt_time=2.0, out_dir=tmp,
            progress=False,
        )  # fmt: skip
        job = Job(settings)
        timings: dict[str, float] = {}
        original = Job._iso_and_write

        def timed_iso(self, index, stem):
            t0 = time.perf_counter()
            steps0 = self.md_steps
            out = original(self, index, stem)
            timings["wall"] = time.perf_counter() - t0
            timings["steps"] = self.md_steps - steps0
            return out

        Job._iso_and_write = timed_iso
        # quench/energies timed inside _iso_and_write: measure them alone afterwards
        pipeline, raw = [], []
        steps = None
        start = None
        for rep in range(args.repeats):
            job = Job(SimulationSettings(**{**settings.__dict__, "out_dir": f"{tmp}/r{rep}"}))
            job.run()
            path = Path(f"{tmp}/r{rep}") / f"T{settings.tag}" / "train"
            data = np.load(sorted(path.glob("*.npz"))[0])
            start = data["initial_positions"]
            # the quench + energies part of timed_iso is not MD: time it separately
            with KASimulation(ka_types(args.n), box_length(args.n)) as sim:
                sim.set_positions(start)
                t0 = time.perf_counter()
                sim.per_particle_energy()
                sim.thermo()
                sim.minimize_fire(settings.fire_ftol)
                sim.per_particle_energy()
                t_quench = time.perf_counter() - t0
            steps = timings["steps"]
            pipeline.append((timings["wall"] - t_quench, t_quench))
            # raw LAMMPS: same system, same number of NVE steps, one run command
            with KASimulation(ka_types(args.n), box_length(args.n)) as sim:
                sim.set_positions(start)
                sim.draw_velocities(args.T, 1)
                sim.set_integrator("nve")
                t0 = time.perf_counter()
                sim.run(steps)
                raw.append(time.perf_counter() - t0)
        Job._iso_and_write = original

    t_pipe = float(np.median([p[0] for p in pipeline]))
    t_quench = float(np.median([p[1] for p in pipeline]))
    t_raw = float(np.median(raw))
    ps = args.n * steps
    print(f"system: KA N={args.n} T={args.T} rho=1.2, {args.runs} iso runs to t={args.t_max}")
    print(f"MD steps per configuration: {steps}")
    print(f"raw LAMMPS      : {ps / t_raw:12.4g} particle-steps/s  ({t_raw:.2f} s)")
    print(f"pipeline (iso)  : {ps / t_pipe:12.4g} particle-steps/s  ({t_pipe:.2f} s)")
    ratio = t_raw / t_pipe
    print(f"ratio pipeline/raw throughput = {ratio:.3f}  (overhead {t_pipe / t_raw - 1:+.1%})")
    print(f"FIRE quench + energies per configuration: {t_quench:.2f} s (not MD steps)")


if __name__ == "__main__":
    main()
