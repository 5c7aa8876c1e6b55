"""Periodic neighbour lists: the project's numpy cell list vs ``vesin`` (issue #16, item 3).

    PYTHONPATH=src python benchmarks/neighbors.py                 # N = 4096 and 32,768
    PYTHONPATH=src python benchmarks/neighbors.py --n 4096 --repeats 7

Random positions at the Kob-Andersen number density 1.2 in a periodic cubic box, cutoff
d_c = 2.0 (the graph cutoff of the thesis, §2.4.1). Each backend of
``interplay.glass.data.periodic_neighbor_list`` (``cells``, ``vesin``) is timed ``--repeats``
times, alternating between backends so that machine load affects both alike; the table gives
median and min-max wall time, and checks that both return the same edges and vectors.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from interplay.glass.data import periodic_neighbor_list


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[4096, 32768])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cutoff", type=float, default=2.0)
    ap.add_argument("--backends", nargs="+", default=["cells", "vesin"])
    args = ap.parse_args()
    print(f"# periodic neighbour list, density 1.2, cutoff {args.cutoff}, {args.repeats} repeats")
    print(
        f"{'N':>6} {'edges':>9} | "
        + " | ".join(f"{b + ' median [min, max]':>28}" for b in args.backends)
        + " | ratio | same"
    )
    for n in args.n:
        rng = np.random.default_rng(0)
        box = (n / 1.2) ** (1 / 3)
        x = rng.random((n, 3)) * box
        times = {b: [] for b in args.backends}
        res = {}
        for _ in range(args.repeats):
            for b in args.backends:
                t0 = time.perf_counter()
                res[b] = periodic_neighbor_list(x, box, args.cutoff, backend=b)
                times[b].append(time.perf_counter() - t0)
        ref = res[args.backends[0]]
        same = all(
            np.array_equal(r[0], ref[0]) and np.allclose(r[1], ref[1], atol=1e-12)
            for r in res.values()
        )
        med = {b: float(np.median(t)) for b, t in times.items()}
        cols = " | ".join(
            f"{med[b] * 1e3:9.1f} ms [{min(t) * 1e3:6.1f}, {max(t) * 1e3:6.1f}]"
            for b, t in times.items()
        )
        ratio = med[args.backends[0]] / med[args.backends[-1]]
        print(f"{n:>6} {ref[0].shape[1]:>9} | {cols} | {ratio:4.1f}x | {same}", flush=True)


if __name__ == "__main__":
    main()
