"""Write the labels' split-half propensities beside configurations made by interplay-simulate.

    python scripts/replay_halves.py data/ka3d/T0.8/test/*.npz data/ka3d/T0.9/test/*.npz ...

Each file's 32 iso-configurational runs are re-run from its recorded positions and seeds
(``interplay.glass.simulation.write_propensity_halves``); their mean must reproduce the stored
``md_prop`` or nothing is written. Output: ``<stem>.halves.npy`` (the reader picks it up, and
``test/ceiling_A`` becomes measurable). Existing outputs are skipped, never overwritten.
"""

from __future__ import annotations

import argparse
import logging

from interplay.glass.simulation import halves_path, write_propensity_halves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="configuration .npz files (with their .json)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in args.files:
        if halves_path(path).exists():
            print(f"skip {path}: {halves_path(path).name} exists")
            continue
        print(f"wrote {write_propensity_halves(path, progress=True)}", flush=True)


if __name__ == "__main__":
    main()
