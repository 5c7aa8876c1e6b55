"""ρ* (the ρ_train that maximises a test metric) of an SGD sweep over data.rho_train, with a
bootstrap interval over resamplings (issue 19, item 3; thesis Fig. 1.9-left).

    python scripts/experiments/rho_star.py MULTIRUN_DIR [MORE_DIRS ...] [--metric ...]

Every job of the sweep trains the same K resamplings (same seed: same teachers, same SGD
initialisation) at its ρ_train, so resampling k forms one curve across ρ_train. ρ* is the
vertex of a least-squares parabola through the mean curve; the 68% / 95% intervals come from
resampling whole curves (rows k) with replacement, which keeps that pairing (the paired noise
cancels in the curve's shape). Prints one line per ρ_train and the estimate.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


def curves(sweeps: list[Path], metric: str) -> pd.DataFrame:
    """(resampling × ρ_train) table of ``metric`` from every job's records.csv."""
    cols = {}
    for records in sorted(r for sweep in sweeps for r in sweep.glob("*/records.csv")):
        overrides = yaml.safe_load((records.parent / ".hydra" / "overrides.yaml").read_text())
        rho = float(next(o.split("=", 1)[1] for o in overrides if o.startswith("data.rho_train=")))
        cols[rho] = pd.read_csv(records).set_index("resampling")[metric]
    if len(cols) < 3:
        raise SystemExit(f"{sweeps}: need >= 3 finished jobs with records.csv, found {len(cols)}")
    return pd.DataFrame(cols).sort_index(axis=1).dropna()


def vertex(rhos: np.ndarray, values: np.ndarray) -> float:
    """Argmax of the least-squares parabola through (rhos, values); NaN if it opens upwards."""
    c2, c1, _ = np.polyfit(rhos, values, 2)
    return float(-c1 / (2 * c2)) if c2 < 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", type=Path, nargs="+", help="multirun dirs (same seed, K)")
    parser.add_argument("--metric", default="test/balanced_accuracy")
    parser.add_argument("--n-boot", type=int, default=4000)
    args = parser.parse_args()
    table = curves(args.sweeps, args.metric)
    rhos, values = table.columns.to_numpy(float), table.to_numpy()
    sem = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    for rho, mean, s in zip(rhos, values.mean(axis=0), sem, strict=True):
        print(f"rho_train={rho:.3f}  {args.metric}={mean:.5f} +- {s:.5f}")
    rng = np.random.default_rng(0)
    boots = np.array(
        [
            vertex(rhos, values[rng.integers(0, len(values), len(values))].mean(axis=0))
            for _ in range(args.n_boot)
        ]
    )
    ok = boots[np.isfinite(boots)]
    lo68, hi68, lo95, hi95 = np.percentile(ok, [16, 84, 2.5, 97.5])
    est = vertex(rhos, values.mean(axis=0))
    print(
        f"rho* = {est:.4f}  68%: [{lo68:.4f}, {hi68:.4f}]  95%: [{lo95:.4f}, {hi95:.4f}]  "
        f"(K = {len(values)} resamplings, {len(rhos)} rho_train, "
        f"{1 - len(ok) / len(boots):.1%} bootstrap curves without a maximum; "
        f"P(rho* > 0.5) = {np.mean(ok > 0.5):.3f})"
    )


if __name__ == "__main__":
    main()
