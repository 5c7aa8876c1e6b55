"""imbalance.method: under/over-sampling of one fixed set and class reweighting (issue 19, 4).

Effective rho = the fraction of positives the loss sees (sum_pos w / sum w), one definition
for every method; reweighting is checked against an explicitly duplicated data set.
"""

import pytest
import torch
from helpers import compose_config
from hydra.utils import instantiate

from interplay import ConfigError
from interplay.imbalance import intrinsic_imbalance
from interplay.imbalance.data import (
    ReplicaBatches,
    TeacherStudentDataModule,
    class_weights,
    effective_rho,
    rebalance_indices,
)
from interplay.imbalance.models import SphericalPerceptron


def _labels(n_pos: int, n: int) -> torch.Tensor:
    y = torch.zeros(n)
    y[torch.randperm(n, generator=torch.Generator().manual_seed(3))[:n_pos]] = 1.0
    return y


@pytest.mark.parametrize(
    ("rho", "n_pos", "n_neg"),
    # 55 positives / 145 negatives (rho0 = 0.274, P = 200): 0.65 copies positives up to
    # round(145 * 0.65/0.35) = 269, 0.2 copies negatives up to round(55 * 0.8/0.2) = 220.
    [(0.65, 269, 145), (0.2, 55, 220), (55 / 200, 55, 145)],
)
def test_oversampling_reaches_the_target_counts_keeping_every_original(rho, n_pos, n_neg):
    y = _labels(55, 200)
    idx = rebalance_indices(y, rho, "oversample", torch.Generator().manual_seed(0))
    assert (int(y[idx].sum()), int((y[idx] == 0).sum())) == (n_pos, n_neg)
    assert set(range(200)) <= set(idx.tolist())  # originals all kept, copies only added
    assert float(effective_rho(y[idx])) == pytest.approx(rho, abs=1 / idx.numel())


@pytest.mark.parametrize(("rho", "n_pos", "n_neg"), [(0.65, 55, 30), (0.2, 36, 145)])
def test_undersampling_drops_only_the_excess_class_without_repeats(rho, n_pos, n_neg):
    y = _labels(55, 200)
    idx = rebalance_indices(y, rho, "undersample", torch.Generator().manual_seed(0))
    assert idx.unique().numel() == idx.numel()  # without replacement
    assert (int(y[idx].sum()), int((y[idx] == 0).sum())) == (n_pos, n_neg)


def test_class_weights_give_the_target_effective_rho_and_average_one():
    y = _labels(55, 200)
    for rho in (0.2, 0.5, 0.65):
        w = class_weights(y, rho)
        assert float(effective_rho(y, w)) == pytest.approx(rho, abs=1e-6)
        assert float(w.double().mean()) == pytest.approx(1.0, abs=1e-6)
    assert torch.equal(class_weights(y, 55 / 200), torch.ones(200))  # own rho: plain loss


def test_impossible_targets_and_unknown_methods_are_config_errors():
    with pytest.raises(ConfigError, match="one class only"):
        rebalance_indices(_labels(2, 200), 0.001, "undersample", torch.Generator())
    with pytest.raises(ConfigError, match="imbalance.method"):
        TeacherStudentDataModule(N=20, method="smote")
    with pytest.raises(ConfigError, match="exceeds the 22 training samples"):  # 11 pos + 11 neg
        TeacherStudentDataModule(N=20, b0=-0.6, rho_train=0.5, batch_size=30, method="undersample")


def test_weighted_gradient_equals_that_of_the_explicitly_duplicated_set():
    """Second implementation: integer weights w_i == sample i repeated w_i times."""
    torch.manual_seed(1)
    model = SphericalPerceptron(n_features=6, n_replicas=2, batch_size=7)
    x, y = torch.randn(2, 7, 6), (torch.rand(2, 7) > 0.5).float()
    counts = torch.tensor([1, 3, 2, 1, 1, 3, 2])
    loss, grad_w, grad_b = model.loss_and_gradients(x, y, counts.float().expand(2, 7))
    rep = torch.repeat_interleave(torch.arange(7), counts)
    d_loss, d_w, d_b = model.loss_and_gradients(x[:, rep], y[:, rep])
    scale = rep.numel() / 7  # the weighted mean divides by B, the duplicated one by sum(w)
    assert torch.allclose(loss, d_loss * scale, rtol=1e-5)
    assert torch.allclose(grad_w, d_w * scale, rtol=1e-5, atol=1e-7)
    assert torch.allclose(grad_b, d_b * scale, rtol=1e-5, atol=1e-7)
    assert not torch.allclose(grad_w, model.loss_and_gradients(x, y)[1], atol=1e-4)


def _trained(method: str, rho: float) -> tuple[SphericalPerceptron, TeacherStudentDataModule]:
    dm = TeacherStudentDataModule(
        N=30, alpha=2.0, b0=-0.6, rho_train=rho, n_resamplings=3, batch_size=6,
        steps_per_chunk=4, seed=5, method=method,
    )  # fmt: skip
    dm.setup()
    model = SphericalPerceptron(n_features=30, n_replicas=3, lr=0.5, batch_size=6, seed=2)
    model.log = lambda *a, **k: None  # no trainer attached
    for _epoch in range(3):
        for i, batch in enumerate(dm.train_dataloader()):
            model.training_step(batch, i)
    return model, dm


def test_reweighting_to_the_data_own_rho_is_plain_training_bit_for_bit():
    """rho0 = 0.274, P = 60 -> 16 positives; target 16/60: every weight is exactly 1."""
    assert round(intrinsic_imbalance(-0.6) * 60) == 16
    plain, dm_plain = _trained("resample", 16 / 60)
    weighted, dm_w = _trained("reweight", 16 / 60)
    assert torch.equal(dm_plain.train_x, dm_w.train_x) and torch.equal(
        dm_w.train_weight, torch.ones(3, 60)
    )
    assert torch.equal(plain.weight, weighted.weight) and torch.equal(plain.bias, weighted.bias)
    # a different target changes the trajectory (the test can fail)
    other, _ = _trained("reweight", 0.5)
    assert not torch.allclose(other.weight, plain.weight)


def test_methods_share_the_fixed_set_and_batches_carry_the_weights():
    dm = {m: TeacherStudentDataModule(N=40, rho_train=0.5, n_resamplings=2, seed=1, method=m)
          for m in ("undersample", "oversample", "reweight")}  # fmt: skip
    for d in dm.values():
        d.setup()
    assert torch.equal(dm["reweight"].teacher_weights, dm["oversample"].teacher_weights)
    assert dm["undersample"].train_x.shape[1] == 44 and dm["oversample"].train_x.shape[1] == 116
    over, rew = dm["oversample"], dm["reweight"]
    assert torch.allclose(effective_rho(over.train_y), torch.full((2,), 0.5, dtype=torch.float64))
    assert torch.allclose(effective_rho(rew.train_y, rew.train_weight), torch.tensor(0.5).double())
    x, y, sizes, w = next(
        iter(ReplicaBatches(rew.train_x, rew.train_y, 20, 2, 0, rew.train_weight))
    )
    assert sizes == [20, 20] and w.shape == y.shape
    # each sample keeps its own class's weight: positives 0.5/(22/80), negatives 0.5/(58/80)
    expected = torch.where(y.bool(), 0.5 * 80 / 22, 0.5 * 80 / 58).float()
    assert torch.allclose(w, expected)


def test_imbalance_method_composes_with_the_rho_regimes(tmp_path):
    """``imbalance=<regime> imbalance.method=<m>``: the group sets rho, the key the method."""
    base = ["data=teacher_student", "data.N=10"]
    assert instantiate(compose_config(base, output_dir=tmp_path).data).method == "resample"
    cfg = compose_config([*base, "imbalance=balanced", "imbalance.method=oversample"], "train",
                         tmp_path)  # fmt: skip
    dm = instantiate(cfg.data)
    assert (dm.method, dm.rho_train) == ("oversample", 0.5)
    bad = compose_config([*base, "imbalance.method=smote"], output_dir=tmp_path)
    with pytest.raises(Exception, match="imbalance.method") as info:
        instantiate(bad.data)
    assert isinstance(info.value.__cause__ or info.value, ConfigError)  # Hydra wraps it
