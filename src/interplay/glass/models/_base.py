"""Shared LightningModule base of every propensity model (SE(3)-GNN and the baselines).

:class:`PropensityBase` owns everything that does not depend on the architecture, so that all
models log the same keys and write the same files (docs/se3gnn.md, docs/baselines.md):

* optional per-timescale label standardisation (``target_norm``; buffers ``y_mean``, ``y_std``
  computed from the training set at the start of fit, stored in the checkpoint);
* the loss (MSE per timescale over all particles, summed over timescales, thesis §2.4.3) and a
  gradient ``training_step`` (closed-form models override it);
* validation (``val/loss``, ``val/pearson_A`` at τα, ``val/pearson_A_mean``) and the test
  observables of :mod:`interplay.glass.observables` (``test/pearson_{A,B}`` at τα with
  ``_lo`` / ``_hi``, ``test/pearson_{A,B}_mean``, ``test/pearson_{A,B}_t{k}``, χ4, ...),
  ``test/loss``, the labels' noise ceiling ``test/ceiling_{A,B}`` (from the split-half labels
  ``y_half1`` / ``y_half2`` of the batch, where the data has runs), the ``observables.npz``
  and the figures of the run directory. τα is the DataModule's ``tau_alpha_index`` /
  ``tau_alpha`` (:mod:`interplay.glass.data`); when it is not among the predicted timescales
  the headline is read at the closest one, and said so;
* ``extra_results()`` -> ``n_parameters`` (subclasses add their own breakdown),
  ``tau_alpha_index``, ``tau_alpha``, ``tau_alpha_selected``, ``headline_time_index`` and the
  observables' results (``chi4_warning``, ``chi4_n_configs``).

A subclass receives its network from the config (``net:`` of ``conf/model/*.yaml``) and
implements ``predict_normalized(batch) -> (N, n_timescales)`` (in standardised units when
``target_norm``, label units otherwise) and ``configure_optimizers``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch import LightningModule

from interplay.core import ConfigError
from interplay.glass.data import tau_alpha_column
from interplay.glass.observables import (
    BootstrapSpec,
    Fields,
    FigureContext,
    compute_observables,
    observable_metrics,
    observable_results,
    plot_observables,
)

log = logging.getLogger(__name__)

TYPE_NAMES = ("A", "B")
HPARAMS_IGNORE = ["net", "optimizer", "scheduler"]


class PropensityBase(LightningModule):
    """Label normalisation, loss, validation / test observables and outputs (see module doc).

    Args:
        n_timescales, time_indices: outputs per particle and the dataset's own time indices
            (from the DataModule's ``model_kwargs()``).
        target_norm: regress per-timescale standardised propensities (training-set mean / std);
            predictions are mapped back to propensity units.
        figures: write PNGs (Pearson vs t, chi4 vs t, G4 vs r) at test end.
        g4_r_max, g4_bins: radial range / resolution of G4 (r_max capped at half the box).
        output_dir: where figures go (default: the Trainer's ``default_root_dir``).
        bootstrap: ``{n, level, seed}`` of the intervals over test configurations
            (:class:`~interplay.glass.observables.BootstrapSpec`; None: its defaults).
        loss_types: particle types (0 = A, 1 = B) whose particles enter the loss; None = all
            (thesis §2.4.3). Bapst et al. fit the A particles only (``[0]``), the ones every
            Pearson headline reads.

    Subclasses call :meth:`save_hyperparameters` with ``ignore=HPARAMS_IGNORE``: the network
    and the optimizer / scheduler partials are objects, not numbers, and a checkpoint's hparams
    must stay loadable; the network's weights are in the state dict anyway.
    """

    def __init__(
        self,
        n_timescales: int = 1,
        time_indices: Sequence[int] | None = None,
        target_norm: bool = False,
        figures: bool = True,
        g4_r_max: float = 6.0,
        g4_bins: int = 44,
        output_dir: str | None = None,
        bootstrap: Mapping | None = None,
        loss_types: Sequence[int] | None = None,
    ):
        super().__init__()
        self.loss_types = None if loss_types is None else sorted({int(t) for t in loss_types})
        if self.loss_types is not None and (
            not self.loss_types or not set(self.loss_types) <= set(range(len(TYPE_NAMES)))
        ):
            raise ConfigError(
                f"model.loss_types={loss_types}: give particle types among "
                f"{list(range(len(TYPE_NAMES)))} (0 = A, 1 = B), or null for all particles"
            )
        self.bootstrap = BootstrapSpec.from_config(bootstrap) or BootstrapSpec()
        self.time_indices = [int(t) for t in time_indices] if time_indices else None
        self.time_indices = self.time_indices or list(range(n_timescales))
        if len(self.time_indices) != n_timescales:
            raise ConfigError(
                f"model.time_indices={self.time_indices} has {len(self.time_indices)} entries "
                f"but model.n_timescales={n_timescales}."
            )
        self.n_timescales = int(n_timescales)
        self.write_figures = bool(figures)
        self.g4_r_max = float(g4_r_max)
        self.g4_bins = int(g4_bins)
        self.figures_dir = output_dir
        self.register_buffer("y_mean", torch.zeros(n_timescales))
        self.register_buffer("y_std", torch.ones(n_timescales))
        self.register_buffer("y_stats_ready", torch.tensor(not target_norm))
        self._val: list[tuple[np.ndarray, ...]] = []
        self._test: list[dict[str, np.ndarray]] = []
        self.observables: dict[str, np.ndarray] = {}
        self._tau_info: tuple[object, dict] | None = None  # (DataModule, tau_alpha_info)

    # ------------------------------------------------------------------ core
    def predict_normalized(self, batch) -> torch.Tensor:
        """(N, n_timescales) in standardised units (``target_norm``) or label units."""
        raise NotImplementedError

    def forward(self, batch) -> torch.Tensor:
        """Predicted propensities (N, n_timescales), in the units of the labels."""
        return self.predict_normalized(batch) * self.y_std + self.y_mean

    def loss_fn(
        self, pred: torch.Tensor, y: torch.Tensor, node_type: torch.Tensor | None = None
    ) -> torch.Tensor:
        """MSE per timescale over all particles (A and B), summed over timescales (§2.4.3);
        in standardised units when ``target_norm``. With ``loss_types`` and the particle
        types given, the mean runs over the particles of those types only."""
        err = ((pred - y) / self.y_std).pow(2)
        if self.loss_types is not None and node_type is not None:
            keep = torch.isin(node_type, torch.tensor(self.loss_types, device=node_type.device))
            err = err[keep]
        return err.mean(dim=0).sum()

    def on_fit_start(self) -> None:
        if bool(self.y_stats_ready):
            return
        dm = getattr(self.trainer, "datamodule", None)
        if dm is None:
            log.warning("target_norm needs a DataModule to compute label statistics: skipped")
            return
        ys = torch.cat([b.y for b in dm.train_dataloader()]).to(self.y_mean)
        self.y_mean.copy_(ys.mean(dim=0))
        self.y_std.copy_(ys.std(dim=0).clamp_min(1e-8))
        self.y_stats_ready.fill_(True)
        log.info("target_norm: mean %s std %s", self.y_mean.tolist(), self.y_std.tolist())

    def training_step(self, batch, batch_idx):
        loss = self.loss_fn(self(batch), batch.y, batch.node_type)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=batch.num_graphs)  # fmt: skip
        return loss

    def validation_step(self, batch, batch_idx):
        pred = self(batch)
        loss = self.loss_fn(pred, batch.y, batch.node_type)
        self.log("val/loss", loss, on_epoch=True, prog_bar=True, batch_size=batch.num_graphs)
        for g in split_batch(batch, pred):
            self._val.append((g["pred"], g["y"], g["type"]))

    def on_validation_epoch_end(self) -> None:
        """Log the registered validation observables (``val/pearson_A``, ...)."""
        if not self._val:
            return
        preds, ys, types = zip(*self._val, strict=True)
        self._val.clear()
        col = self.tau_alpha_info()["column"]
        obs = compute_observables(Fields(preds, ys, types, tau_alpha_column=col), stage="val")
        for key, value, prog_bar in observable_metrics(obs, self.time_indices, stage="val"):
            self.log(key, value, prog_bar=prog_bar)

    def test_step(self, batch, batch_idx):
        pred = self(batch)
        self.log(
            "test/loss", self.loss_fn(pred, batch.y, batch.node_type), batch_size=batch.num_graphs
        )
        self._test.extend(split_batch(batch, pred))

    def on_test_epoch_end(self) -> None:
        """Compute, log and save every registered test observable (``glass.observables``)."""
        if not self._test:
            return
        graphs, self._test = self._test, []
        positions = boxes = r_edges = None
        if all("pos" in g for g in graphs):  # G4 needs the initial positions and the box
            positions, boxes = [g["pos"] for g in graphs], [g["box"] for g in graphs]
            r_max = min(self.g4_r_max, 0.5 * min(float(np.min(b)) for b in boxes))
            r_edges = np.linspace(0.5, r_max, self.g4_bins + 1)
        fields = Fields(
            [g["pred"] for g in graphs],
            [g["y"] for g in graphs],
            [g["type"] for g in graphs],
            positions,
            boxes,
            r_edges,
            TYPE_NAMES,
            self.tau_alpha_info()["column"],
            self.bootstrap,
            [g["y_half"] for g in graphs] if all("y_half" in g for g in graphs) else None,
        )
        obs = compute_observables(fields, stage="test")
        self.observables = obs
        for key, value, prog_bar in observable_metrics(obs, self.time_indices, stage="test"):
            self.log(key, value, prog_bar=prog_bar)
        table = self.pearson_table(obs)
        log.info("Test Pearson per timescale (A: mean over configurations):\n%s", table)
        out_dir = self._output_dir()
        if out_dir is not None and self.trainer.is_global_zero:
            self.save_observables(out_dir, obs)

    # ------------------------------------------------------------------ tau_alpha
    def tau_alpha_info(self) -> dict[str, float | int | bool]:
        """τα of the DataModule (``tau_alpha_index``, ``tau_alpha``) and the ``column`` of the
        predicted timescales that the headline keys read (``selected``: τα itself, else the
        closest in log time; column 0 when the DataModule does not know its τα)."""
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if self._tau_info is None or self._tau_info[0] is not dm:
            index = getattr(dm, "tau_alpha_index", None)
            tau = float(getattr(dm, "tau_alpha", math.nan))
            col, selected = tau_alpha_column(self.time_indices, index, self._times(), tau)
            info = {
                "tau_alpha_index": math.nan if index is None else int(index),
                "tau_alpha": tau,
                "tau_alpha_selected": selected,
                "headline_time_index": self.time_indices[col],
                "column": col,
            }
            self._tau_info = (dm, info)
            # (no DataModule -- a model outside a Trainer or fed bare DataLoaders: nothing to say)
            if dm is not None and index is None:
                log.warning(
                    "the data does not say which time index is tau_alpha: test/pearson_A and "
                    "val/pearson_A are read at time index %d (the first predicted)",
                    self.time_indices[col],
                )
            elif dm is not None and not selected:
                log.warning(
                    "tau_alpha (time index %d) is not among the predicted time indices %s: "
                    "test/pearson_A and val/pearson_A are read at time index %d, the closest",
                    index,
                    self.time_indices,
                    self.time_indices[col],
                )
        return self._tau_info[1]

    # ------------------------------------------------------------------ outputs
    def _times(self) -> list[float] | None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        try:
            times = list(dm.times) if dm is not None else None
        except Exception:  # times are only used for axes
            times = None
        return times if times and len(times) == len(self.time_indices) else None

    def _output_dir(self) -> Path | None:
        if self.figures_dir:
            return Path(self.figures_dir)
        if self._trainer is not None:
            return Path(self.trainer.default_root_dir)
        return None

    def pearson_table(self, obs: dict[str, np.ndarray]) -> str:
        """Human-readable Pearson per timescale for the log (nan where a type is absent)."""
        times = self._times()
        col = int(obs.get("tau_alpha_column", -1))
        nan = [np.nan] * len(self.time_indices)
        rows = ["  t_idx        time   rho_A [  interval  ]  rho_A_pooled   rho_B  ceil_A"]
        for k, t in enumerate(self.time_indices):
            tt = f"{times[k]:11.4g}" if times else " " * 11
            a, ap, b = (
                obs.get(key, nan)[k] for key in ("pearson_A", "pearson_pooled_A", "pearson_B")
            )
            lo, hi = obs.get("pearson_A_lo", nan)[k], obs.get("pearson_A_hi", nan)[k]
            ceil = obs.get("ceiling_A", nan)[k]
            mark = "  <- tau_alpha" if k == col else ""
            interval = f"[{lo:5.3f}, {hi:5.3f}]"
            rows.append(f"  {t:5d} {tt} {a:7.3f} {interval} {ap:13.3f} {b:7.3f} {ceil:7.3f}{mark}")
        return "\n".join(rows)

    def save_observables(self, out_dir: Path, obs: dict[str, np.ndarray]) -> None:
        """``observables.npz`` (every registered array, plus the time axes) and the figure of
        every registered observable (Pearson vs t, chi4 vs t, G4 vs r by default)."""
        from interplay.core import write_npz

        out_dir.mkdir(parents=True, exist_ok=True)
        times = self._times()
        extra = {"time_indices": np.asarray(self.time_indices)}
        if times:
            extra["times"] = np.asarray(times)
        write_npz(out_dir / "observables.npz", **obs, **extra)
        if self.write_figures:
            plot_observables(obs, out_dir, FigureContext(self.time_indices, times))

    def n_parameters(self) -> int:
        """Trainable parameters (closed-form models override: their fitted coefficients)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_results(self) -> dict[str, float | bool]:
        """``n_parameters``, where τα was read (``tau_alpha_info``) and the observables'
        results (``chi4_warning``, ...)."""
        info = {k: v for k, v in self.tau_alpha_info().items() if k != "column"}
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None and hasattr(dm, "split_units"):  # the x of a learning curve
            info["n_train_configs"] = float(len(dm.split_units()["train"]))
        return {"n_parameters": float(self.n_parameters()), **info} | observable_results(
            self.observables
        )


def split_batch(batch, pred: torch.Tensor) -> list[dict[str, np.ndarray]]:
    """Per-graph numpy arrays (pred, y, type, pos, box; ``y_half`` (2, N, T): the split-half
    labels of the noise ceiling, where the data has runs) of a torch_geometric batch."""
    ptr = batch.ptr.tolist() if hasattr(batch, "ptr") and batch.ptr is not None else [0, len(pred)]
    pred = pred.detach().float().cpu().numpy()
    y = batch.y.detach().float().cpu().numpy()
    types = batch.node_type.detach().cpu().numpy()
    pos = (
        batch.pos.detach().float().cpu().numpy()
        if getattr(batch, "pos", None) is not None
        else None
    )
    box = getattr(batch, "box", None)
    box = box.detach().float().cpu().numpy().reshape(-1, 3) if box is not None else None
    halves = None
    if getattr(batch, "y_half1", None) is not None:
        halves = torch.stack([batch.y_half1, batch.y_half2]).detach().float().cpu().numpy()
    out = []
    for g, (a, b) in enumerate(zip(ptr[:-1], ptr[1:], strict=True)):
        item = {"pred": pred[a:b], "y": y[a:b], "type": types[a:b]}
        if pos is not None and box is not None:
            item["pos"], item["box"] = pos[a:b], box[g]
        if halves is not None:
            item["y_half"] = halves[:, a:b]
        out.append(item)
    return out
