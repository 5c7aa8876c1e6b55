"""Vectorised resamplings vs one Hydra job per resampling (joblib launcher), one run.

Both run the same work -- K quenched resamplings of the teacher-student perceptron, E epochs
each -- through the real entry point ``train.py``:

* vectorised: one job, ``data.n_resamplings=K`` (the K students share every matmul);
* multirun:   K jobs of one resampling each, ``-m hydra/launcher=parallel`` (joblib, 2 procs).

    python benchmarks/perceptron_sweep.py [--n 500] [--k 8] [--epochs 50]

Prints the wall times and, last, ``speedup vectorised/joblib: <ratio>x``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "train.py", *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="input dimension N")
    parser.add_argument("--k", type=int, default=8, help="resamplings K")
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    common = [
        "data=teacher_student",
        "model=perceptron",
        f"data.N={args.n}",
        "data.n_test=2000",
        f"trainer.max_epochs={args.epochs}",
        "trainer.enable_progress_bar=false",
        "callbacks=none",
        "logger=csv",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        vectorised = timed([*common, f"data.n_resamplings={args.k}", f"hydra.run.dir={tmp}/vec"])
        seeds = ",".join(str(s) for s in range(args.k))
        multirun = timed(
            [
                "-m",
                *common,
                "data.n_resamplings=1",
                f"seed={seeds}",
                "hydra/launcher=parallel",
                f"hydra.sweep.dir={tmp}/multi",
            ]
        )
    print(f"N={args.n} K={args.k} epochs={args.epochs} (alpha=2, BS=20)")
    print(f"vectorised, one job            : {vectorised:8.1f} s")
    print(f"joblib multirun, {args.k} jobs x 1  : {multirun:8.1f} s")
    print(f"speedup vectorised/joblib: {multirun / vectorised:.2f}x")


if __name__ == "__main__":
    main()
