"""AD digits, the MLP and the frozen-ResNet probe (thesis §1.3.4, Fig. 1.9-right)."""

import csv
import json
import warnings

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from helpers import compose_config, run_script
from hydra.utils import instantiate

from interplay.core import ConfigError
from interplay.imbalance.data import DigitsAnomalyDataModule
from interplay.imbalance.models import (
    MLPClassifier,
    ResNet,
    ResNetProbe,
    build_resnet,
    frozen_backbone,
)
from interplay.runs import collect
from interplay.runs import train_and_test as run

QUICK = [
    "data=ad_digits",
    "model=mlp",
    "callbacks=none",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
]


def fit_and_test(model, datamodule, epochs=2):
    trainer = pl.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=datamodule)
    trainer.test(model, datamodule=datamodule, verbose=False)
    return trainer


def test_digits_training_sets_hold_exactly_rho_times_n_anomalies():
    dm = DigitsAnomalyDataModule(anomaly_class=8, n_train=60, rho_train=0.25, n_resamplings=4)
    assert dm.rho0 == pytest.approx(0.1, abs=0.01)
    dm.setup()
    assert dm.train_y.shape == (4, 60)
    assert (dm.train_y.sum(dim=1) == 15).all()
    # the K sub-samples are different draws, each without repetition
    assert len({tuple(sorted(r.tolist())) for r in dm.train_index}) == 4
    assert all(len(set(r.tolist())) == 60 for r in dm.train_index)
    # balanced test set: half anomalies; intrinsic test set: the whole test split at ~rho0
    assert dm.test_y["test"].mean() == 0.5
    assert dm.test_y["test_intrinsic"].mean() == pytest.approx(dm.rho0, abs=0.01)
    assert len(dm.test_y["test_intrinsic"]) == 898  # half of 1797, stratified per digit
    # seeds redraw the training sets, never the test sets
    other = DigitsAnomalyDataModule(anomaly_class=8, n_train=60, rho_train=0.25, seed=1)
    other.setup()
    first = dm.inputs[dm.train_index[0]]
    assert not torch.equal(other.inputs[other.train_index[0]], first)
    assert torch.equal(other.inputs[other.test_index["test"]], dm.inputs[dm.test_index["test"]])


@pytest.mark.parametrize(
    "regime, expected", [("intrinsic", None), ("balanced", 0.5), ("rare", 0.05)]
)
def test_imbalance_group_sets_rho_train_of_the_image_datamodules(regime, expected, tmp_path):
    cfg = compose_config([*QUICK, f"imbalance={regime}"], output_dir=tmp_path)
    dm = instantiate(cfg.data)
    assert dm.rho_train == pytest.approx(dm.rho0 if expected is None else expected)


@pytest.mark.parametrize(
    "override, match",
    [
        ("data.rho_train=1.5", "data.rho_train"),
        ("data.rho_train=0", "data.rho_train"),
        ("data.n_train=500", "data.n_train=500 at data.rho_train=0.8 needs 400 anomalies"),
        ("data.anomaly_class=12", "data.anomaly_class=12"),
        ("data.anomaly_class=cat", "data.anomaly_class='cat'"),
        ("data.test_fraction=1", "data.test_fraction"),
    ],
)
def test_bad_values_raise_config_error(override, match, tmp_path):
    cfg = compose_config([*QUICK, "data.rho_train=0.8", override], output_dir=tmp_path)
    with pytest.raises(Exception, match=match) as info:
        instantiate(cfg.data)
    assert isinstance(info.value.__cause__ or info.value, ConfigError)


def test_replicas_are_independent_classifiers():
    """The summed loss gives every replica exactly its own mini-batch-mean gradient."""
    model = MLPClassifier(n_features=6, n_replicas=3, hidden=4, seed=1)
    x, y = torch.randn(3, 5, 6), (torch.rand(3, 5) > 0.5).float()
    model.replica_losses(x, y).sum().backward()
    joint = model.w1.grad[1].clone()
    for p in model.parameters():
        p.grad = None
    x[0] += 1.0  # other replicas' data must not matter
    own = 0.5 * (torch.sigmoid(model(x)[1]) - y[1]).pow(2).mean()
    own.backward()
    assert torch.allclose(model.w1.grad[1], joint, atol=1e-7)
    assert model.w1.grad[0].abs().sum() == 0  # replica 1's loss never touches replica 0


def test_thesis_optimiser_settings(tmp_path):
    cfg = compose_config(QUICK, output_dir=tmp_path)
    dm = instantiate(cfg.data)
    model = instantiate(cfg.model, **dm.model_kwargs())
    optimiser = model.configure_optimizers()
    assert isinstance(optimiser, torch.optim.SGD)
    group = optimiser.param_groups[0]
    assert (group["momentum"], group["weight_decay"]) == (0.02, 0.01)
    assert model.w1.shape == (dm.n_resamplings, 64, 16)


def test_digits_mlp_end_to_end_results_and_records(tmp_path):
    cfg = compose_config(
        [
            *QUICK,
            "data.n_resamplings=3",
            "data.rho_train=0.5",
            "trainer.max_epochs=20",
            "optimized_metric=test/balanced_accuracy",
        ],
        output_dir=tmp_path,
    )
    value = run(cfg)
    results = json.loads((tmp_path / "results.json").read_text())
    assert value == results["test/balanced_accuracy"]
    for key in ("test/roc_auc", "test/f1", "test/train_error", "test_intrinsic/roc_auc"):
        assert key in results
    assert results["rho_train"] == 0.5 and results["n_trainable_parameters"] == 64 * 16 + 16 * 2 + 1
    rows = list(csv.DictReader((tmp_path / "records.csv").open()))
    assert len(rows) == 3 and {"resampling", "test/balanced_accuracy"} <= set(rows[0])
    assert results["test/balanced_accuracy"] > 0.8 and results["test/roc_auc"] > 0.9


def test_own_resnet34_matches_torchvision_parameter_count():
    assert sum(p.numel() for p in ResNet((3, 4, 6, 3)).parameters()) == 21_797_672


def test_probe_without_weights_warns_and_uses_random_backbone(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # empty hub cache
    with pytest.warns(UserWarning, match="RANDOM initialisation"):
        _, loaded = frozen_backbone("tiny", None, pretrained=True, seed=0)
    assert not loaded
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frozen_backbone("tiny", None, pretrained=False, seed=0)  # asked for: no warning


def test_probe_loads_local_weights_and_precomputes_features_once(tmp_path):
    reference = build_resnet("tiny")  # plays the role of a torchvision checkpoint (with fc)
    torch.save(reference.state_dict(), tmp_path / "tiny.pth")
    dm = DigitsAnomalyDataModule(n_train=40, rho_train=0.25, n_resamplings=2, batch_size=8)
    model = ResNetProbe(
        **dm.model_kwargs(),
        arch="tiny",
        weights_path=str(tmp_path / "tiny.pth"),
        image_size=16,
        feature_batch_size=1024,
    )
    assert model.pretrained
    for name, value in reference.state_dict().items():
        if not name.startswith("fc."):
            assert torch.equal(model.backbone.state_dict()[name], value)
    # only the 512 -> 1 probe of each replica is a parameter (and is checkpointed)
    assert sum(p.numel() for p in model.parameters()) == 2 * 513
    assert set(model.state_dict()) == {"weight", "bias"}
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(args[1][0].shape[0]))
    trainer = fit_and_test(model, dm, epochs=3)
    assert sum(calls) == len(dm._pixels)  # every stored image through the backbone once
    assert dm.inputs.shape == (len(dm._pixels), 512)
    results = trainer.callback_metrics
    assert 0.0 <= float(results["test/roc_auc"]) <= 1.0
    assert len(model.records()) == 2


def test_probe_runs_through_train_config(tmp_path):
    cfg = compose_config(
        [
            *QUICK,
            "model=resnet_probe",
            "model.arch=tiny",
            "model.pretrained=false",
            "model.image_size=null",
            "data.n_resamplings=2",
            "data.n_train=40",
            "trainer.max_epochs=2",
        ],
        output_dir=tmp_path,
    )
    run(cfg)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["pretrained_backbone"] == 0.0 and "test_intrinsic/balanced_accuracy" in results


def test_digits_experiment_and_collection(tmp_path):
    """The fig1_9_digits multirun (shortened) and the collection command give the curve."""
    sweep = tmp_path / "sweep"
    run_script(
        [
            "train.py",
            "experiment=fig1_9_digits",
            "data.rho_train=0.1,0.5",
            "data.n_resamplings=3",
            "trainer.max_epochs=3",
            "logger=csv",
            f"hydra.sweep.dir={sweep}",
        ],
        env={"OMP_NUM_THREADS": "1"},
    )
    collect(sweep)  # what `interplay-collect <sweep>` runs
    table = list(csv.DictReader((sweep / "summary" / "summary.csv").open()))
    assert [float(r["data.rho_train"]) for r in table] == [0.1, 0.5]
    assert all(int(r["n"]) == 3 for r in table)
    assert np.isfinite(float(table[0]["balanced_accuracy_sem"]))
    assert (sweep / "summary" / "roc_auc.png").exists()
    assert (sweep / "summary" / "overview.png").exists()
