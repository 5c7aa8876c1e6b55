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
