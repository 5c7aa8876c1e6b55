"""Periodic neighbour lists and the glass graph ``Data`` (docs/CONVENTIONS.md).

:func:`periodic_neighbor_list` is an O(N) cell list, fully vectorised in numpy (no Python loop
over particles): particles are binned into cells of edge ≥ cutoff, and every particle is
compared with the particles of the 27 surrounding cells under the minimum image convention.
torch_geometric's ``radius_graph`` is not used: it has no periodic boundaries and caps the
number of neighbours (32 by default).

Graph (thesis §2.4.1): nodes = particles, directed edges j → i for every pair closer than
``d_c = 2.0``; edge attribute ``r_j − r_i`` (minimum image).
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from interplay.core import ConfigError

DEFAULT_CUTOFF = 2.0

_OFFSETS = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=np.int64)  # (27, 3)


def _as_box(box: float | np.ndarray) -> np.ndarray:
    box = np.broadcast_to(np.asarray(box, dtype=np.float64).reshape(-1), (3,)).copy()
    if not (np.isfinite(box).all() and (box > 0).all()):
        raise ConfigError(f"box must be 3 positive lengths, got {box}")
    return box


def _check_cutoff(cutoff: float, box: np.ndarray) -> None:
    if not cutoff > 0:
        raise ConfigError(f"cutoff must be > 0, got {cutoff}")
    if cutoff > 0.5 * box.min():
        raise ConfigError(
            f"cutoff {cutoff} exceeds half the smallest box edge ({0.5 * box.min():.4g}): the "
            "minimum-image convention would miss periodic images; use a larger system"
        )


def _minimum_image(d: np.ndarray, box: np.ndarray) -> np.ndarray:
    return d - box * np.round(d / box)


def brute_force_neighbor_list(
    positions: np.ndarray, box: float | np.ndarray, cutoff: float = DEFAULT_CUTOFF
) -> tuple[np.ndarray, np.ndarray]:
    """O(N²) reference: same output convention as :func:`periodic_neighbor_list`."""
    box = _as_box(box)
    _check_cutoff(cutoff, box)
    x = np.asarray(positions, dtype=np.float64)
    d = _minimum_image(x[None, :, :] - x[:, None, :], box)  # d[i, j] = r_j - r_i
    r2 = (d**2).sum(-1)
    np.fill_diagonal(r2, np.inf)
    i, j = np.nonzero(r2 < cutoff * cutoff)
    return np.stack([j, i]), d[i, j]


NEIGHBOR_BACKENDS = ("auto", "vesin", "cells")


def periodic_neighbor_list(
    positions: np.ndarray | torch.Tensor,
    box: float | np.ndarray,
    cutoff: float = DEFAULT_CUTOFF,
    backend: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs closer than ``cutoff`` in a periodic orthorhombic box.

    Returns ``edge_index`` (2, E) int64 with row 0 = neighbour j (source) and row 1 = centre i
    (target), sorted by (i, j), no self loops, both directions present; and ``edge_vec`` (E, 3)
    float64 = r_j − r_i under the minimum image convention.

    ``backend``: ``"vesin"`` (the maintained C++ cell list of the ``vesin`` package, used by
    NequIP / metatensor), ``"cells"`` (this module's numpy cell list) or ``"auto"`` (vesin when
    installed: faster, see benchmarks/neighbors.py and docs/fast_conv.md; same edges).
    """
    if backend not in NEIGHBOR_BACKENDS:
        raise ConfigError(f"neighbour-list backend {backend!r}: choose one of {NEIGHBOR_BACKENDS}")
    if isinstance(positions, torch.Tensor):
        positions = positions.detach().cpu().numpy()
    box = _as_box(box)
    _check_cutoff(cutoff, box)
    x = np.mod(np.asarray(positions, dtype=np.float64), box)
    if x.ndim != 2 or x.shape[1] != 3:
        raise ConfigError(f"positions must be (N, 3), got {x.shape}")
    if backend == "auto":
        backend = "vesin" if _vesin() is not None else "cells"
    if backend == "vesin":
        if _vesin() is None:
            raise ConfigError("neighbour-list backend 'vesin' is not installed: pip install vesin")
        return _vesin_neighbor_list(x, box, cutoff)
    return _cell_list(x, box, cutoff)


def _vesin():
    try:
        import vesin
    except ImportError:
        return None
    return vesin


def _vesin_neighbor_list(x: np.ndarray, box: np.ndarray, cutoff: float):
    """vesin's full periodic list, in this module's convention (j -> i, sorted by (i, j))."""
    nl = _vesin().NeighborList(cutoff=cutoff, full_list=True)
    i, j, d = nl.compute(points=x, box=np.diag(box), periodic=True, quantities="ijD")
    # vesin keeps pairs with r <= cutoff; this module (and the brute force) r < cutoff
    keep = (d * d).sum(1) < cutoff * cutoff
    i, j, d = i[keep].astype(np.int64), j[keep].astype(np.int64), d[keep]
    srt = np.lexsort((j, i))
    return np.stack([j[srt], i[srt]]), d[srt]


def _cell_list(x: np.ndarray, box: np.ndarray, cutoff: float):
    """numpy cell list (fallback when vesin is not installed)."""
    n = x.shape[0]
    n_cells = np.floor(box / cutoff).astype(np.int64)
    if (n_cells < 3).any():  # tiny box: 27 neighbour cells would alias; all pairs is cheap here
        return brute_force_neighbor_list(x, box, cutoff)

    cell3 = np.minimum((x / (box / n_cells)).astype(np.int64), n_cells - 1)  # (N, 3)
    stride = np.array([n_cells[1] * n_cells[2], n_cells[2], 1])
    cell = cell3 @ stride
    order = np.argsort(cell, kind="stable")
    counts = np.bincount(cell, minlength=int(n_cells.prod()))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])

    # neighbour cell of every (particle, offset) pair: (N, 27)
    nb3 = np.mod(cell3[:, None, :] + _OFFSETS[None], n_cells)
    nb = (nb3 @ stride).ravel()
    centre = np.repeat(np.arange(n), 27)
    cnt = counts[nb]
    # expand each (i, neighbour cell) into the particles of that cell
    i = np.repeat(centre, cnt)
    first = np.repeat(starts[nb], cnt)
    within = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    j = order[first + within]
    d = _minimum_image(x[j] - x[i], box)
    keep = ((d * d).sum(1) < cutoff * cutoff) & (i != j)
    i, j, d = i[keep], j[keep], d[keep]
    srt = np.lexsort((j, i))
    return np.stack([j[srt], i[srt]]), d[srt]


def build_graph(
    positions: np.ndarray,
    types: np.ndarray,
    box: np.ndarray,
    y: np.ndarray | None = None,
    node_scalar: np.ndarray | None = None,
    cutoff: float = DEFAULT_CUTOFF,
):
    """The glass graph ``Data`` of one configuration (docs/CONVENTIONS.md).

    ``y`` is (N, n_t) propensities; ``node_scalar`` an optional (N,) extra node input
    (per-particle E_pot) appended to the one-hot type columns of ``x``.
    """
    from torch_geometric.data import Data

    box = _as_box(box)
    pos = np.mod(np.asarray(positions, dtype=np.float64), box)
    types = np.asarray(types).astype(np.int64)
    edge_index, edge_vec = periodic_neighbor_list(pos, box, cutoff)
    x = np.eye(2, dtype=np.float32)[types]
    if node_scalar is not None:
        x = np.concatenate([x, np.asarray(node_scalar, np.float32).reshape(-1, 1)], axis=1)
    data = Data(
        x=torch.from_numpy(x),
        pos=torch.from_numpy(pos.astype(np.float32)),
        box=torch.from_numpy(box.astype(np.float32)).reshape(1, 3),
        node_type=torch.from_numpy(types),
        edge_index=torch.from_numpy(edge_index),
        edge_vec=torch.from_numpy(edge_vec.astype(np.float32)),
    )
    if y is not None:
        data.y = torch.from_numpy(np.asarray(y, dtype=np.float32))
    return data
