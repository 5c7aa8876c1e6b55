"""Chapter-2 figures and Table 2.1 from multirun directories (``sweep_report``), and sweep
bounds that come from the data."""

from __future__ import annotations

import json

import hydra
import numpy as np
import pandas as pd
import pytest
from helpers import compose_config

from interplay.glass.analysis import sweep_report
from interplay.glass.analysis._sweeps import lr_drops, training_curve

TIMES = np.array([0.5, 40.0])  # t0 short, t1 = tau_alpha


def _job(root, num, l_max, seed, rho, steps):
    """One finished propensity job as train.py leaves it (only the files collect reads)."""
    job = root / str(num)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(f"- model.net.l_max={l_max}\n- seed={seed}\n")
    results = {
        "tau_alpha_index": 1,
        "test/pearson_A_t0": rho[0],
        "test/pearson_A_t1": rho[1],
        "test/pearson_A": rho[1],
        "test/pearson_A_mean": float(np.mean(rho)),
        "test/ceiling_A": 0.9,
        "optimizer_steps": steps,
    }
    (job / "results.json").write_text(json.dumps(results))
    np.savez(job / "observables.npz", times=TIMES, time_indices=np.array([0, 1]),
             pearson_A=np.array(rho), pearson_A_lo=np.array(rho) - 0.05,
             pearson_A_hi=np.array(rho) + 0.05, ceiling_A=np.array([0.95, 0.9]))  # fmt: skip
    (job / "csv" / "v0").mkdir(parents=True)
    lr = [1e-3, 1e-3, 1e-3, 5e-4, 5e-4]  # halved at epoch 3
    rows = [{"epoch": e, "step": e, "train/loss": 1 / (e + 1), "train/lr": lr[e]} for e in range(5)]
    rows += [{"epoch": e, "step": e, "val/loss": 1.2 / (e + 1), "val/pearson_A": 0.1 * e}
             for e in range(5)]  # fmt: skip
    pd.DataFrame(rows).to_csv(job / "csv" / "v0" / "metrics.csv", index=False)


def test_sweep_report_table_and_figures(tmp_path):
    rng = np.random.default_rng(0)
    rho = {(l_max, seed): rng.uniform(0.2, 0.8, 2) for l_max in (0, 1) for seed in (1, 2, 3)}
    for num, ((l_max, seed), r) in enumerate(rho.items()):
        _job(tmp_path, num, l_max, seed, r.tolist(), steps=100 if l_max == 0 else 200)
    written = {p.name for p in sweep_report(tmp_path)}
    assert {"training_curves.png", "pearson_vs_time.png", "pearson_vs_l_max.png",
            "table.csv", "table.md"} <= written  # fmt: skip
    table = pd.read_csv(tmp_path / "summary" / "table.csv").set_index("model.net.l_max")
    for l_max in (0, 1):
        at_tau = np.array([rho[(l_max, s)][1] for s in (1, 2, 3)])
        row = table.loc[l_max]
        assert row["pearson_A_median"] == pytest.approx(np.median(at_tau))
        assert row["pearson_A_best"] == pytest.approx(at_tau.max())
        assert row["pearson_A_worst"] == pytest.approx(at_tau.min())
        assert row["pearson_A_sem"] == pytest.approx(at_tau.std(ddof=1) / np.sqrt(3))
        assert row["pearson_A_n"] == 3
    markdown = (tmp_path / "summary" / "table.md").read_text()
    assert "Budgets differ" in markdown  # 100 vs 200 optimizer steps side by side


def test_training_curve_marks_the_lr_drops(tmp_path):
    _job(tmp_path, 0, 1, 1, [0.3, 0.4], steps=5)
    curve = training_curve(tmp_path / "0")
    assert list(curve.index) == [0, 1, 2, 3, 4]
    assert curve["val/pearson_A"].tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert lr_drops(curve) == [3]


def test_learning_curve_sweep_stays_within_the_split():
    """experiment=learning_curve: every n_train of its sweep fits ka3d's training split, and
    the largest point (null) is the whole split."""
    cfg = compose_config(["experiment=learning_curve"])
    values = str(cfg.hydra.sweeper.params["data.n_train"]).split("#")[0].split(",")
    sizes = []
    for value in values:
        value = value.strip()
        cfg = compose_config(["experiment=learning_curve", f"data.n_train={value}"])
        split = hydra.utils.instantiate(cfg.data).split_units()
        sizes.append(len(split["train"]))
        if value != "null":
            assert sizes[-1] == int(value)
    full = compose_config(["experiment=learning_curve"])
    assert sizes[-1] == len(hydra.utils.instantiate(full.data).split_units()["train"])
    assert sizes == sorted(sizes)
