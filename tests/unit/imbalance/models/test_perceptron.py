"""Spherical perceptron: constraint, independence of the K students, learning, results.json."""

import json
import math

import pytest
import torch
from helpers import compose_config

from interplay.core import ConfigError
from interplay.imbalance.data import TeacherStudentDataModule
from interplay.imbalance.models import SphericalPerceptron
from interplay.runs import train_and_test as run


def test_closed_form_gradients_are_each_students_own_autograd_gradient():
    """K students trained jointly == each student's own mini-batch-mean L2 gradient."""
    torch.manual_seed(0)
    model = SphericalPerceptron(n_features=7, n_replicas=3, batch_size=5)
    x, y = torch.randn(3, 5, 7), (torch.rand(3, 5) > 0.5).float()
    loss, grad_w, grad_b = model.loss_and_gradients(x, y)
    for k in range(3):
        w = model.weight.detach()[k].clone().requires_grad_()
        b = model.bias.detach()[k].clone().requires_grad_()
        h = x[k] @ w / math.sqrt(7) + b
        own_loss = 0.5 * (torch.sigmoid(h) - y[k]).pow(2).mean()
        own_loss.backward()
        assert torch.allclose(loss[k], own_loss)
        assert torch.allclose(grad_w[k], w.grad, atol=1e-7)
        assert torch.allclose(grad_b[k], b.grad, atol=1e-7)


def test_bad_learning_rate_rejected():
    with pytest.raises(ConfigError, match="model.lr"):
        SphericalPerceptron(n_features=3, lr=0.0)


def test_train_end_to_end_writes_results_and_keeps_sphere(tmp_path, tiny_perceptron_overrides):
    cfg = compose_config(
        [
            *tiny_perceptron_overrides,
            "trainer.max_epochs=60",
            "data.N=40",
            "model.lr=2.0",
            "optimized_metric=test/balanced_accuracy",
        ],
        output_dir=tmp_path,
    )
    value = run(cfg)
    results = json.loads((tmp_path / "results.json").read_text())
    assert value == results["test/balanced_accuracy"]
    for key in ("test/roc_auc", "test/R", "test/b", "test/train_error", "test_intrinsic/f1"):
        assert key in results
    assert results["T_eff"] == pytest.approx(2.0 / 20)
    # 3 resamplings, one row each, with the per-resampling observables
    rows = (tmp_path / "records.csv").read_text().strip().splitlines()
    assert len(rows) == 4 and "test/R" in rows[0]
    # the student learned something: overlap with the teacher clearly positive
    assert results["test/R"] > 0.3
    assert results["test/balanced_accuracy"] > 0.6


def test_spherical_constraint_holds_after_training():
    dm = TeacherStudentDataModule(N=30, alpha=3, n_resamplings=2, batch_size=4, n_test=20)
    dm.setup()
    model = SphericalPerceptron(n_features=30, n_replicas=2, lr=3.0, batch_size=4)
    import lightning.pytorch as pl

    trainer = pl.Trainer(
        max_epochs=4,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    before = model.weight.detach().clone()
    trainer.fit(model, datamodule=dm)
    norms = (model.weight.detach() ** 2).sum(1)
    assert torch.allclose(norms, torch.full((2,), 30.0), rtol=1e-5)
    assert not torch.allclose(before, model.weight.detach())
