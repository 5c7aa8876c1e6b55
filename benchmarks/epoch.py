"""End-to-end training-epoch time of the SE(3)-GNN with several ``conv_impl`` kernels (default:
``fast``, the previous default, vs ``fused``, the C++ kernel; add ``e3nn`` for the reference),
measured in one run on the real BOTAN configurations.

    PYTHONPATH=src python benchmarks/epoch.py --root ../shared/data/botan_T0.44
    PYTHONPATH=src python benchmarks/epoch.py --root ... --model se3gnn_small --limit 300

Composes the project's Hydra config exactly as ``train.py`` would with
``data=shiba data.root=<root> model=<model> model.net.conv_impl=<impl>`` (default ``se3gnn``: the
paper model, 8 layers, 8 channels, l_max = 3, multi-variate), builds the graphs of every
configuration in ``<root>/train`` (the 10 BOTAN training configurations; the DataModule's
train and validation splits together, graphs built and cached before timing), and times one
epoch of training over them: for each configuration (batch size 1, as in the thesis) forward,
MSE loss summed over timescales, backward, Adam step -- the model's own ``loss_fn`` and
``configure_optimizers``. Both kernels start from the same seed (same initial weights; the
first losses are printed to show it).

Each kernel runs in its own subprocess with a time limit (``--limit`` seconds) and an
address-space limit (``--mem-gb``). If the limit stops a kernel before the end of the epoch,
the epoch time is extrapolated from the configurations it finished (marked "extrapolated").
Peak memory = peak RSS of the subprocess (graphs included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def worker(impl: str, root: str, model: str, seed: int, configs: int, extra: list[str]) -> None:
    import torch
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    overrides = [
        "data=shiba",
        f"data.root={Path(root).resolve()}",
        f"model={model}",
        f"model.net.conv_impl={impl}",
        "model.figures=false",
        f"seed={seed}",
        *extra,
    ]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    datamodule = instantiate(cfg.data)
    datamodule.setup()
    graphs = list(datamodule.graphs.get("train", [])) + list(datamodule.graphs.get("val", []))
    if configs:
        graphs = graphs[:configs]
    torch.manual_seed(seed)
    module = instantiate(cfg.model, **datamodule.model_kwargs())
    opt = module.configure_optimizers()
    if isinstance(opt, dict):
        opt = opt["optimizer"]
    elif isinstance(opt, (list, tuple)):
        opt = opt[0][0] if isinstance(opt[0], (list, tuple)) else opt[0]
    module.train()
    print(
        json.dumps(
            {
                "start": True,
                "configs": len(graphs),
                "edges": int(sum(g.edge_index.shape[1] for g in graphs) / max(len(graphs), 1)),
                "nodes": int(graphs[0].num_nodes) if graphs else 0,
                "threads": torch.get_num_threads(),
                "params": sum(p.numel() for p in module.parameters() if p.requires_grad),
            }
        ),
        flush=True,
    )
    for i, data in enumerate(graphs):
        t0 = time.perf_counter()
        pred = module(data)
        loss = module.loss_fn(pred, data.y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"step": i, "time": dt, "loss": float(loss), "peak": peak}), flush=True)


def run_impl(impl: str, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", impl, "--root", args.root]
    cmd += ["--model", args.model, "--seed", str(args.seed), "--configs", str(args.configs)]
    cmd += ["--mem-gb", str(args.mem_gb), "--threads", str(args.threads)]
    if args.set:
        cmd += ["--set", *args.set]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    timed_out = False
    try:
        out, err = proc.communicate(timeout=args.limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    rows = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    head = next((r for r in rows if r.get("start")), None)
    steps = [r for r in rows if "step" in r]
    res = {"impl": impl, "wall": wall, "head": head, "steps": steps, "timed_out": timed_out}
    if proc.returncode not in (0, None) and not timed_out:
        res["error"] = (err.strip().splitlines() or ["?"])[-1][:100]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(ROOT.parent / "shared" / "data" / "botan_T0.44"))
    ap.add_argument("--model", default="se3gnn", help="conf/model entry (se3gnn = paper model)")
    ap.add_argument("--impls", nargs="+", default=["fast", "fused"])
    ap.add_argument("--configs", type=int, default=0, help="0: all training configurations")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=float, default=900.0, help="seconds per kernel")
    ap.add_argument("--mem-gb", type=float, default=16.0, help="address-space limit per kernel")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    ap.add_argument("--set", nargs="*", default=[], help="extra Hydra overrides (key=value)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        if args.mem_gb > 0:
            lim = int(args.mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        worker(args.worker, args.root, args.model, args.seed, args.configs, args.set)
        return

    print(
        f"# one training epoch, model={args.model} {' '.join(args.set)}, data={args.root}; "
        f"limit {args.limit:g} s and {args.mem_gb:g} GB per kernel",
        flush=True,
    )
    results = [run_impl(impl, args) for impl in args.impls]
    epoch = {}
    print(
        f"{'kernel':>6} | {'configs':>7} | {'s / config':>10} | {'[min, max]':>15} | "
        f"{'epoch time':>22} | {'peak RSS':>9} | first loss"
    )
    for r in results:
        head, steps = r["head"], r["steps"]
        if not steps:
            why = r.get("error") or ("time limit" if r["timed_out"] else "no step finished")
            print(f"{r['impl']:>6} | {'-':>7} | {'-':>10} | {'not measured (' + why + ')':>22}")
            continue
        n_total = head["configs"] if head else len(steps)
        per = sum(s["time"] for s in steps) / len(steps)
        measured = len(steps) == n_total
        epoch[r["impl"]] = sum(s["time"] for s in steps) if measured else per * n_total
        label = f"{epoch[r['impl']]:.1f} s" + ("" if measured else " (extrapolated)")
        lo, hi = min(s["time"] for s in steps), max(s["time"] for s in steps)
        print(
            f"{r['impl']:>6} | {len(steps):>3}/{n_total:<3} | {per:>8.2f} s | "
            f"[{lo:5.2f}, {hi:5.2f}] | {label:>22} | "
            f"{steps[-1]['peak'] / 2**30:>6.2f} GB | {steps[0]['loss']:.6g}"
        )
    if results and results[0]["head"]:
        h = results[0]["head"]
        print(
            f"# {h['configs']} configurations, {h['nodes']} particles, ~{h['edges']} edges each; "
            f"{h['params']:,} parameters; {h['threads']} threads"
        )
    base = args.impls[0]
    for impl in args.impls[1:]:
        if base in epoch and impl in epoch:
            print(f"epoch speedup {impl} vs {base}: {epoch[base] / epoch[impl]:.2f}x")


if __name__ == "__main__":
    main()
