"""Helpers shared by every test: project paths, the real data in ../shared/data, Hydra config
composition the way train.py does it, running the entry points as real processes, random
periodic KA-like configurations and graphs, and the SE(3) equivariance check.

Heavy imports (torch, e3nn, the glass package) happen inside the glass helpers, so that the
imbalance tests, which import this module too, do not pay for them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

if TYPE_CHECKING:
    import torch
    from torch_geometric.data import Data

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
EMBEDDED_KA3D = ROOT / "data" / "ka3d"
SHARED_DATA = ROOT.parent / "shared" / "data"
BOTAN = SHARED_DATA / "botan_T0.44"
BAPST = SHARED_DATA / "bapst_testdata"


def compose_config(
    overrides: list[str] | None = None, config_name: str = "train", output_dir: Path | None = None
) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with overrides, with a usable ``paths.output_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name, overrides=overrides or [], return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
    if output_dir is not None and "paths" in cfg:
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir)
    return cfg


def run_script(args: list[str], cwd: Path = ROOT, timeout: int = 300, env: dict | None = None):
    """Run ``python <args>`` from the project root; fail the test with its output on error."""
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"python {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc


# ------------------------------------------------------------------ random KA-like graphs
KA_DENSITY = 1.2  # number density of the KA datasets (thesis §2.4.1)
KA_FRACTION_B = 0.2  # the 80:20 Kob-Andersen mixture: 20 % B particles (type 1)


def random_ka_configuration(
    n: int = 80, seed: int = 0, density: float = KA_DENSITY
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` uniformly random particles (not a liquid: overlaps allowed) at number density
    ``density`` in a cubic periodic box, exactly ``round(0.2 n)`` of type 1 at random indices.

    Returns ``(positions (n, 3) in [0, L), types (n,) int64, box (3,))``. The box must exceed
    twice the graph cutoff (2.0): at density 1.2 that means ``n >= 78``.
    """
    rng = np.random.default_rng(seed)
    box = np.full(3, (n / density) ** (1 / 3))
    positions = rng.random((n, 3)) * box
    types = np.zeros(n, dtype=np.int64)
    types[rng.permutation(n)[: round(KA_FRACTION_B * n)]] = 1
    return positions, types, box


def ka_graph(
    positions: np.ndarray,
    types: np.ndarray,
    box: np.ndarray,
    dtype: torch.dtype | None = None,
    **build_kwargs: Any,
) -> Data:
    """The package's own graph (:func:`interplay.glass.data.build_graph`), its floating-point
    tensors cast to ``dtype`` (build_graph stores float32; the equivariance tests run in
    float64, where the rotation errors are not hidden by float32 round-off)."""
    from interplay.glass.data import build_graph

    graph = build_graph(positions, types, box, **build_kwargs)
    if dtype is not None:
        for key in ("x", "pos", "box", "edge_vec", "y"):
            if key in graph:
                graph[key] = graph[key].to(dtype)
    return graph


def random_ka_graph(
    n: int = 80, seed: int = 0, dtype: torch.dtype | None = None, **build_kwargs: Any
) -> Data:
    """:func:`ka_graph` of :func:`random_ka_configuration` (``build_kwargs``: y, node_scalar,
    cutoff)."""
    return ka_graph(*random_ka_configuration(n, seed), dtype=dtype, **build_kwargs)


# ------------------------------------------------------------------ SE(3) equivariance
def assert_se3_equivariant(
    func: Any,
    args_in: list[torch.Tensor],
    irreps_in: list[Any],
    irreps_out: Any,
    tolerance: float,
    ntrials: int = 3,
) -> dict:
    """e3nn's :func:`e3nn.util.test.assert_equivariant` for the SE(3) networks of thesis
    §2.4.2: proper rotations only (``do_parity=False``: the spherical harmonics are labelled
    even, eq. 2.62, so the layers are not O(3)-equivariant) and no translation (the inputs
    are edge vectors r_j - r_i: pass them as ``"cartesian_points"``, which rotates them as
    Cartesian vectors; ``None`` leaves an input unchanged).

    ``tolerance`` bounds the largest componentwise error ``|f(R x) - D(R) f(x)|`` over
    ``ntrials`` random rotations (torch's global RNG: seed it for a reproducible test).
    """
    from e3nn.util.test import assert_equivariant

    __tracebackhide__ = True
    return assert_equivariant(
        func,
        args_in=args_in,
        irreps_in=irreps_in,
        irreps_out=irreps_out,
        tolerance=tolerance,
        ntrials=ntrials,
        do_parity=False,
        do_translation=False,
    )


# ------------------------------------------------------------------ data providers on loopback
class LoopbackServer:
    """An HTTP server on 127.0.0.1 (a free port) standing in for the data providers: it serves
    ``routes`` (URL path, optionally with its query -> bytes; dicts / lists as JSON), honours
    ``Range: bytes=N-`` (206), and cuts each path of ``cut_once`` half-way through its body the
    first time it is asked for (an interrupted download). ``requests`` logs ``(path, range)``.
    Point the registry at it with ``INTERPLAY_DATA_MIRROR=server.url``; no test contacts any
    other host. Use as a context manager (started and stopped by the test)."""

    def __init__(self, port: int = 0) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.routes: dict[str, Any] = {}
        self.cut_once: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                import json

                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                body = server.routes.get(self.path, server.routes.get(self.path.split("?")[0]))
                if body is None:
                    self.send_error(404)
                    return
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body) - start))
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                if self.path in server.cut_once:  # half the body, then hang up
                    server.cut_once.discard(self.path)
                    self.wfile.write(body[start : start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def glassbench_archive(
    T: float = 0.44, n_train: int = 4, n_test: int = 2, n: int = 200, top: str = "KA3D"
) -> bytes:
    """A synthetic GlassBench archive (tar.gz) in the provider's layout
    ``<top>/T{T}/{train,test}/N{n}T{T}_{i}.npz``: non-overlapping positions at density 1.2,
    80:20 types, propensities (10, n) growing with the time index; test files numbered after
    the training ones, as GlassBench does."""
    import io
    import tarfile

    rng = np.random.default_rng(0)
    box = (n / KA_DENSITY) ** (1 / 3)
    m = int(np.ceil(n ** (1 / 3)))
    sites = np.stack(np.meshgrid(*[np.arange(m)] * 3, indexing="ij"), -1).reshape(-1, 3)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for i in range(1, n_train + n_test + 1):
            pos = sites[rng.permutation(len(sites))[:n]] + 0.5 + rng.uniform(-0.2, 0.2, (n, 3))
            pos *= box / m
            types = np.zeros(n, np.int64)
            types[rng.permutation(n)[: round(KA_FRACTION_B * n)]] = 1
            prop = np.sort(rng.uniform(0.05, 3.0, (10, n)), axis=0)
            npz = io.BytesIO()
            np.savez(npz, types=types, initial_positions=pos, initial_positions_inherent=pos,
                     md_prop=prop)  # fmt: skip
            split = "train" if i <= n_train else "test"
            info = tarfile.TarInfo(f"{top}/T{T}/{split}/N{n}T{T}_{i}.npz")
            info.size = len(npz.getvalue())
            tar.addfile(info, io.BytesIO(npz.getvalue()))
    return buffer.getvalue()
