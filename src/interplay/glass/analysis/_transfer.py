"""Temperature generalisation of the learned representation (thesis §2.4.4, Fig. 2.17).

For every training temperature T1 a model is trained once; then, for every test temperature T2:

* **transfer test** -- the T1 model is applied as it is to the T2 test set;
* **transfer learn** -- the backbone (everything computing ``|h^(L_max)|``) is frozen and only
  the linear decoders (eq. 2.70, 32 weights per type and timescale at paper size) are refit on
  the T2 training set. The refit is the exact minimiser of the training MSE: a (ridge-
  regularised) least-squares solve per (particle type, timescale) on the frozen invariant
  features, computed in evaluation mode (batch norm running statistics).

The matrices ``transfer_test[i, j]`` / ``transfer_learn[i, j]`` hold the mean per-configuration
Pearson of A particles at tau_alpha (train T_i, test T_j); the transfer-test prediction uses the
decoder of the tau_alpha slot of T_i, compared with the labels at tau_alpha of T_j.

Usage::

    interplay-transfer                       # conf/transfer.yaml (embedded data)
    interplay-transfer experiment=temperature_transfer
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interplay.glass.observables._fields import pearson_per_config

log = logging.getLogger(__name__)


@torch.no_grad()
def collect(module, loader) -> list[dict[str, np.ndarray]]:
    """Eval-mode invariant features, predictions, labels and types for every graph of ``loader``."""
    net = module.net if hasattr(module, "net") else module
    was_training = net.training
    net.eval()
    out = []
    for batch in loader:
        inv = net.invariants(batch.x, batch.edge_index, batch.edge_vec)
        pred = net.decode(inv, batch.node_type)
        ptr = batch.ptr.tolist()
        for a, b in zip(ptr[:-1], ptr[1:], strict=True):
            out.append(
                {
                    "inv": inv[a:b].double().numpy(),
                    "pred": pred[a:b].double().numpy(),
                    "y": batch.y[a:b].double().numpy(),
                    "type": batch.node_type[a:b].numpy(),
                }
            )
    net.train(was_training)
    return out


def refit_decoders(net, graphs: Sequence[dict[str, np.ndarray]], ridge: float = 1e-6) -> None:
    """Least-squares refit of every (type, timescale) linear decoder on frozen features."""
    inv = np.concatenate([g["inv"] for g in graphs])
    y = np.concatenate([g["y"] for g in graphs])
    types = np.concatenate([g["type"] for g in graphs])
    if y.shape[1] != net.n_timescales:
        raise ValueError(f"labels have {y.shape[1]} timescales, the model {net.n_timescales}")
    has_bias = net.decoder_bias is not None
    w_new = net.decoder_weight.detach().double().clone()
    b_new = net.decoder_bias.detach().double().clone() if has_bias else None
    for k in range(net.n_types):
        mask = types == k
        if mask.sum() == 0:
            continue
        feats = inv[mask]
        if has_bias:
            feats = np.concatenate([feats, np.ones((len(feats), 1))], axis=1)
        gram = feats.T @ feats + ridge * len(feats) * np.eye(feats.shape[1])
        sol = np.linalg.solve(gram, feats.T @ y[mask])  # (F[+1], T)
        w_new[k] = torch.from_numpy(sol[: net.n_invariants].T)
        if has_bias:
            b_new[k] = torch.from_numpy(sol[-1])
    with torch.no_grad():
        net.decoder_weight.copy_(w_new.to(net.decoder_weight.dtype))
        if has_bias:
            net.decoder_bias.copy_(b_new.to(net.decoder_bias.dtype))


def pearson_A(graphs, pred_col: int | None = None, true_col: int | None = None) -> np.ndarray:
    """Mean per-configuration Pearson on A particles: all timescales, or one (pred, true) pair."""
    preds = [g["pred"] if pred_col is None else g["pred"][:, [pred_col]] for g in graphs]
    trues = [g["y"] if true_col is None else g["y"][:, [true_col]] for g in graphs]
    return pearson_per_config(preds, trues, [g["type"] for g in graphs], particle_type=0)["mean"]


def run_transfer(
    temperatures: Sequence[float],
    make_datamodule: Callable[[float], object],
    make_model: Callable[[dict], object],
    fit: Callable[[object, object, float], None],
    tau_alpha_slot: Callable[[object, float], int],
    ridge: float = 1e-6,
) -> dict:
    """Train one model per temperature and evaluate transfer test / transfer learn on all.

    Args:
        make_datamodule(T): a set-up-able DataModule at temperature T.
        make_model(model_kwargs): a fresh PropensityModule.
        fit(model, datamodule, T): train it (e.g. a Lightning Trainer.fit).
        tau_alpha_slot(datamodule, T): column of tau_alpha among the datamodule's timescales.
    """
    temps = [float(t) for t in temperatures]
    dms = {t: make_datamodule(t) for t in temps}
    for dm in dms.values():
        dm.setup("fit")
    slots = {t: int(tau_alpha_slot(dms[t], t)) for t in temps}
    n_t = len(temps)
    test_mat = np.full((n_t, n_t), np.nan)
    learn_mat = np.full((n_t, n_t), np.nan)
    per_time: dict[str, list] = {"direct": [], "transfer_learn": []}
    seconds = {}
    for i, t_train in enumerate(temps):
        start = time.perf_counter()
        model = make_model(dms[t_train].model_kwargs())
        fit(model, dms[t_train], t_train)
        seconds[t_train] = time.perf_counter() - start
        for j, t_test in enumerate(temps):
            test_graphs = collect(model, dms[t_test].test_dataloader())
            test_mat[i, j] = pearson_A(test_graphs, slots[t_train], slots[t_test])[0]
            tuned = copy.deepcopy(model)
            refit_decoders(tuned.net, collect(tuned, dms[t_test].train_dataloader()), ridge)
            learned = collect(tuned, dms[t_test].test_dataloader())
            learn_mat[i, j] = pearson_A(learned, slots[t_test], slots[t_test])[0]
            if i == j:
                per_time["direct"].append(pearson_A(test_graphs).tolist())
            per_time["transfer_learn"].append(
                {"train_T": t_train, "test_T": t_test, "pearson_A": pearson_A(learned).tolist()}
            )
            log.info(
                "train T=%g -> test T=%g: transfer test %.3f, transfer learn %.3f",
                t_train, t_test, test_mat[i, j], learn_mat[i, j],
            )  # fmt: skip
    return {
        "temperatures": temps,
        "tau_alpha_slot": [slots[t] for t in temps],
        "time_indices": {str(t): list(dms[t].time_indices) for t in temps},
        "transfer_test": test_mat.tolist(),
        "transfer_learn": learn_mat.tolist(),
        "pearson_A_direct_all_times": per_time["direct"],
        "pearson_A_transfer_learn_all_times": per_time["transfer_learn"],
        "train_seconds": {str(t): s for t, s in seconds.items()},
    }


def format_matrix(result: dict, key: str) -> str:
    temps = result["temperatures"]
    head = "train\\test " + " ".join(f"{t:>7g}" for t in temps)
    rows = [head]
    for t, row in zip(temps, result[key], strict=True):
        rows.append(f"{t:>10g} " + " ".join(f"{v:7.3f}" for v in row))
    return "\n".join(rows)


# --------------------------------------------------------------------------- Hydra entry
def transfer_from_config(cfg: Any) -> dict:
    """Body of ``interplay-transfer`` (``conf/transfer.yaml``): one model per temperature,
    transfer test and transfer learn on all; writes transfer.json and transfer_matrix.png into
    ``paths.output_dir`` and returns the result."""
    import hydra  # noqa: PLC0415
    import lightning.pytorch as pl  # noqa: PLC0415
    from lightning.pytorch.loggers import CSVLogger  # noqa: PLC0415

    from interplay.core import write_json  # noqa: PLC0415
    from interplay.glass import observables as figures  # noqa: PLC0415

    out_dir = Path(cfg.paths.output_dir)

    def make_dm(T):
        return hydra.utils.instantiate(cfg.data, T=T)

    def make_model(kwargs):
        return hydra.utils.instantiate(cfg.model, **kwargs, figures=False)

    def fit(model, dm, T):
        if cfg.get("seed") is not None:
            pl.seed_everything(cfg.seed, workers=True)
        run_dir = out_dir / f"train_T{T:g}"
        trainer = hydra.utils.instantiate(
            cfg.trainer,
            default_root_dir=str(run_dir),
            logger=CSVLogger(str(run_dir), name="csv", version=""),
            callbacks=[],
            enable_checkpointing=False,
        )
        trainer.fit(model, datamodule=dm)

    def slot(dm, T):
        spec = cfg.get("report_time_index", "tau_alpha")
        if spec == "tau_alpha":
            try:
                ta = hydra.utils.instantiate(cfg.data, T=T, time_indices="tau_alpha").time_indices
                return dm.time_indices.index(ta[0])
            except Exception as exc:  # noqa: BLE001
                log.warning("no tau_alpha at T=%g (%s): reporting the last timescale", T, exc)
                return len(dm.time_indices) - 1
        return dm.time_indices.index(int(spec)) if spec is not None else 0

    result = run_transfer(cfg.temperatures, make_dm, make_model, fit, slot, cfg.get("ridge", 1e-6))
    write_json(out_dir / "transfer.json", result)
    figures.plot_transfer_matrix(
        result["temperatures"],
        np.asarray(result["transfer_test"]),
        np.asarray(result["transfer_learn"]),
        out_dir / "transfer_matrix.png",
        title="SE(3)-GNN temperature transfer (A, tau_alpha)",
    )
    text = (
        f"transfer test (rho_A at tau_alpha):\n{format_matrix(result, 'transfer_test')}\n"
        f"transfer learn (decoders refit):\n{format_matrix(result, 'transfer_learn')}"
    )
    log.info("%s", text)
    return result
