"""Speed and peak memory of the SE(3) convolution kernels ``e3nn`` (reference), ``fast``,
``fused`` (and any other registered one, ``--impls``), measured in one run: forward + backward of
ONE layer on a KA-like graph, with the useful FLOPs and bytes of the layer (:func:`work_model`),
the achieved GFLOP/s and fraction of the machine's measured peak (a float32 matmul).

    PYTHONPATH=src python benchmarks/conv.py                       # full table (long)
    PYTHONPATH=src python benchmarks/conv.py --lmax 3 --channels 8 --n 4096   # one case
    PYTHONPATH=src python benchmarks/conv.py --device cuda --impls e3nn,fast,cueq  # on a GPU

Layer = the kernel of ``SE3Conv`` (eq. 2.64: gather, channel-wise CG product with per-edge
radial weights, scatter-sum onto the centres) for a hidden layer (input: 3 re-fed scalars +
``channels`` x l <= l_max), with gradients for the node features and the radial weights (what
training needs; the spherical harmonics need none). Graph: random positions at number density
1.2 in a periodic box, minimum-image neighbour list of ``interplay.glass.data._graph`` at d_c = 2
(~40 neighbours per particle); same graph and inputs for both kernels.

Every (case, kernel) runs in its own subprocess: a time limit (``--limit``, the case is
printed as "skipped (>X s)") and a memory limit (``--mem-gb``, "skipped (>X GB)") keep the
e3nn reference at large l_max from hanging or swapping the machine, and the peak memory is
the subprocess's peak RSS above its RSS before the first forward (CPU), or
``torch.cuda.max_memory_allocated`` above the inputs (GPU). Times are the best of
``--repeats`` forward + backward passes after one warm-up; the kernels are run one after the
other for each case so that machine load affects both alike. The last line is
``speedup l_max=3: <ratio>x`` for 4096 particles and 8 channels (one layer, a new sh tensor per
pass). The line before it, marked "amortised", is an extra measurement of that case: the fast
kernel's per-layer time when 8 calls share one sh tensor, as the 8 convolutions of the paper
network do (with the filter cache forced on, and with the device default); ``--no-amortised``
skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _inputs(n: int, channels: int, l_max: int, device, seed: int = 0):
    import numpy as np
    import torch
    from e3nn import o3

    from interplay.glass.data import periodic_neighbor_list
    from interplay.glass.nn import conv_input_irreps, sh_irreps

    rng = np.random.default_rng(seed)
    box = (n / 1.2) ** (1 / 3)
    edge_index, edge_vec = periodic_neighbor_list(rng.random((n, 3)) * box, box, 2.0)
    edge_index = torch.from_numpy(edge_index).to(device)
    edge_vec = torch.from_numpy(edge_vec).float().to(device)
    irreps_in = conv_input_irreps(3, channels, l_max)
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(n, irreps_in.dim, generator=gen).to(device)
    sh = o3.spherical_harmonics(sh_irreps(l_max), edge_vec, True, normalization="component")
    return irreps_in, h, sh, edge_index


def worker(
    impl: str, l_max: int, channels: int, n: int, repeats: int, device: str, amortise: bool = False
) -> dict:
    """One (case, kernel) measurement; runs in a subprocess, prints one JSON line."""
    import torch

    from interplay.glass.nn import CONV_IMPLS  # importing nn registers every kernel

    dev = torch.device(device)
    irreps_in, h, sh, edge_index = _inputs(n, channels, l_max, dev)
    kernel = CONV_IMPLS[impl](irreps_in, l_max).to(dev)
    n_edges = edge_index.shape[1]
    gen = torch.Generator().manual_seed(1)
    # in the kernel's own column order and blocks (SE3Conv folds them into its filter network's
    # last layer: free); a tuple of tensors for the fast kernel
    weight = kernel.kernel_weights(torch.rand(n_edges, kernel.weight_numel, generator=gen).to(dev))
    for leaf in _leaves(h, weight):
        leaf.requires_grad_(True)
    src, dst = edge_index[0], edge_index[1]

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def step():
        # a new spherical-harmonics tensor per pass, as in training (the fast kernel caches its
        # filter matrices per sh tensor: the cost of building them is part of every pass)
        out = kernel(h, sh.clone(), weight, src, dst, n)
        out.backward(torch.ones_like(out))
        _clear_grads(h, weight)

    sync()
    rss0 = _rss_bytes()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times = []
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        step()
        sync()
        if i > 0:  # first pass = warm-up
            times.append(time.perf_counter() - t0)
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
    res = {"time": min(times), "times": times, "peak": max(peak, 0), "edges": n_edges}
    res["flops"], res["bytes"] = work_model(irreps_in, l_max, n, n_edges, h.element_size())
    if hasattr(kernel, "polynomial"):  # cueq: which cuEquivariance method ran
        res["method"] = kernel.polynomial(h.device).method
    if impl in ("fast", "fused") and amortise:
        res["amortised"] = _amortised(kernel, h, sh, weight, src, dst, n, repeats, sync)
    return res


def work_model(irreps_in, l_max: int, n: int, n_edges: int, itemsize: int) -> tuple[int, int]:
    """Useful FLOPs and compulsory bytes of one layer's forward + backward (h and the radial
    weights need gradients, sh none), the same count for every kernel.

    FLOPs, per edge and input piece (C channels, K message columns, nz non-zeros of the scaled
    3j table M, i.e. the CG sparsity): coefficients M Y (2 nz, forward and backward), messages
    U = sum M Y h (2 C nz, forward and again backward), weights x U (2 C K), weight gradient
    (2 C K), w g (C K), dL/dh (2 C nz). Bytes: sh, radial weights (read twice) and their
    gradient, both edge index rows (twice), h, the output and its gradient, dL/dh."""
    from interplay.glass.nn.kernels import FastKernel

    kernel = FastKernel(irreps_in, l_max)
    per_edge = 0
    for p in kernel.pieces:
        nz = int((p.matrix != 0).sum())
        per_edge += 4 * nz + p.mul * (6 * nz + 5 * p.k_total)
    flops = per_edge * n_edges
    sh_dim, w, mid = (l_max + 1) ** 2, kernel.weight_numel, kernel.irreps_mid.dim
    edge_bytes = n_edges * (itemsize * (sh_dim + 3 * w) + 4 * 8)
    node_bytes = n * itemsize * (2 * irreps_in.dim + 2 * mid)
    return flops, edge_bytes + node_bytes


def machine_peak(threads: int, size: int = 2048, repeats: int = 3, device: str = "cpu") -> float:
    """Measured peak of this machine: best GFLOP/s of a float32 (size x size) matmul (on a GPU
    with size 8192; TF32 off, as in the kernels' float32 arithmetic)."""
    import torch

    dev = torch.device(device)
    torch.set_num_threads(threads)
    if dev.type == "cuda":
        size = max(size, 8192)
        torch.backends.cuda.matmul.allow_tf32 = False
    a, b = torch.rand(size, size, device=dev), torch.rand(size, size, device=dev)

    def mm():
        a @ b
        if dev.type == "cuda":
            torch.cuda.synchronize()

    mm()
    best = min(_timed(mm) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _leaves(h, weight) -> tuple:
    return (h, *(weight if isinstance(weight, tuple) else (weight,)))


def _clear_grads(h, weight) -> None:
    for leaf in _leaves(h, weight):
        leaf.grad = None


def _amortised(kernel, h, sh, weight, src, dst, n, repeats, sync, layers=8) -> dict:
    """Per-layer forward + backward time when ``layers`` kernel calls share one sh tensor, as
    the 8 convolutions of the paper network do (the fast kernel may then build its filter
    matrices once): with the filter cache forced on, and with the device default."""
    import os

    res = {}
    for name, env in (("cache on", "4096"), ("default", None)):
        old = os.environ.get("INTERPLAY_FAST_CONV_CACHE_MB")
        if env is None:
            os.environ.pop("INTERPLAY_FAST_CONV_CACHE_MB", None)
        else:
            os.environ["INTERPLAY_FAST_CONV_CACHE_MB"] = env
        times = []
        for i in range(repeats + 1):
            shared = sh.clone()
            t0 = time.perf_counter()
            outs = [kernel(h, shared, weight, src, dst, n) for _ in range(layers)]
            sum(o.sum() for o in outs).backward()
            _clear_grads(h, weight)
            sync()
            if i > 0:
                times.append((time.perf_counter() - t0) / layers)
            del outs, shared
        if old is None:
            os.environ.pop("INTERPLAY_FAST_CONV_CACHE_MB", None)
        else:
            os.environ["INTERPLAY_FAST_CONV_CACHE_MB"] = old
        res[name] = min(times)
    return res


def run_case(impl, l_max, channels, n, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", impl, "--lmax", str(l_max)]
    cmd += ["--channels", str(channels), "--n", str(n), "--repeats", str(args.repeats)]
    cmd += ["--device", args.device, "--mem-gb", str(args.mem_gb)]
    if (l_max, channels, n) == (3, 8, 4096) and not args.no_amortised:
        cmd += ["--amortise"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if args.threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(args.threads)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=args.limit, env=env, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"skipped": f"skipped (>{args.limit:g} s)"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = proc.stderr
        if "MemoryError" in err or "alloc" in err.lower() or proc.returncode in (-9, 137):
            return {"skipped": f"skipped (>{args.mem_gb:g} GB)"}
        return {"skipped": f"failed ({err.strip().splitlines()[-1][:60] if err else '?'})"}
    return json.loads(lines[-1])


def _fmt_time(r):
    if "times" not in r:
        return r.get("skipped", "-")
    t = r["times"]
    return f"{statistics.median(t):.3f} s [{min(t):.3f}, {max(t):.3f}]"


def _fmt_mem(r):
    return "" if "skipped" in r else f"{r['peak'] / 2**20:,.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lmax", type=int, nargs="+", default=[1, 2, 3, 4, 6])
    ap.add_argument("--channels", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 4096])
    ap.add_argument("--repeats", type=int, default=3, help="timed passes after one warm-up")
    ap.add_argument(
        "--impls",
        nargs="+",
        default=["e3nn", "fast", "fused"],
        help="registered conv_impl names, space- or comma-separated (e.g. e3nn,fast,fused,cueq)",
    )
    ap.add_argument("--limit", type=float, default=240.0, help="seconds per (case, kernel)")
    ap.add_argument("--mem-gb", type=float, default=20.0, help="address-space limit (CPU)")
    ap.add_argument("--threads", type=int, default=0, help="0: torch's default")
    ap.add_argument("--device", default="auto", help="cpu | cuda | auto")
    ap.add_argument(
        "--no-amortised",
        action="store_true",
        help="skip the extra 8-layers-sharing-one-sh measurement of the l_max=3/8/4096 case",
    )
    ap.add_argument("--amortise", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.impls = [i for arg in args.impls for i in arg.split(",") if i]  # "e3nn,fast,cueq" too
    if args.device == "auto":
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"

    if args.worker:
        if args.device == "cpu" and args.mem_gb > 0:
            lim = int(args.mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        res = worker(
            args.worker,
            args.lmax[0],
            args.channels[0],
            args.n[0],
            args.repeats,
            args.device,
            args.amortise,
        )
        print(json.dumps(res), flush=True)
        return

    import torch

    threads = args.threads or torch.get_num_threads()
    peak = machine_peak(threads, device=args.device)
    print(
        f"# SE(3) conv kernel, forward + backward of one layer; device={args.device}, "
        f"threads={threads}, {args.repeats} timed passes (median [min, max]), limit "
        f"{args.limit:g} s / {args.mem_gb:g} GB; measured peak (float32 matmul) {peak:.0f} GFLOP/s",
        flush=True,
    )
    others = [i for i in args.impls if i != "e3nn"]
    head = f"{'l_max':>5} {'ch':>3} {'N':>5} {'edges':>7} {'GFLOP':>6} {'MB':>5}"
    for impl in args.impls:
        head += f" | {impl + ' time':>27} {'peak':>8}"
        if impl != "e3nn":
            head += f" {'GF/s':>5} {'%peak':>5} {'vs e3nn':>7}"
    print(head)
    print("-" * len(head), flush=True)
    speedups: dict[str, float] = {}
    amortised, methods = {}, {}
    for l_max in args.lmax:
        for channels in args.channels:
            for n in args.n:
                res = {impl: run_case(impl, l_max, channels, n, args) for impl in args.impls}
                done = [r for r in res.values() if "edges" in r]
                if not done:
                    print(f"{l_max:>5} {channels:>3} {n:>5} all skipped: {res}", flush=True)
                    continue
                edges, flops, nbytes = done[0]["edges"], done[0]["flops"], done[0]["bytes"]
                ref = res.get("e3nn", {})
                row = f"{l_max:>5} {channels:>3} {n:>5} {edges:>7} {flops / 1e9:6.2f} "
                row += f"{nbytes / 2**20:5.0f}"
                for impl in args.impls:
                    r = res[impl]
                    row += f" | {_fmt_time(r):>27} {_fmt_mem(r):>8}"
                    if impl == "e3nn":
                        continue
                    ratio = gfs = frac = ""
                    if "times" in r:
                        med = statistics.median(r["times"])
                        gfs = f"{flops / med / 1e9:5.1f}"
                        frac = f"{100 * flops / med / 1e9 / peak:4.1f}%"
                        if "times" in ref:
                            ratio = f"{statistics.median(ref['times']) / med:6.1f}x"
                            if (l_max, channels, n) == (3, 8, 4096):
                                speedups[impl] = statistics.median(ref["times"]) / med
                    if "method" in r:
                        methods[impl] = r["method"]
                    if "amortised" in r:
                        amortised[impl] = r["amortised"]
                    row += f" {gfs:>5} {frac:>5} {ratio:>7}"
                print(row, flush=True)
    for impl, method in sorted(methods.items()):
        print(f"# {impl}: cuEquivariance method {method!r} (naive = its pure-PyTorch fallback)")
    for impl, am in amortised.items():
        parts = ", ".join(f"{k} {v:.3f} s" for k, v in am.items())
        print(
            f"# amortised (not the one-layer figure): {impl}, per layer, 8 layers sharing one "
            f"sh tensor as in the paper network, l_max=3 / 8 ch / 4096: filter {parts}"
        )
    for impl in others:
        if impl in speedups:
            print(f"speedup l_max=3 {impl}: {speedups[impl]:.1f}x (median over passes)")
        else:
            print(f"speedup l_max=3 {impl}: n/a (case l_max=3, 8 ch, N=4096 not measured)")


if __name__ == "__main__":
    main()
