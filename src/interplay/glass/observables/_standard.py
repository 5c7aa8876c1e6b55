"""The observables every propensity model reports (thesis §2.4.3), declared once each.

* ``pearson`` -- Pearson per particle type and timescale, mean over configurations and
  pooled (Figs. 2.10-2.11), each with a percentile bootstrap interval over test
  configurations (``_bootstrap.py``). Logs ``test/pearson_{A,B}`` at τα (the column
  ``tau_alpha_column``: the dataset's τα index, or the selected one closest to it),
  ``test/pearson_{A,B}_mean`` (mean over the selected timescales), ``test/pearson_{A,B}_t{k}``,
  ``test/pearson_pooled_{A,B}_t{k}``, each with ``_lo`` / ``_hi``; at validation
  ``val/pearson_A`` (τα) and ``val/pearson_A_mean``; figure ``pearson_vs_time.png``.
* ``chi4`` -- chi4^s(t) of labels and predictions (A particles, Fig. 2.12), also with the
  configuration means removed (``center=True`` of :func:`chi4`): logs
  ``test/chi4_{true,pred}_t{k}`` and ``test/chi4_{true,pred}_centered_t{k}``; results
  ``chi4_n_configs`` and ``chi4_warning`` (fewer than :data:`CHI4_MIN_CONFIGS` test
  configurations); figure ``chi4_vs_time.png``. Needs two configurations.
* ``g4`` -- G4(r, t) of labels and predictions (Fig. 2.13): arrays only, figure
  ``g4_vs_r.png``. Needs positions and boxes.
* ``ceiling`` -- the labels' noise ceiling ``rho_max = sqrt(2r / (1 + r))`` from their
  split-half reliability ``r`` (``_ceiling.py``): arrays ``ceiling_{A,B}`` (with ``_lo`` /
  ``_hi``: ``r``'s bootstrap interval mapped through Spearman-Brown), ``reliability_{A,B}``,
  ``reliability_per_config_{A,B}``; logs ``test/ceiling_{A,B}`` at τα and
  ``test/ceiling_{A,B}_t{k}``; drawn in ``pearson_vs_time.png``. NaN, with one log line, when
  the data stores no runs (only their average: GlassBench ``md_prop``, ka3d).

Registration order is the order of the keys in ``observables.npz`` and in the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from interplay.glass.observables._bootstrap import (
    BootstrapSpec,
    mean_interval,
    pooled_interval,
    resample_indices,
)
from interplay.glass.observables._ceiling import spearman_brown, split_half_reliability
from interplay.glass.observables._fields import chi4, g4, pearson_per_config
from interplay.glass.observables._figures import plot_chi4, plot_g4, plot_pearson_vs_time
from interplay.glass.observables._registry import (
    Fields,
    FigureContext,
    compute_observables,
    register_observable,
)

log = logging.getLogger(__name__)

G4_R_MIN = 0.5  # smallest G4 radius (below the first peak of g(r), §2.4.3)
G4_R_MAX = 6.0  # default largest G4 radius (capped at half the smallest box length)
G4_EDGES = 45  # default number of G4 bin edges
#: chi4 over fewer test configurations is dominated by their differences in mean mobility
#: (3-of-13 BOTAN subsets give chi4 from 10 to 163, issue [glass-eval]): flagged.
CHI4_MIN_CONFIGS = 10
#: evaluate_fields' intervals (the models take theirs from ``model.bootstrap`` in conf/model).
DEFAULT_BOOTSTRAP = BootstrapSpec()


# ----------------------------------------------------------------------------------- Pearson
def _pearson(f: Fields) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    idx = resample_indices(len(f.preds), f.bootstrap) if f.bootstrap is not None else None
    level = f.bootstrap.level if f.bootstrap is not None else np.nan
    for k, name in enumerate(f.type_names):
        if not any((np.asarray(t) == k).sum() > 1 for t in f.types):
            continue  # a Pearson needs two particles of the type in some configuration
        res = pearson_per_config(f.preds, f.trues, f.types, particle_type=k)
        out[f"pearson_{name}"] = res["mean"]
        out[f"pearson_pooled_{name}"] = res["pooled"]
        out[f"pearson_per_config_{name}"] = res["per_config"]
        out[f"pearson_{name}_mean"] = np.asarray(np.nanmean(res["mean"]))
        if f.bootstrap is None:
            continue
        ci = mean_interval(res["per_config"], idx, level)
        out[f"pearson_{name}_lo"], out[f"pearson_{name}_hi"] = ci["lo"], ci["hi"]
        out[f"pearson_{name}_mean_lo"] = np.asarray(ci["mean_lo"])
        out[f"pearson_{name}_mean_hi"] = np.asarray(ci["mean_hi"])
        lo, hi = pooled_interval(res["sums"], idx, level)
        out[f"pearson_pooled_{name}_lo"], out[f"pearson_pooled_{name}_hi"] = lo, hi
    return out


def _types(obs: dict) -> list[str]:
    return [
        k.removeprefix("pearson_per_config_") for k in obs if k.startswith("pearson_per_config_")
    ]


def _with_interval(out: dict, key: str, obs: dict, name: str, k: int | None = None) -> None:
    """``key`` and, where the bootstrap ran, ``key_lo`` / ``key_hi`` from ``obs[name(_lo|_hi)]``
    (column ``k``, or the scalar)."""
    for suffix in ("", "_lo", "_hi"):
        if f"{name}{suffix}" in obs:
            value = obs[f"{name}{suffix}"]
            out[f"{key}{suffix}"] = float(value if k is None else value[k])


def _pearson_metrics(obs: dict, time_indices: Sequence[int], stage: str) -> dict[str, float]:
    col = int(obs.get("tau_alpha_column", 0))
    if stage == "val":
        if "pearson_A" not in obs:
            return {}
        rho = obs["pearson_A"]
        return {"val/pearson_A": float(rho[col]), "val/pearson_A_mean": float(np.nanmean(rho))}
    out: dict[str, float] = {}
    for name in _types(obs):
        _with_interval(out, f"test/pearson_{name}", obs, f"pearson_{name}", col)
        _with_interval(out, f"test/pearson_{name}_mean", obs, f"pearson_{name}_mean")
        for k, t in enumerate(time_indices):
            _with_interval(out, f"test/pearson_{name}_t{t}", obs, f"pearson_{name}", k)
            _with_interval(
                out, f"test/pearson_pooled_{name}_t{t}", obs, f"pearson_pooled_{name}", k
            )
    return out


def _pearson_figure(obs: dict, out_dir: Path, ctx: FigureContext) -> Path | None:
    if not _types(obs):
        return None
    col = int(obs.get("tau_alpha_column", 0))
    return plot_pearson_vs_time(obs, out_dir / "pearson_vs_time.png", ctx.times, tau_column=col)


# -------------------------------------------------------------------------------------- chi4
def _chi4(f: Fields) -> dict[str, np.ndarray]:
    n = len(f.preds)
    out: dict[str, np.ndarray] = {"chi4_n_configs": np.asarray(n)}
    if n < CHI4_MIN_CONFIGS:
        log.warning(
            "chi4 from %d test configuration(s) (< %d): dominated by the configurations' "
            "differences in mean mobility; compare chi4_*_centered (chi4_warning in results)",
            n,
            CHI4_MIN_CONFIGS,
        )
    if n < 2:  # a fluctuation over configurations
        return out
    for name, props in (("true", f.trues), ("pred", f.preds)):
        out[f"chi4_{name}"] = chi4(props, f.types)
        out[f"chi4_{name}_centered"] = chi4(props, f.types, center=True)
    return out


def _chi4_metrics(obs: dict, time_indices: Sequence[int], stage: str) -> dict[str, float]:
    out = {}
    if "chi4_true" in obs:
        for k, t in enumerate(time_indices):
            for name in ("true", "pred", "true_centered", "pred_centered"):
                out[f"test/chi4_{name}_t{t}"] = float(obs[f"chi4_{name}"][k])
    return out


def _chi4_results(obs: dict) -> dict[str, float | bool]:
    if "chi4_n_configs" not in obs:
        return {}
    n = int(obs["chi4_n_configs"])
    return {"chi4_n_configs": float(n), "chi4_warning": n < CHI4_MIN_CONFIGS}


def _chi4_figure(obs: dict, out_dir: Path, ctx: FigureContext) -> Path | None:
    if "chi4_true" not in obs:
        return None
    warn = int(obs["chi4_n_configs"]) < CHI4_MIN_CONFIGS
    return plot_chi4(obs, out_dir / "chi4_vs_time.png", ctx.times, warning=warn)


# ---------------------------------------------------------------------------------------- G4
def _g4(f: Fields) -> dict[str, np.ndarray]:
    r_edges = f.r_edges
    if r_edges is None:
        half = 0.5 * min(float(np.min(b)) for b in f.boxes)
        r_edges = np.linspace(G4_R_MIN, min(half, G4_R_MAX), G4_EDGES)
    return {
        "g4_r": 0.5 * (r_edges[1:] + r_edges[:-1]),
        "g4_true": g4(f.positions, f.boxes, f.trues, f.types, r_edges),
        "g4_pred": g4(f.positions, f.boxes, f.preds, f.types, r_edges),
    }


def _g4_figure(obs: dict, out_dir: Path, ctx: FigureContext) -> Path | None:
    return plot_g4(obs, out_dir / "g4_vs_r.png", ctx.time_indices) if "g4_true" in obs else None


# ----------------------------------------------------------------------------- noise ceiling
def _ceiling(f: Fields) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if f.label_halves is None:
        log.warning(
            "noise ceiling: the data stores only the average of its iso-configurational runs, "
            "not the runs, so the labels' split-half reliability cannot be measured: "
            "test/ceiling_* are NaN"
        )
    idx = None
    if f.bootstrap is not None and f.label_halves is not None:
        idx = resample_indices(len(f.preds), f.bootstrap)
    for k, name in enumerate(f.type_names):
        if not any((np.asarray(t) == k).sum() > 1 for t in f.types):
            continue  # as the Pearson: two particles of the type in some configuration
        if f.label_halves is None:
            out[f"ceiling_{name}"] = np.full(np.shape(f.trues[0])[-1], np.nan)
            continue
        rel = split_half_reliability(f.label_halves, f.types, particle_type=k)
        out[f"ceiling_{name}"] = spearman_brown(rel["mean"])
        out[f"reliability_{name}"] = rel["mean"]
        out[f"reliability_per_config_{name}"] = rel["per_config"]
        if f.bootstrap is not None:  # Spearman-Brown is increasing: it maps r's interval
            ci = mean_interval(rel["per_config"], idx, f.bootstrap.level)
            out[f"ceiling_{name}_lo"] = spearman_brown(ci["lo"])
            out[f"ceiling_{name}_hi"] = spearman_brown(ci["hi"])
    return out


def _ceiling_metrics(obs: dict, time_indices: Sequence[int], stage: str) -> dict[str, float]:
    col = int(obs.get("tau_alpha_column", 0))
    out: dict[str, float] = {}
    names = [k.removeprefix("ceiling_") for k in obs if k.startswith("ceiling_")]
    for name in (n for n in names if not n.endswith(("_lo", "_hi"))):
        _with_interval(out, f"test/ceiling_{name}", obs, f"ceiling_{name}", col)
        for k, t in enumerate(time_indices):
            _with_interval(out, f"test/ceiling_{name}_t{t}", obs, f"ceiling_{name}", k)
    return out


register_observable(
    "pearson",
    _pearson,
    _pearson_metrics,
    _pearson_figure,
    stages=("val", "test"),
    progress_bar=("val/pearson_A",),
)
register_observable("chi4", _chi4, _chi4_metrics, _chi4_figure, results=_chi4_results)
register_observable("g4", _g4, figure=_g4_figure, needs_geometry=True)
register_observable("ceiling", _ceiling, _ceiling_metrics)  # drawn by the Pearson figure


def evaluate_fields(
    preds: Sequence[np.ndarray],
    trues: Sequence[np.ndarray],
    types: Sequence[np.ndarray],
    positions: Sequence[np.ndarray] | None = None,
    boxes: Sequence[np.ndarray] | None = None,
    r_edges: np.ndarray | None = None,
    type_names: Sequence[str] = ("A", "B"),
    tau_alpha_column: int = 0,
    bootstrap: BootstrapSpec | None = DEFAULT_BOOTSTRAP,
    label_halves: Sequence[np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """All registered test observables of a test set (by default Pearson mean / pooled per
    type and timescale with bootstrap intervals, chi4 of predictions and labels, plain and
    centred, G4 when positions are given, the noise ceiling from ``label_halves``)."""
    fields = Fields(
        preds,
        trues,
        types,
        positions,
        boxes,
        r_edges,
        type_names,
        tau_alpha_column,
        bootstrap,
        label_halves,
    )
    return compute_observables(fields)
