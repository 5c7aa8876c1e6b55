"""Serve stand-ins for the data providers on 127.0.0.1 until interrupted, to try the fetch path
and the headline command end to end without internet (what the tests do, by hand):

    python scripts/serve_fake_providers.py --port 8765 &
    export INTERPLAY_DATA_MIRROR=http://127.0.0.1:8765 INTERPLAY_DATA=/tmp/interplay-data
    interplay-data fetch glassbench 0.44
    python train.py model=se3gnn data.T=0.44

It serves a Zenodo-like record listing (md5 per file) with a synthetic GlassBench archive at
T = 0.44 in the provider's layout (``KA3D/T0.44/{train,test}/N{n}T0.44_{i}.npz``; synthetic
positions and propensities: the run exercises the code path, its Pearson means nothing) and,
when ../shared/data exists, the pyg_botan sample files (``interplay-data fetch shiba``; test
files 404 and 405, absent from the local copy, are served as copies of 401 and 402).
Nothing here contacts any host; the server binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import BOTAN, LoopbackServer, glassbench_archive  # noqa: E402

from interplay.glass.data import DATASETS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--n", type=int, default=200, help="particles per synthetic config")
    parser.add_argument("--train", type=int, default=8, help="synthetic training configs")
    parser.add_argument("--test", type=int, default=2, help="synthetic test configs")
    args = parser.parse_args()

    archive = glassbench_archive(n_train=args.train, n_test=args.test, n=args.n)
    record, key = f"/api/records/{DATASETS['glassbench'].prefix}", "KA3D_T0.44.tar.gz"
    md5 = "md5:" + hashlib.md5(archive).hexdigest()
    with LoopbackServer(port=args.port) as server:
        server.routes[record] = {"files": [{"key": key, "size": len(archive), "checksum": md5}]}
        server.routes[f"{record}/files/{key}/content"] = archive
        shiba = DATASETS["shiba"]
        for rel in shiba.files:  # test 404 / 405 are not in the local copy: 401 / 402 stand in
            path = BOTAN / rel.replace("_404_", "_401_").replace("_405_", "_402_")
            if path.is_file():
                server.routes[f"/{shiba.prefix}/T0.44/{rel}"] = path.read_bytes()
        print(f"serving on {server.url} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
