"""The paper's diagnostics on real data (papers/svm_softness_toy_model.txt, Secs. III-V):
softness from a linear SVM, P(R|S, T) and the Arrhenius inference of the barrier (Fig. 1a-c),
the variance of the inferred barrier and recursive feature elimination tracking it (Fig. 6).

Inputs are plain arrays per temperature (descriptors, labels, configuration index), so this
module knows nothing of where they come from; ``softness_glass.py`` feeds it the ka3d data
(interplay.glass.analysis.rearrangement_set). No true barrier exists here: the only checks
are the ones the paper proposes for real data (linearity, Arrhenius fits, Var of dE, RFE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from interplay.core import (
    ConfigError,
    check_choice,
    check_int_at_least,
    check_open_unit,
    check_positive,
    write_csv,
    write_json,
)
from interplay.core.config import plain_value
from interplay.softness_toy._arrhenius import LOG_PROB_MODES, ArrheniusFit, softness_arrhenius
from interplay.softness_toy._model import SoftnessModel, fit_svm, rfe_drop


@dataclass
class LabelledSet:
    """Particles at one temperature: features (n, d), labels R (n,), configuration index (n,)."""

    T: float
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    group_test: np.ndarray


@dataclass(frozen=True)
class DiagnosticSettings:
    C: float = 0.1
    svm_kw: dict | None = None
    mode: str = "logit"
    n_grid: int = 9
    quantiles: tuple[float, float] = (0.05, 0.95)
    rfe_drop_fraction: float = 0.1  # share of the kept features removed per RFE refit
    rfe_min_features: int = 2
    n_bootstrap: int = 200  # resamples of the test particles for the intervals
    seed: int = 0


def balanced_indices(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All particles of the rarer class and as many drawn from the other (ref. [8])."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n = min(len(pos), len(neg))
    if n == 0:
        raise ConfigError(
            "a training temperature has no rearranging (or no non-rearranging) particle: "
            "change the displacement threshold or the rearrangement time."
        )
    return np.sort(
        np.concatenate([rng.choice(pos, n, replace=False), rng.choice(neg, n, replace=False)])
    )


def training_set(data: Sequence[LabelledSet], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Balanced per temperature, pooled over temperatures."""
    idx = [balanced_indices(d.y_train, rng) for d in data]
    return (
        np.concatenate([d.x_train[i] for d, i in zip(data, idx)]),
        np.concatenate([d.y_train[i] for d, i in zip(data, idx)]),
    )


def _inference(
    model: SoftnessModel,
    data: Sequence[LabelledSet],
    st: DiagnosticSettings,
    rows: Sequence[np.ndarray] | None = None,
) -> tuple[ArrheniusFit, np.ndarray]:
    """Figs. 1a-c on the test particles (``rows[i]`` resamples temperature i); the inferred
    barrier of every (resampled) test particle."""
    rows = rows or [np.arange(len(d.y_test)) for d in data]
    soft = [model.softness(d.x_test[r]) for d, r in zip(data, rows)]
    s_all = np.concatenate(soft)
    fit = softness_arrhenius(
        soft,
        [d.y_test[r] for d, r in zip(data, rows)],
        [d.T for d in data],
        s_all,
        st.mode,
        st.n_grid,
        st.quantiles,
    )
    return fit, fit.inferred_barrier(s_all)


def _scores(model: SoftnessModel, data: Sequence[LabelledSet], st: DiagnosticSettings) -> dict:
    fit, barrier = _inference(model, data, st)
    out = {
        "inferred_barrier_variance": float(np.var(barrier)),
        "barrier_vs_softness_slope": fit.barrier_vs_softness["slope"],
        "barrier_vs_softness_r2": fit.barrier_vs_softness["r2"],
    }
    for d in data:
        pred = model.predict(d.x_test)
        recall = [np.mean(pred[d.y_test == c] == c) for c in (0, 1)]
        out[f"balanced_accuracy_T{d.T:g}"] = float(np.mean(recall))
    out["balanced_accuracy"] = float(np.mean([out[f"balanced_accuracy_T{d.T:g}"] for d in data]))
    return out


def bootstrap(
    model: SoftnessModel, data: Sequence[LabelledSet], st: DiagnosticSettings, level: float = 0.95
) -> dict:
    """Percentile intervals of Var(dE) and of dE's slope over resampled test particles (per
    temperature, with replacement; particles of one configuration are correlated, so these
    intervals are lower bounds on the uncertainty)."""
    rng = np.random.default_rng(st.seed + 1)
    draws = []
    for _ in range(st.n_bootstrap):
        rows = [rng.integers(0, len(d.y_test), len(d.y_test)) for d in data]
        fit, barrier = _inference(model, data, st, rows)
        draws.append((np.var(barrier), fit.barrier_vs_softness["slope"]))
    lo, hi = np.quantile(np.array(draws), [(1 - level) / 2, (1 + level) / 2], axis=0)
    return {
        "inferred_barrier_variance_lo": float(lo[0]),
        "inferred_barrier_variance_hi": float(hi[0]),
        "barrier_vs_softness_slope_lo": float(lo[1]),
        "barrier_vs_softness_slope_hi": float(hi[1]),
    }


def diagnose(
    data: Sequence[LabelledSet], st: DiagnosticSettings, names: Sequence[str]
) -> tuple[dict, ArrheniusFit, np.ndarray, pd.DataFrame]:
    """Softness on every feature (Fig. 1 analogue with intervals), then the RFE path (Fig. 6):
    refit, score, drop the ``rfe_drop_fraction`` smallest |w_k| ... down to
    ``rfe_min_features``. Returns (summary, Fig. 1 fit, inferred barrier of every test
    particle, one RFE row per refit)."""
    if len({d.T for d in data}) < 2:
        raise ConfigError("the Arrhenius fit needs >= 2 distinct temperatures (Fig. 1b)")
    rng = np.random.default_rng(st.seed)
    x, y = training_set(data, rng)
    svm_kw = st.svm_kw or {}
    columns = np.arange(x.shape[1])
    rows, full = [], None
    while True:
        model = fit_svm(x, y, st.C, columns=columns, **svm_kw)
        scores = _scores(model, data, st)
        rows.append(
            {"n_features": len(columns), **scores, "kept": ",".join(names[c] for c in columns)}
        )
        if full is None:
            full = (model, scores)
        if len(columns) <= st.rfe_min_features:
            break
        n_drop = max(1, int(st.rfe_drop_fraction * len(columns)))
        columns = rfe_drop(model, min(n_drop, len(columns) - st.rfe_min_features))
    frame = pd.DataFrame(rows)
    model, scores = full
    fit, barrier = _inference(model, data, st)
    best = int(frame.loc[frame["inferred_barrier_variance"].idxmax(), "n_features"])
    summary = {
        **scores,
        **bootstrap(model, data, st),
        "n_train_balanced": int(len(y)),
        "rearranging_fraction": {f"T{d.T:g}": float(np.mean(d.y_test)) for d in data},
        "arrhenius_alpha": fit.alpha.tolist(),
        "arrhenius_beta": fit.beta.tolist(),
        "rfe_best_n_features": best,
        "rfe_best": frame.loc[frame["n_features"] == best].drop(columns=["kept"]).iloc[0].to_dict(),
        "rfe_max_balanced_accuracy_n_features": int(
            frame.loc[frame["balanced_accuracy"].idxmax(), "n_features"]
        ),
    }
    return summary, fit, barrier, frame


def diagnostic_settings_from_cfg(s) -> DiagnosticSettings:
    """Check ``cfg.softness_glass.{svm,inference,rfe,bootstrap}`` (conf/softness_glass.yaml)."""
    q = [
        check_open_unit(f"softness_glass.inference.softness_quantiles[{i}]", v)
        for i, v in enumerate(plain_value(s.inference.softness_quantiles))
    ]
    if len(q) != 2 or q[0] >= q[1]:
        raise ConfigError(f"softness_glass.inference.softness_quantiles={q} must be [low, high]")
    return DiagnosticSettings(
        C=check_positive("softness_glass.svm.C", s.svm.C),
        svm_kw={
            "max_iter": check_int_at_least("softness_glass.svm.max_iter", s.svm.max_iter, 1),
            "tol": check_positive("softness_glass.svm.tol", s.svm.tol),
            "intercept_scaling": check_positive(
                "softness_glass.svm.intercept_scaling", s.svm.intercept_scaling
            ),
        },
        mode=str(
            check_choice("softness_glass.inference.log_prob", s.inference.log_prob, LOG_PROB_MODES)
        ),
        n_grid=check_int_at_least(
            "softness_glass.inference.n_softness_grid", s.inference.n_softness_grid, 2
        ),
        quantiles=(q[0], q[1]),
        rfe_drop_fraction=check_open_unit("softness_glass.rfe.drop_fraction", s.rfe.drop_fraction),
        rfe_min_features=check_int_at_least(
            "softness_glass.rfe.min_features", s.rfe.min_features, 1
        ),
        n_bootstrap=check_int_at_least("softness_glass.bootstrap.n", s.bootstrap.n, 1),
        seed=check_int_at_least("softness_glass.seed", s.seed, 0),
    )


def run_real_data(
    data: Sequence[LabelledSet],
    st: DiagnosticSettings,
    names: Sequence[str],
    out: Path,
    dpi: int = 120,
    label: str = "",
) -> dict:
    """diagnose() + results.json, rfe.csv, fig1_real.png (Fig. 1a-c + histogram of dE) and
    fig6_rfe_real.png (Var dE, balanced accuracy, dE slope vs features kept)."""
    from interplay.softness_toy._figures import plot_inference, plot_rfe

    summary, fit, barrier, frame = diagnose(data, st, names)
    write_csv(out / "rfe.csv", frame)
    temps = ", ".join(f"{d.T:g}" for d in data)
    plot_inference(
        fit,
        out / "fig1_real.png",
        f"Fig. 1 on {label} (T = {temps}), {len(names)} features, C={st.C:g}",
        st.mode,
        dpi,
        inferred=barrier,
    )
    keys = (
        ("inferred_barrier_variance", "(a) Var inferred barrier"),
        ("balanced_accuracy", "(b) balanced test accuracy (mean over T)"),
        ("barrier_vs_softness_slope", "(c) slope of dE(S)"),
    )
    plot_rfe(
        frame.drop(columns=["kept"]),
        summary["rfe_best_n_features"],
        None,
        out / "fig6_rfe_real.png",
        dpi,
        keys,
        f"Fig. 6 on {label}",
        logx=True,
    )
    summary["temperatures"] = [d.T for d in data]
    write_json(out / "results.json", summary)
    return summary
