"""The body of ``softness.py``: the SVM-softness toy-model experiments (paper Figs. 1-6).

``run(cfg)`` reads ``cfg.softness``, dispatches on ``softness.kind`` and writes into the Hydra
run directory: ``results.json`` (always ``inferred_energy_slope`` and ``test_accuracy``; RFE
adds ``rfe_best_n_features``), a CSV of the sweep where there is one, and PNG figures.

* ``large_data`` (Fig. 1): one SVM on a large balanced training set.
* ``positive_barriers`` (Fig. 7, Appendix A): as Fig. 1 with E0 > 0 (nearly all barriers
  positive), training set balanced, test set at the natural (small) rearranging fraction.
* ``data_size`` (Figs. 2-3): grid of training-set sizes x SVM C, ``n_repeats`` each.
* ``redundant`` (Figs. 4-5): relevant + redundant features; slope vs n_train, with and
  without the redundant columns.
* ``rfe`` (Fig. 6): recursive feature elimination, variance of the inferred barrier vs the
  number of features kept (averaged over ``n_repeats`` training sets).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from interplay.core import (
    ConfigError,
    check_choice,
    check_finite,
    check_int_at_least,
    check_open_unit,
    check_positive,
    write_csv,
    write_json,
)
from interplay.core.config import plain_value, resolve_output_dir
from interplay.softness_toy._arrhenius import LOG_PROB_MODES
from interplay.softness_toy._model import (
    FeatureSpec,
    Inference,
    Sample,
    SoftnessModel,
    balanced_sample,
    draw_sample,
    fit_svm,
    infer_energy,
    rfe_drop,
)

log = logging.getLogger(__name__)
KINDS = ("large_data", "positive_barriers", "data_size", "redundant", "rfe")


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Validated ``cfg.softness`` (see conf/softness.yaml for the meaning of every key)."""

    kind: str
    seed: int
    spec: FeatureSpec
    T_train: float
    temperatures: tuple[float, ...]
    n_train: int
    n_eval: int
    n_test: int
    C: float
    svm_kw: dict
    mode: str
    n_grid: int
    quantiles: tuple[float, float]
    sweep: dict
    rfe: dict
    dpi: int
    scatter_points: int


def _positive_list(name: str, values: Any, integer: bool = False) -> list:
    values = plain_value(values)
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{name}={values!r} must be a non-empty list.")
    if integer:
        return [check_int_at_least(f"{name}[{i}]", v, 4) for i, v in enumerate(values)]
    return [check_positive(f"{name}[{i}]", v) for i, v in enumerate(values)]


def settings_from_cfg(cfg: Any) -> Settings:
    """Check every value of ``cfg.softness``; ConfigError names the key and the allowed range."""
    if "softness" not in cfg:
        raise ConfigError("cfg has no `softness` section: compose conf/softness.yaml.")
    s = cfg.softness
    f = s.features
    spec = FeatureSpec(
        n_relevant=check_int_at_least("softness.features.n_relevant", f.n_relevant, 1),
        n_noise=check_int_at_least("softness.features.n_noise", f.n_noise, 0),
        n_redundant=check_int_at_least("softness.features.n_redundant", f.n_redundant, 0),
        coupling=check_positive("softness.features.coupling", f.coupling),
        barrier_offset=check_finite("softness.features.barrier_offset", f.barrier_offset),
        redundant_power=check_int_at_least(
            "softness.features.redundant_power", f.redundant_power, 2
        ),
    )
    if spec.n_redundant > spec.n_relevant:
        raise ConfigError(
            f"softness.features.n_redundant={spec.n_redundant} must be <= "
            f"softness.features.n_relevant={spec.n_relevant} (one redundant column per relevant)."
        )
    if spec.redundant_power % 2 == 0:
        raise ConfigError(
            f"softness.features.redundant_power={spec.redundant_power} must be odd "
            "(parity symmetry, Sec. II)."
        )
    temps = _positive_list("softness.temperatures", s.temperatures)
    if len(set(temps)) < 2:
        raise ConfigError(f"softness.temperatures={temps} needs >= 2 distinct values (Fig. 1b).")
    q = plain_value(s.inference.softness_quantiles)
    if not (isinstance(q, list) and len(q) == 2):
        raise ConfigError(f"softness.inference.softness_quantiles={q!r} must be [low, high].")
    lo = check_open_unit("softness.inference.softness_quantiles[0]", q[0])
    hi = check_open_unit("softness.inference.softness_quantiles[1]", q[1])
    if lo >= hi:
        raise ConfigError(f"softness.inference.softness_quantiles={q} must be increasing.")
    sweep = {
        "n_train": _positive_list("softness.sweep.n_train", s.sweep.n_train, integer=True),
        "C": _positive_list("softness.sweep.C", s.sweep.C),
        "n_repeats": check_int_at_least("softness.sweep.n_repeats", s.sweep.n_repeats, 1),
        "figure_n_train": check_int_at_least(
            "softness.sweep.figure_n_train", s.sweep.figure_n_train, 4
        ),
        "figure_C": check_positive("softness.sweep.figure_C", s.sweep.figure_C),
    }
    rfe = {
        "min_features": check_int_at_least("softness.rfe.min_features", s.rfe.min_features, 1),
        "n_repeats": check_int_at_least("softness.rfe.n_repeats", s.rfe.n_repeats, 1),
    }
    if rfe["min_features"] > spec.n_features:
        raise ConfigError(
            f"softness.rfe.min_features={rfe['min_features']} must be <= the number of "
            f"features {spec.n_features}."
        )
    kind = str(check_choice("softness.kind", s.kind, KINDS))
    if kind == "positive_barriers" and not spec.barrier_offset > 0:
        raise ConfigError(
            f"softness.features.barrier_offset={spec.barrier_offset} must be > 0 for "
            "softness.kind=positive_barriers (Appendix A: positive barriers); use "
            "experiment=softness_toy_positive_barriers or kind=large_data for centred barriers."
        )
    inf, fig = s.inference, s.figure
    return Settings(
        kind=kind,
        seed=check_int_at_least("softness.seed", s.seed, 0),
        spec=spec,
        T_train=check_positive("softness.T_train", s.T_train),
        temperatures=tuple(temps),
        n_train=check_int_at_least("softness.n_train", s.n_train, 4),
        n_eval=check_int_at_least("softness.n_eval", s.n_eval, 100),
        n_test=check_int_at_least("softness.n_test", s.n_test, 100),
        C=check_positive("softness.svm.C", s.svm.C),
        svm_kw={
            "max_iter": check_int_at_least("softness.svm.max_iter", s.svm.max_iter, 1),
            "tol": check_positive("softness.svm.tol", s.svm.tol),
            "intercept_scaling": check_positive(
                "softness.svm.intercept_scaling", s.svm.intercept_scaling
            ),
        },
        mode=str(check_choice("softness.inference.log_prob", inf.log_prob, LOG_PROB_MODES)),
        n_grid=check_int_at_least("softness.inference.n_softness_grid", inf.n_softness_grid, 2),
        quantiles=(lo, hi),
        sweep=sweep,
        rfe=rfe,
        dpi=check_int_at_least("softness.figure.dpi", s.figure.dpi, 20),
        scatter_points=check_int_at_least("softness.figure.scatter_points", fig.scatter_points, 1),
    )  # fmt: skip


# -- one SVM + inference ----------------------------------------------------------------------


@dataclass
class Probes:
    """Samples independent of the training set: per-T logistic-fit samples and the test set."""

    evals: list[Sample]
    test: Sample


def draw_probes(rng: np.random.Generator, st: Settings, spec: FeatureSpec) -> Probes:
    evals = [draw_sample(rng, st.n_eval, spec, T) for T in st.temperatures]
    return Probes(evals, draw_sample(rng, st.n_test, spec, st.T_train))


def fit_and_infer(
    st: Settings,
    train: Sample,
    probes: Probes,
    C: float,
    columns: np.ndarray | None = None,
) -> tuple[Inference, SoftnessModel]:
    model = fit_svm(train.x, train.y, C, columns=columns, **st.svm_kw)
    inf = infer_energy(
        model,
        probes.evals,
        st.temperatures,
        probes.test,
        mode=st.mode,
        n_grid=st.n_grid,
        quantiles=st.quantiles,
    )
    return inf, model


def repeat_rngs(seed: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def _weights(model: SoftnessModel, spec: FeatureSpec) -> dict[str, float]:
    names = spec.names()
    w = model.weights / np.linalg.norm(model.weights)
    return {names[c]: float(v) for c, v in zip(model.columns, w)}


# -- the four experiments ---------------------------------------------------------------------


def run_large_data(st: Settings, out: Path) -> dict:
    """Fig. 1: relevant + noise features, one large balanced training set."""
    return _single_fit(st, out / "fig1_large_data.png", "Fig. 1")


def run_positive_barriers(st: Settings, out: Path) -> dict:
    """Fig. 7 (Appendix A): Fig. 1 with E = E0 + sum a_k x_k, E0 > 0 (positive barriers)."""
    results = _single_fit(st, out / "fig7_positive_barriers.png", "Fig. 7 (App. A)")
    sigma_e = st.spec.coupling * np.sqrt(st.spec.n_relevant)
    return {
        **results,
        "positive_barrier_fraction": float(norm.cdf(st.spec.barrier_offset / sigma_e)),
    }


def _single_fit(st: Settings, png: Path, figure_name: str) -> dict:
    """One balanced training set of ``st.n_train`` on all features, its figure and summary."""
    rng = np.random.default_rng(st.seed)
    train = balanced_sample(rng, st.n_train, st.spec, st.T_train)
    probes = draw_probes(rng, st, st.spec)
    inf, model = fit_and_infer(st, train, probes, st.C)
    e0 = f", E0={st.spec.barrier_offset:g}" if st.spec.barrier_offset else ""
    _figure(st, inf, png, f"{figure_name}: n_train={st.n_train}, C={st.C:g}{e0}")
    return {
        **inf.summary(),
        "test_rearranging_fraction": float(np.mean(probes.test.y)),
        "n_train": st.n_train,
        "C": st.C,
        "svm_weights": _weights(model, st.spec),
    }


def _size_grid(st: Settings, spec: FeatureSpec, Cs: list[float], label: str) -> pd.DataFrame:
    """Every (repeat, n_train, C) with probes shared within a repeat -> one row each."""
    rows = []
    for rep, rng in enumerate(repeat_rngs(st.seed, st.sweep["n_repeats"])):
        probes = draw_probes(rng, st, spec)
        for n in st.sweep["n_train"]:
            train = balanced_sample(rng, n, spec, st.T_train)
            for C in Cs:
                inf, _ = fit_and_infer(replace(st, spec=spec), train, probes, C)
                rows.append(
                    {"features": label, "repeat": rep, "n_train": n, "C": C, **inf.summary()}
                )
        log.info("%s: repeat %d done", label, rep)
    return pd.DataFrame(rows)


def _figure(st: Settings, inf: Inference, path: Path, title: str) -> None:
    from interplay.softness_toy._figures import plot_inference

    plot_inference(inf, path, title, st.mode, st.dpi, st.scatter_points)


def run_data_size(st: Settings, out: Path) -> dict:
    """Figs. 2-3: slope of inferred vs true barrier and accuracy vs n_train and C."""
    from interplay.softness_toy._figures import plot_sweep

    frame = _size_grid(st, st.spec, st.sweep["C"], "relevant+noise")
    write_csv(out / "data_size.csv", frame)
    plot_sweep(frame.drop(columns=["features", "repeat"]), "C", out / "fig3_data_size.png",
               "Fig. 3: training-set size and C", st.dpi)  # fmt: skip
    rng = np.random.default_rng(st.seed + 1)  # Fig. 2: one small training set
    n2, C2 = st.sweep["figure_n_train"], st.sweep["figure_C"]
    train = balanced_sample(rng, n2, st.spec, st.T_train)
    inf, _ = fit_and_infer(st, train, draw_probes(rng, st, st.spec), C2)
    _figure(st, inf, out / "fig2_small_data.png", f"Fig. 2: n_train={n2}, C={C2:g}")
    return {**inf.summary(), "n_train": n2, "C": C2, "grid": _grid_summary(frame, ["n_train", "C"])}


def _grid_summary(frame: pd.DataFrame, keys: list[str]) -> list[dict]:
    cols = ["inferred_energy_slope", "test_accuracy", "inferred_energy_variance"]
    stats = frame.groupby(keys)[cols].agg(["mean", "std"])
    stats.columns = [f"{a}_{b}" for a, b in stats.columns]
    return stats.reset_index().to_dict(orient="records")


def run_redundant(st: Settings, out: Path) -> dict:
    """Figs. 4-5: relevant + redundant features; large-n figure and slope vs n_train."""
    from interplay.softness_toy._figures import plot_sweep

    plain = replace(st.spec, n_redundant=0)
    frame = pd.concat(
        [
            _size_grid(st, st.spec, [st.C], f"with {st.spec.n_redundant} redundant"),
            _size_grid(st, plain, [st.C], "relevant only"),
        ]
    )
    write_csv(out / "redundant_sweep.csv", frame)
    plot_sweep(frame.drop(columns=["C", "repeat"]), "features", out / "fig5_redundant_sweep.png",
               f"Fig. 5: redundant features, C={st.C:g}", st.dpi)  # fmt: skip
    return {
        **_single_fit(st, out / "fig4_redundant.png", "Fig. 4"),
        "grid": _grid_summary(frame, ["features", "n_train"]),
    }


def rfe_rows(st: Settings, rng: np.random.Generator, repeat: int) -> list[dict]:
    """One RFE path: fit, record, drop the smallest |w_k|, refit ... (Sec. V, Fig. 6)."""
    spec, names = st.spec, st.spec.names()
    train = balanced_sample(rng, st.n_train, spec, st.T_train)
    probes = draw_probes(rng, st, spec)
    columns = np.arange(spec.n_features)
    rows = []
    while len(columns) >= st.rfe["min_features"]:
        inf, model = fit_and_infer(st, train, probes, st.C, columns)
        n_rel_kept = int(np.sum(columns < spec.n_relevant))
        kept = ",".join(names[c] for c in columns)
        rows.append({"repeat": repeat, "n_features": len(columns), "n_relevant_kept": n_rel_kept,
                     "kept": kept, **inf.summary()})  # fmt: skip
        if len(columns) == 1:
            break
        columns = rfe_drop(model)
    return rows


def run_rfe(st: Settings, out: Path) -> dict:
    """Fig. 6: variance of the inferred barrier (no true E needed) vs features kept."""
    from interplay.softness_toy._figures import plot_rfe

    rows = []
    for rep, rng in enumerate(repeat_rngs(st.seed, st.rfe["n_repeats"])):
        rows += rfe_rows(st, rng, rep)
    frame = pd.DataFrame(rows)
    write_csv(out / "rfe.csv", frame)
    mean = frame.drop(columns=["kept"]).groupby("n_features").mean()
    best = int(mean["inferred_energy_variance"].idxmax())
    full = int(frame["n_features"].max())
    plot_rfe(frame.drop(columns=["kept", "repeat"]), best, st.spec.n_relevant,
             out / "fig6_rfe.png", st.dpi)  # fmt: skip
    return {
        "inferred_energy_slope": float(mean.loc[full, "inferred_energy_slope"]),
        "test_accuracy": float(mean.loc[full, "test_accuracy"]),
        "inferred_energy_variance": float(mean.loc[full, "inferred_energy_variance"]),
        "rfe_best_n_features": best,
        "rfe_best_inferred_energy_slope": float(mean.loc[best, "inferred_energy_slope"]),
        "rfe_best_test_accuracy": float(mean.loc[best, "test_accuracy"]),
        "rfe_best_inferred_energy_variance": float(mean.loc[best, "inferred_energy_variance"]),
        "rfe_best_n_relevant_kept": float(mean.loc[best, "n_relevant_kept"]),
        "rfe_max_accuracy_n_features": int(mean["test_accuracy"].idxmax()),
        "n_train": st.n_train,
        "C": st.C,
    }


RUNNERS = {
    "large_data": run_large_data,
    "positive_barriers": run_positive_barriers,
    "data_size": run_data_size,
    "redundant": run_redundant,
    "rfe": run_rfe,
}


def run(cfg: Any, output_dir: str | Path | None = None) -> dict:
    """Run ``cfg.softness.kind`` and write results.json (+ CSV, PNG) into ``output_dir``."""
    st = settings_from_cfg(cfg)
    out = resolve_output_dir(output_dir)
    start = time.perf_counter()
    results = RUNNERS[st.kind](st, out)
    results.update(
        kind=st.kind,
        seed=st.seed,
        log_prob_mode=st.mode,
        T_train=st.T_train,
        temperatures=list(st.temperatures),
        n_features=st.spec.n_features,
        seconds=round(time.perf_counter() - start, 2),
    )
    write_json(out / "results.json", results)
    keys = ("inferred_energy_slope", "test_accuracy", "bayes_accuracy", "rfe_best_n_features")
    shown = {k: round(results[k], 4) for k in keys if k in results}
    print(f"softness toy [{st.kind}] {shown} ({results['seconds']} s) -> {out / 'results.json'}")
    return results
