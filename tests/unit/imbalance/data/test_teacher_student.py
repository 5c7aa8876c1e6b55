"""Teacher-student data: exact class fractions, exact teacher fields, truncated-Gaussian law."""

import math

import numpy as np
import pytest
import torch
from helpers import compose_config
from hydra.utils import instantiate
from scipy import stats

from interplay import ConfigError
from interplay.imbalance import intrinsic_imbalance
from interplay.imbalance.data import (
    B0_MAX,
    ReplicaBatches,
    TeacherStudentDataModule,
    replica_generators,
    sample_dataset,
    sample_teacher,
    sample_teacher_field,
)
from interplay.imbalance.theory import ControlParams


def test_intrinsic_imbalance_thesis_value():
    assert intrinsic_imbalance(-0.6) == pytest.approx(0.27425, abs=1e-5)  # DESIGN.md anchor
    assert intrinsic_imbalance(0.0) == 0.5


@pytest.mark.parametrize("rho", [0.013, 0.274, 0.5, 0.9])
def test_class_fractions_exact_and_labels_match_teacher(rho):
    gen = replica_generators(1, 1)[0]
    w0 = sample_teacher(300, gen)
    assert float(w0 @ w0) == pytest.approx(300.0)
    x, y = sample_dataset(w0, -0.6, 1000, rho, gen)
    assert int(y.sum()) == round(rho * 1000)
    field = x.double() @ w0 / math.sqrt(300)
    assert torch.equal((field - 0.6 > 0).float(), y)


@pytest.mark.parametrize("b0", [-0.6, -3.0, 1.5])
def test_teacher_field_is_class_conditional_truncated_gaussian(b0):
    gen = torch.Generator().manual_seed(0)
    labels = torch.tensor([1] * 4000 + [0] * 4000)
    y = sample_teacher_field(labels, b0, gen).numpy()
    pos, neg = y[:4000], y[4000:]
    assert pos.min() > -b0 and neg.max() < -b0
    # Kolmogorov-Smirnov against scipy's truncated normal (independent implementation)
    assert stats.kstest(pos, stats.truncnorm(-b0, np.inf).cdf).pvalue > 1e-3
    assert stats.kstest(neg, stats.truncnorm(-np.inf, -b0).cdf).pvalue > 1e-3


def test_rare_class_far_tail_is_accurate():
    """b0 = -6: anomalies have probability 1e-9, still sampled exactly (no rejection)."""
    y = sample_teacher_field(torch.ones(20000), -6.0, torch.Generator().manual_seed(3)).numpy()
    assert y.min() > 6.0
    # mean of N(0,1) truncated to y > 6 is phi(6)/Q(6)
    expected = stats.truncnorm(6.0, np.inf).mean()
    assert y.mean() == pytest.approx(expected, rel=2e-3)


def test_input_orthogonal_part_is_standard_gaussian():
    gen = replica_generators(5, 1)[0]
    w0 = sample_teacher(64, gen)
    x, _ = sample_dataset(w0, -0.6, 6000, 0.5, gen)
    unit = (w0 / w0.norm()).float()
    ortho = x - (x @ unit)[:, None] * unit[None]
    # project on a fixed direction orthogonal to w0
    v = torch.randn(64, generator=torch.Generator().manual_seed(9))
    v = v - (v @ unit) * unit
    v = v / v.norm()
    assert stats.kstest((ortho @ v).numpy(), "norm").pvalue > 1e-3


def test_every_seed_redraws_teacher_and_data():
    a = TeacherStudentDataModule(N=20, n_resamplings=2, seed=0, n_test=10)
    b = TeacherStudentDataModule(N=20, n_resamplings=2, seed=1, n_test=10)
    a.setup()
    b.setup()
    assert not torch.allclose(a.teacher_weights, b.teacher_weights)
    assert not torch.allclose(a.teacher_weights[0], a.teacher_weights[1])
    c = TeacherStudentDataModule(N=20, n_resamplings=2, seed=0, n_test=10)
    c.setup()
    assert torch.equal(a.train_x, c.train_x)


def test_replica_batches_cover_each_dataset_once_per_epoch():
    x = torch.arange(2 * 10, dtype=torch.float32).reshape(2, 10, 1)
    y = torch.zeros(2, 10)
    chunks = list(ReplicaBatches(x, y, batch_size=3, steps_per_chunk=2, seed=0))
    assert [c[2] for c in chunks] == [[3, 3], [3, 1]]
    seen = torch.cat([c[0] for c in chunks], 1)
    assert sorted(seen[0, :, 0].tolist()) == list(range(10))
    assert sorted(seen[1, :, 0].tolist()) == list(range(10, 20))


def test_test_stream_is_reproducible_and_has_both_test_sets():
    dm = TeacherStudentDataModule(N=30, b0=-0.6, n_resamplings=2, n_test=300, test_chunk=100)
    dm.setup()
    first = list(dm.test_dataloader())
    second = list(dm.test_dataloader())
    assert [c["name"] for c in first] == ["test"] * 3 + ["test_intrinsic"] * 3
    assert all(torch.equal(a["x"], b["x"]) for a, b in zip(first, second))
    intrinsic = torch.cat([c["y"] for c in first if c["name"] == "test_intrinsic"], 1)
    assert intrinsic.sum(1).tolist() == [3 * round(0.27425 * 100)] * 2


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"rho_train": 1.2}, "data.rho_train"),
        ({"rho_train": 0.0}, "data.rho_train"),
        ({"rho_test": "sometimes"}, "data.rho_test"),
        ({"alpha": 0.0}, "data.alpha"),
        ({"N": 0}, "data.N"),
        ({"b0": float("nan")}, "data.b0"),
    ],
)
def test_bad_values_raise_clear_errors(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        TeacherStudentDataModule(**kwargs)


# ---------------------------------------------------------------------------------------------
# Issue 13, item 5: no infinite fields, one b0 range for train.py and solve.py, two classes
# ---------------------------------------------------------------------------------------------


def _data_error(overrides: list[str], tmp_path) -> Exception:
    """The error that instantiating the Hydra-composed teacher-student data raises."""
    cfg = compose_config(["data=teacher_student", "data.N=50", *overrides], output_dir=tmp_path)
    with pytest.raises(Exception) as info:
        instantiate(cfg.data)
    return info.value.__cause__ or info.value


@pytest.mark.parametrize("b0", [-8.4, -6.01, 6.5, 9.0])
def test_b0_beyond_the_solve_bound_is_a_config_error(b0, tmp_path):
    """Before: b0 <= -8.4 sampled y = inf for the common class (Phi(8.4) rounds to 1)."""
    err = _data_error([f"data.b0={b0}"], tmp_path)
    assert isinstance(err, ConfigError) and f"data.b0={b0}" in str(err)
    assert f"|b0| must be <= {B0_MAX}" in str(err)
    with pytest.raises(ConfigError, match="b0"):  # the sampler itself guards too
        sample_teacher_field(torch.tensor([0.0, 1.0]), b0, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("b0", [-B0_MAX, -6.01, B0_MAX, 6.01])
def test_train_and_solve_accept_the_same_b0_range(b0, tmp_path):
    train = compose_config(
        ["data=teacher_student", "data.N=50", f"data.b0={b0}"], output_dir=tmp_path
    )
    solve = compose_config([f"b0={b0}"], "solve")
    accepted = []
    for make in (
        lambda: instantiate(train.data),
        lambda: ControlParams(solve.alpha, solve.T, solve.b0, solve.rho_train),
    ):
        try:
            make()
            accepted.append(True)
        except Exception as exc:  # Hydra wraps the constructor's ConfigError
            assert isinstance(exc.__cause__ or exc, ConfigError)
            accepted.append(False)
    assert accepted == [abs(b0) <= B0_MAX] * 2


def test_fields_at_the_bound_are_finite_on_both_sides(tmp_path):
    cfg = compose_config(
        ["data=teacher_student", "data.N=50", f"data.b0={-B0_MAX}", "data.rho_train=0.5"],
        output_dir=tmp_path,
    )
    dm = instantiate(cfg.data)
    dm.setup()
    assert torch.isfinite(dm.train_x).all()
    labels = torch.tensor([1.0] * 5000 + [0.0] * 5000)
    y = sample_teacher_field(labels, -B0_MAX, torch.Generator().manual_seed(1))
    assert torch.isfinite(y).all() and (y[:5000] > B0_MAX).all() and (y[5000:] < B0_MAX).all()


@pytest.mark.parametrize("rho", [0.004, 0.996])
def test_rho_train_that_rounds_to_one_class_is_a_config_error(rho, tmp_path):
    """Before: P = 100 samples with round(0.4) = 0 positives trained on one class silently."""
    err = _data_error(["data.alpha=2", f"data.rho_train={rho}"], tmp_path)
    assert isinstance(err, ConfigError)
    assert f"data.rho_train={rho} with 100 training samples" in str(err)
    assert "one class" in str(err)


def test_full_batch_is_the_data_itself_repeated_and_oversized_batches_are_errors():
    """BS = P (Fig. 1.10's largest batch): no permutation, no copy, steps_per_chunk GD steps."""
    from interplay.imbalance.models import SphericalPerceptron

    x, y = torch.randn(2, 8, 5), (torch.rand(2, 8) > 0.5).float()
    items = list(ReplicaBatches(x, y, batch_size=8, steps_per_chunk=3, seed=0))
    assert len(items) == 1 and items[0][0] is x and items[0][2] == [8, 8, 8]
    model = SphericalPerceptron(n_features=5, n_replicas=2, lr=0.3, batch_size=8)
    twin = SphericalPerceptron(n_features=5, n_replicas=2, lr=0.3, batch_size=8)
    model.log = twin.log = lambda *a, **k: None  # no trainer attached
    model.training_step(items[0], 0)
    for _ in range(3):
        twin.sgd_step(x, y)
    assert torch.allclose(model.weight, twin.weight) and torch.allclose(model.bias, twin.bias)
    with pytest.raises(ConfigError, match="batch_size=3000 exceeds the 2000"):
        TeacherStudentDataModule(N=1000, alpha=2.0, batch_size=3000)
