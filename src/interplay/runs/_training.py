"""The body of ``train.py``: compose -> instantiate -> fit -> test -> results.json.

Kept free of any model- or data-specific code: everything specific lives in the objects that
``conf/`` names (see docs/CONVENTIONS.md for the contract).
"""

from __future__ import annotations

import csv
import logging
import math
import time
from pathlib import Path

import hydra
import lightning.pytorch as pl
import torch
from omegaconf import DictConfig, OmegaConf

from interplay.core import ConfigError, atomic_open, write_json

log = logging.getLogger(__name__)


def instantiate_group(group: DictConfig | None) -> list:
    """Instantiate every entry with a ``_target_`` of a config group (loggers, callbacks)."""
    if not group:
        return []
    return [hydra.utils.instantiate(c) for c in group.values() if c and "_target_" in c]


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
    log.info("Output directory: %s", output_dir)

    datamodule: pl.LightningDataModule = hydra.utils.instantiate(cfg.data)
    model_kwargs = datamodule.model_kwargs() if hasattr(datamodule, "model_kwargs") else {}
    model: pl.LightningModule = hydra.utils.instantiate(cfg.model, **model_kwargs)
    loggers = instantiate_group(cfg.get("logger"))
    callbacks = instantiate_group(cfg.get("callbacks"))
    trainer: pl.Trainer = hydra.utils.instantiate(cfg.trainer, logger=loggers, callbacks=callbacks)
    hparams = {
        k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        for k, v in cfg.items()
        if k != "hydra"
    }
    for lg in loggers:
        lg.log_hyperparams(hparams)

    try:
        start = time.perf_counter()
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        train_seconds = time.perf_counter() - start
        test_ckpt = cfg.get("test_ckpt_path")
        trainer.test(model, datamodule=datamodule, ckpt_path=test_ckpt)
        results = collect_test_metrics(trainer, model)
        results["train_seconds"] = train_seconds
        results["epochs"] = trainer.current_epoch
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
