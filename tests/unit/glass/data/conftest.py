"""Fixtures of the glass-data tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _lattice_positions(rng: np.random.Generator, n: int, box: float) -> np.ndarray:
    """``n`` positions in a cubic box with no pair closer than ~0.6 box/n^(1/3): a jittered
    cubic lattice, so that fake data passes the closest-pair check like real KA data."""
    m = int(np.ceil(n ** (1 / 3)))
    a = box / m
    sites = np.stack(np.meshgrid(*[np.arange(m)] * 3, indexing="ij"), -1).reshape(-1, 3)
    sites = sites[rng.permutation(len(sites))[:n]]
    return (sites + 0.5 + rng.uniform(-0.2, 0.2, (n, 3))) * a


@pytest.fixture
def lattice_positions() -> Callable[[np.random.Generator, int, float], np.ndarray]:
    """Factory ``(rng, n, box) -> (n, 3)`` of non-overlapping positions in [0, box)."""
    return _lattice_positions
