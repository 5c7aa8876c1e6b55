"""The body of ``train.py``: compose -> instantiate -> fit -> test -> results.json.

Kept free of any model- or data-specific code: everything specific lives in the objects that
``conf/`` names (see docs/CONVENTIONS.md for the contract).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import pickle
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
import lightning.pytorch as pl
import numpy as np
import torch
from omegaconf import DictConfig

from interplay.core import ConfigError, atomic_open, write_json
from interplay.core.config import TASK_RESULTS, check_run_dir, launched_rank, plain_value
from interplay.runs._guards import NonFiniteLossGuard

log = logging.getLogger(__name__)


def instantiate(node: DictConfig, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` with ``_convert_="all"``: every argument arrives as a plain
    ``list`` / ``dict``, never an omegaconf container. Lightning stores a module's
    hyperparameters in its checkpoints, and ``torch.load(weights_only=True)`` -- how Lightning
    reads them for ``ckpt_path`` and ``test_ckpt_path=best`` -- refuses omegaconf classes."""
    return hydra.utils.instantiate(node, _convert_="all", **kwargs)


def instantiate_group(group: DictConfig | None) -> list:
    """Instantiate every entry with a ``_target_`` of a config group (loggers, callbacks)."""
    if not group:
        return []
    return [instantiate(c) for c in group.values() if c and "_target_" in c]


def check_checkpointable(owner: str, hparams: Mapping[str, Any]) -> None:
    """Fail before training if ``hparams`` would make the checkpoints unreadable.

    Checkpoints are read back with ``torch.load(weights_only=True)``, which admits tensors and
    plain Python containers only; a hyperparameter of another type (an omegaconf container, a
    ``functools.partial``, a module) is found only when a resume or ``test_ckpt_path=best``
    fails, after the training. Raises :class:`ConfigError` naming the offending keys."""
    bad = []
    for key, value in hparams.items():
        buffer = io.BytesIO()
        try:
            torch.save({key: value}, buffer)
            buffer.seek(0)
            torch.load(buffer, weights_only=True)
        except (pickle.UnpicklingError, pickle.PicklingError, TypeError, AttributeError):
            bad.append(f"{key} ({type(value).__name__})")
    if bad:
        raise ConfigError(
            f"{owner} hyperparameters {', '.join(bad)} cannot be stored in a checkpoint that "
            "torch.load(weights_only=True) reads back: pass plain values, or exclude them with "
            "save_hyperparameters(ignore=[...])."
        )


class RandomStateCheckpoint(pl.Callback):
    """Store the global random states in every checkpoint and restore them on resume.

    Lightning restores weights, optimizer, schedulers and loop counters, but not the random
    generators that draw dropout masks and the DataLoader's shuffling seed: without this a
    resumed run trains on different batches than an uninterrupted one. Restored when the
    checkpoint is loaded (before the first DataLoader iterator of the resumed run draws its
    seed), so a run resumed from an end-of-epoch checkpoint repeats the uninterrupted run's
    draws exactly. Stored as tensors and tuples of ints, which ``weights_only`` loading admits.
    """

    def state_dict(self) -> dict[str, Any]:
        # the legacy global generator is the one seed_everything seeds and library code draws from
        _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()  # noqa: NPY002
        state = {
            "torch": torch.get_rng_state(),
            "numpy": (torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached_gaussian),
            "python": random.getstate(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            # this process's device only: all devices would open a CUDA context on each of them
            # from every DDP rank, and a resume on fewer GPUs could not restore them
            state["cuda"] = torch.cuda.get_rng_state()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        torch.set_rng_state(state_dict["torch"])
        keys, pos, has_gauss, cached_gaussian = state_dict["numpy"]
        numpy_state = ("MT19937", keys.numpy().astype(np.uint32), pos, has_gauss, cached_gaussian)
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(state_dict["python"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state(state_dict["cuda"])


def collect_test_metrics(trainer: pl.Trainer, model: pl.LightningModule) -> dict[str, float]:
    """Flat dict of all logged metrics whose key starts with ``test`` plus the model's extras."""
    results = {
        key: float(value)
        for key, value in trainer.callback_metrics.items()
        if key.startswith("test")
    }
    if hasattr(model, "extra_results"):
        results.update(model.extra_results())
    return results


def write_records(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    with atomic_open(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def finish_wandb(loggers: list) -> None:
    """Close the W&B run so that the next multirun job starts a new one."""
    if any(type(lg).__name__ == "WandbLogger" for lg in loggers):
        import wandb

        wandb.finish()


def check_accelerator(trainer_cfg: DictConfig) -> None:
    """A :class:`ConfigError` naming the CPU trainer when a GPU is asked for but none is visible.

    Lightning only notices when the Trainer is built, after the data has been read (minutes for
    the glass data), and its message does not say which config to use instead.
    """
    accelerator = str(trainer_cfg.get("accelerator", "auto")).lower()
    if accelerator not in ("gpu", "cuda") or torch.cuda.is_available():
        return
    if accelerator == "gpu" and torch.backends.mps.is_available():
        return  # Lightning's "gpu" is CUDA or Apple MPS
    cpu = "trainer=ddp_cpu" if "ddp" in str(trainer_cfg.get("strategy", "")) else "trainer=cpu"
    raise ConfigError(
        f"trainer.accelerator={accelerator} but this machine has no CUDA GPU "
        f"(torch.cuda.is_available() is False): run with {cpu}."
    )


def run(cfg: DictConfig) -> float | None:
    """Train and test as configured; write ``results.json``; return ``cfg.optimized_metric``."""
    check_accelerator(cfg.trainer)
    if cfg.get("num_threads"):
        torch.set_num_threads(int(cfg.num_threads))
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    ckpt_path = cfg.get("ckpt_path")
    if not launched_rank() and check_run_dir(output_dir, ckpt_path, TASK_RESULTS):
        log.info("Resuming the run in %s from %s", output_dir, ckpt_path)
    else:
        log.info("Output directory: %s", output_dir)
        if ckpt_path:
            log.info("Resuming training from %s", ckpt_path)

    datamodule: pl.LightningDataModule = instantiate(cfg.data)
    model_kwargs = datamodule.model_kwargs() if hasattr(datamodule, "model_kwargs") else {}
    model: pl.LightningModule = instantiate(cfg.model, **model_kwargs)
    check_checkpointable("model", model.hparams)
    check_checkpointable("data", getattr(datamodule, "hparams", {}))
    loggers = instantiate_group(cfg.get("logger"))
    # every run: random states in checkpoints (exact resume), NaN / inf loss stops the run
    callbacks = [
        *instantiate_group(cfg.get("callbacks")),
        RandomStateCheckpoint(),
        NonFiniteLossGuard(),
    ]
    trainer: pl.Trainer = instantiate(cfg.trainer, logger=loggers, callbacks=callbacks)
    hparams = {k: plain_value(v) for k, v in cfg.items() if k != "hydra"}
    for lg in loggers:
        lg.log_hyperparams(hparams)

    try:
        start = time.perf_counter()
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        train_seconds = time.perf_counter() - start
        test_ckpt = cfg.get("test_ckpt_path")
        trainer.test(model, datamodule=datamodule, ckpt_path=test_ckpt)
        results = collect_test_metrics(trainer, model)
        results["train_seconds"] = train_seconds
        results["epochs"] = trainer.current_epoch
        results["optimizer_steps"] = trainer.global_step  # budgets are compared in steps
        if trainer.is_global_zero:
            write_json(output_dir / "results.json", results)
            write_records(output_dir / "records.csv", getattr(model, "records", list)())
            log.info("Test metrics:\n%s", format_results(results))
    finally:
        finish_wandb(loggers)
    return metric_value(results, cfg.get("optimized_metric"))


def format_results(results: dict[str, float]) -> str:
    width = max(map(len, results), default=0)
    return "\n".join(f"  {key:<{width}}  {value:.6g}" for key, value in sorted(results.items()))


def metric_value(results: dict[str, float], name: str | None) -> float | None:
    if not name:
        return None
    if name not in results:
        raise ConfigError(
            f"optimized_metric={name!r} was not logged; available: {sorted(results)}. "
            "Set optimized_metric to one of them."
        )
    value = results[name]
    return None if math.isnan(value) else value
