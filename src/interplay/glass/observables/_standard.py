"""The observables every propensity model reports (thesis §2.4.3), declared once each.

* ``pearson`` -- Pearson per particle type and timescale, mean over configurations and
  pooled (Figs. 2.10-2.11): logs ``test/pearson_{A,B}`` (first timescale),
  ``test/pearson_{A,B}_t{k}``, ``test/pearson_pooled_{A,B}_t{k}``; at validation
  ``val/pearson_A`` (first timescale) and ``val/pearson_A_mean`` (mean over timescales);
  figure ``pearson_vs_time.png``.
* ``chi4`` -- chi4^s(t) of labels and predictions (A particles, Fig. 2.12): logs
  ``test/chi4_{true,pred}_t{k}``; figure ``chi4_vs_time.png``. Needs two configurations.
* ``g4`` -- G4(r, t) of labels and predictions (Fig. 2.13): arrays only, figure
  ``g4_vs_r.png``. Needs positions and boxes.

Registration order is the order of the keys in ``observables.npz`` and in the logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from interplay.glass.observables._fields import chi4, g4, pearson_per_config
from interplay.glass.observables._figures import plot_chi4, plot_g4, plot_pearson_vs_time
from interplay.glass.observables._registry import (
    Fields,
    FigureContext,
    compute_observables,
    register_observable,
)

G4_R_MIN = 0.5  # smallest G4 radius (below the first peak of g(r), §2.4.3)
G4_R_MAX = 6.0  # default largest G4 radius (capped at half the smallest box length)
G4_EDGES = 45  # default number of G4 bin edges


# ----------------------------------------------------------------------------------- Pearson
def _pearson(f: Fields) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, name in enumerate(f.type_names):
        if not any((np.asarray(t) == k).sum() > 1 for t in f.types):
            continue  # a Pearson needs two particles of the type in some configuration
        res = pearson_per_config(f.preds, f.trues, f.types, particle_type=k)
        out[f"pearson_{name}"] = res["mean"]
        out[f"pearson_pooled_{name}"] = res["pooled"]
        out[f"pearson_per_config_{name}"] = res["per_config"]
    return out


def _pearson_metrics(obs: dict, time_indices: Sequence[int], stage: str) -> dict[str, float]:
    if stage == "val":
        if "pearson_A" not in obs:
            return {}
        rho = obs["pearson_A"]
        return {"val/pearson_A": float(rho[0]), "val/pearson_A_mean": float(np.nanmean(rho))}
    out = {}
    for name in [k.removeprefix("pearson_pooled_") for k in obs if k.startswith("pearson_pooled_")]:
        out[f"test/pearson_{name}"] = float(obs[f"pearson_{name}"][0])
        for k, t in enumerate(time_indices):
            out[f"test/pearson_{name}_t{t}"] = float(obs[f"pearson_{name}"][k])
            out[f"test/pearson_pooled_{name}_t{t}"] = float(obs[f"pearson_pooled_{name}"][k])
    return out


def _pearson_figure(obs: dict, out_dir: Path, ctx: FigureContext) -> Path | None:
    if not any(k.startswith("pearson_pooled_") for k in obs):
        return None
    return plot_pearson_vs_time(obs, out_dir / "pearson_vs_time.png", ctx.times)


# -------------------------------------------------------------------------------------- chi4
def _chi4(f: Fields) -> dict[str, np.ndarray]:
    if len(f.preds) < 2:  # a fluctuation over configurations
        return {}
    return {"chi4_true": chi4(f.trues, f.types), "chi4_pred": chi4(f.preds, f.types)}


def _chi4_metrics(obs: dict, time_indices: Sequence[int], stage: str) -> dict[str, float]:
    out = {}
    if "chi4_true" in obs:
        for k, t in enumerate(time_indices):
            out[f"test/chi4_true_t{t}"] = float(obs["chi4_true"][k])
            out[f"test/chi4_pred_t{t}"] = float(obs["chi4_pred"][k])
    return out


def _chi4_figure(obs: dict, out_dir: Path, ctx: FigureContext) -> Path | None:
    return plot_chi4(obs, out_dir / "chi4_vs_time.png", ctx.times) if "chi4_true" in obs else None


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


register_observable(
    "pearson",
    _pearson,
    _pearson_metrics,
    _pearson_figure,
    stages=("val", "test"),
    progress_bar=("val/pearson_A",),
)
register_observable("chi4", _chi4, _chi4_metrics, _chi4_figure)
register_observable("g4", _g4, figure=_g4_figure, needs_geometry=True)


def evaluate_fields(
    preds: Sequence[np.ndarray],
    trues: Sequence[np.ndarray],
    types: Sequence[np.ndarray],
    positions: Sequence[np.ndarray] | None = None,
    boxes: Sequence[np.ndarray] | None = None,
    r_edges: np.ndarray | None = None,
    type_names: Sequence[str] = ("A", "B"),
) -> dict[str, np.ndarray]:
    """All registered test observables of a test set (by default Pearson mean / pooled per
    type and timescale, chi4 of predictions and labels, G4 when positions are given)."""
    return compute_observables(Fields(preds, trues, types, positions, boxes, r_edges, type_names))
