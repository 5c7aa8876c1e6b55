"""Where and how the fast SE(3) convolution runs (docs/fast_conv.md, Method 3, 4 and 6):
edge-chunk sizes, the CPU worker threads that split the edge range, and the cache of filter
matrices shared by the layers of a network. ``kernels._fast`` holds the arithmetic."""

from __future__ import annotations

import contextlib
import os
import threading
import weakref

import torch

from interplay.glass.nn.kernels._fast_plan import Piece

# bytes of the largest per-chunk intermediate: ~L2-sized on CPU, large on accelerators
CHUNK_BYTES = {"cpu": 2**20}
CHUNK_BYTES_DEFAULT = 128 * 2**20
MAX_CPU_WORKERS = 16
# filter matrices of all edges are kept (and shared by the layers of a network, which all see
# the same spherical harmonics) when they take at most this many bytes per kernel call. Off on
# CPU: rebuilding T per chunk (a cache-resident GEMM) was measured as fast as reading it back
# from memory (l_max 3: one layer 4-8 % faster without the cache, 8 layers sharing sh equal)
FILTER_CACHE_BYTES = {"cpu": 0}
FILTER_CACHE_BYTES_DEFAULT = 2 * 2**30


class FilterCache:
    """``T`` of every edge for one spherical-harmonics tensor, per ``(l_I, l_max, dtype,
    device)``: built by the first layer's forward, reused by the other layers and by every
    backward pass; an entry dies with its ``sh`` tensor (weak reference: autograd keeps ``sh``
    alive until the backward pass is done) or is replaced when ``sh`` is modified in place.
    The memory of a dead entry is kept as a spare for the next tensor of the same shape (the
    next training step), which saves the page faults of a fresh allocation on CPU."""

    def __init__(self):
        self.slots: dict[tuple, tuple] = {}
        self.spare: dict[tuple, torch.Tensor] = {}

    def get(self, key: tuple, sh: torch.Tensor) -> torch.Tensor | None:
        slot = self.slots.get(key)
        if slot is not None and slot[0]() is sh and slot[1] == sh._version:
            return slot[2]
        return None

    def buffer(self, key: tuple, shape: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
        spare = self.spare.pop(key, None)
        if spare is not None and spare.shape == shape:
            return spare
        return like.new_empty(shape)

    def put(self, key: tuple, sh: torch.Tensor, filters: torch.Tensor) -> None:
        slots, spare = self.slots, self.spare

        def drop(ref, key=key):
            if key in slots and slots[key][0] is ref:
                spare[key] = slots.pop(key)[2]

        slots[key] = (weakref.ref(sh, drop), sh._version, filters)

    def clear(self) -> None:
        self.slots.clear()
        self.spare.clear()


FILTERS = FilterCache()


def cache_budget(device: torch.device) -> int:
    env = os.environ.get("INTERPLAY_FAST_CONV_CACHE_MB")
    if env:
        return int(float(env) * 2**20)
    return FILTER_CACHE_BYTES.get(device.type, FILTER_CACHE_BYTES_DEFAULT)


def chunk_edges(pieces: list[Piece], device: torch.device, itemsize: int) -> int:
    env = os.environ.get("INTERPLAY_FAST_CONV_CHUNK")
    if env:
        return max(1, int(env))
    budget = CHUNK_BYTES.get(device.type, CHUNK_BYTES_DEFAULT)
    per_edge = max(p.k_total * max(p.mul, p.dim) for p in pieces) * itemsize
    return max(16, budget // per_edge)


def n_workers_for(device: torch.device, n_chunks: int) -> int:
    if device.type != "cpu":
        return 1
    env = os.environ.get("INTERPLAY_FAST_CONV_THREADS")
    n = int(env) if env else torch.get_num_threads()
    return max(1, min(n, n_chunks, MAX_CPU_WORKERS))


def edge_ranges(edge_dst: torch.Tensor, n_workers: int, chunk: int) -> tuple[list, bool]:
    """Split [0, E) into ``n_workers`` ranges; ``disjoint`` when they write disjoint centres."""
    n_edges = edge_dst.shape[0]
    if n_workers == 1:
        return [(0, n_edges)], True
    cuts = [round(w * n_edges / n_workers) for w in range(n_workers + 1)]
    disjoint = bool((edge_dst[1:] >= edge_dst[:-1]).all()) if n_edges > 1 else True
    if disjoint:  # move each cut to the first edge of its centre
        inner = torch.tensor(cuts[1:-1], device=edge_dst.device)
        moved = torch.searchsorted(edge_dst, edge_dst[inner], side="left").tolist()
        cuts = [0, *moved, n_edges]
    ranges = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
    return ranges, disjoint


@contextlib.contextmanager
def single_threaded_ops(active: bool):
    """Intra-op threads = 1 while the kernel's own worker threads run (restored after)."""
    if not active:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def run_ranges(fn, ranges: list[tuple[int, int]]) -> None:
    """``fn(worker, lo, hi)`` for every range: the first inline, the others in threads."""
    if len(ranges) == 1:
        fn(0, *ranges[0])
        return
    errors: list[BaseException] = []
    # Grad and inference mode are thread-local: under inference mode (Lightning's validation
    # and test loops) the caller's buffers are inference tensors, which the worker threads may
    # only update in place inside inference mode themselves.
    inference = torch.is_inference_mode_enabled()

    def target(w, lo, hi):
        try:
            with torch.inference_mode(inference), torch.no_grad():
                fn(w, lo, hi)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    threads = [
        threading.Thread(target=target, args=(w, *r), daemon=True)
        for w, r in enumerate(ranges)
        if w > 0
    ]
    for t in threads:
        t.start()
    target(0, *ranges[0])
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def split_edges(pieces: list[Piece], h: torch.Tensor, edge_dst: torch.Tensor):
    """Edges per chunk and the worker ranges of one kernel call: ``(chunk, ranges, disjoint)``."""
    n_edges = edge_dst.shape[0]
    chunk = min(n_edges, chunk_edges(pieces, h.device, h.element_size()))
    ranges, disjoint = edge_ranges(edge_dst, n_workers_for(h.device, -(-n_edges // chunk)), chunk)
    return chunk, ranges, disjoint
