"""Baselines (docs/baselines.md): Bapst GNN, Boattini descriptors + ridge, softness SVM, the
shared evaluation base and the train.py path. Shapes, symmetries, fitting, checkpoints and
parameter counts of every model are the contract of test_model_contract.py; the comparison
command is tested in tests/unit/glass/analysis."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch
from helpers import compose_config
from model_contract import periodic_graph, random_transform, transformed
from torch_geometric.data import Batch

from interplay.core import ConfigError, DataError
from interplay.glass.models import (
    DescriptorRidgeModule,
    PropensityBase,
    PropensityModule,
    SoftnessSVMModule,
    ridge_fit,
)
from interplay.glass.nn import (
    BapstGNN,
    DescriptorCache,
    DescriptorSpec,
    compute_descriptors,
    random_cube_symmetry,
    real_spherical_harmonics_upto,
    spec_from_config,
)

SMALL_SPEC = DescriptorSpec(
    radial_centers=(0.9, 1.2, 1.6), radial_width=0.15, angular_centers=(1.0, 1.5),
    angular_width=0.2, l_min=1, l_max=6, cg_levels=2, cg_length=1.5,
)  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --------------------------------------------------------------------------- descriptors
def brute_force_descriptors(pos, types, box, spec: DescriptorSpec, cutoff: float = 2.0):
    """Independent O(N^2) numpy reference: angular part by the addition theorem
    sum_m |q_lm|^2 = (2l+1)/(4 pi) sum_jk w_j w_k P_l(cos theta_jk) / Z^2."""
    n = len(pos)
    d = pos[None, :, :] - pos[:, None, :]  # d[i, j] = r_j - r_i
    d -= box * np.round(d / box)
    r = np.linalg.norm(d, axis=-1)
    feats = []
    for i in range(n):
        nb = [j for j in range(n) if j != i and r[i, j] < cutoff]
        row = []
        for s in range(spec.n_types):
            for c in spec.radial_centers:
                row.append(sum(math.exp(-((r[i, j] - c) ** 2) / (2 * spec.radial_width**2))
                               for j in nb if types[j] == s))  # fmt: skip
        units = [d[i, j] / r[i, j] for j in nb]
        for ll in range(spec.l_min, spec.l_max + 1):
            for c in spec.angular_centers:
                w = np.array([math.exp(-((r[i, j] - c) ** 2) / (2 * spec.angular_width**2))
                              for j in nb])  # fmt: skip
                total = 0.0
                for a, ua in enumerate(units):
                    for b, ub in enumerate(units):
                        leg = np.polynomial.legendre.legval(float(ua @ ub), [0] * ll + [1])
                        total += w[a] * w[b] * leg
                row.append(math.sqrt(max(total, 0.0)) / w.sum())
        feats.append(row)
    levels = [np.array(feats)]
    for _ in range(spec.cg_levels):
        prev, new = levels[-1], np.zeros_like(levels[-1])
        for i in range(n):
            num, den = prev[i].copy(), 1.0
            for j in range(n):
                if j != i and r[i, j] < cutoff:
                    c = math.exp(-r[i, j] / spec.cg_length)
                    num += c * prev[j]
                    den += c
            new[i] = num / den
        levels.append(new)
    return np.concatenate(levels, axis=1)


def test_descriptors_match_brute_force_numpy():
    g = periodic_graph(n=40, box=4.2)
    got = compute_descriptors(g.edge_index, g.edge_vec.double(), g.node_type, SMALL_SPEC)
    ref = brute_force_descriptors(g.pos.double().numpy(), g.node_type.numpy(), 4.2, SMALL_SPEC)
    assert got.shape == (40, SMALL_SPEC.n_features) == ref.shape
    assert len(SMALL_SPEC.names) == SMALL_SPEC.n_features
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-6, atol=1e-6)


def test_spherical_harmonics_addition_theorem():
    v = torch.randn(30, 3, dtype=torch.float64)
    u = (v / v.norm(dim=-1, keepdim=True)).numpy()
    for ll, y in enumerate(real_spherical_harmonics_upto(12, v)):
        leg = np.polynomial.legendre.legval(u @ u.T, [0] * ll + [1])
        np.testing.assert_allclose((y @ y.T).numpy(), (2 * ll + 1) / (4 * np.pi) * leg, atol=1e-10)


def test_descriptors_invariant_under_rotation_translation_permutation():
    g = periodic_graph(seed=3)
    perm, rot, shift = random_transform(g.num_nodes)
    h = transformed(g, perm, rot, shift)
    a = compute_descriptors(g.edge_index, g.edge_vec, g.node_type, SMALL_SPEC)
    b = compute_descriptors(h.edge_index, h.edge_vec, h.node_type, SMALL_SPEC)
    np.testing.assert_allclose(b.numpy(), a[perm].numpy(), rtol=1e-4, atol=1e-5)
    cache = DescriptorCache(max_items=2)
    assert cache(g.edge_index, g.edge_vec, g.node_type, SMALL_SPEC) is cache(
        g.edge_index, g.edge_vec.clone(), g.node_type, SMALL_SPEC
    )


# --------------------------------------------------------------------------- Bapst GNN
def test_bapst_gnn_parameter_count_and_vector_edges():
    torch.manual_seed(0)
    g = periodic_graph(seed=5)
    net = BapstGNN(n_node_scalars=2, n_timescales=3).eval()
    # the original (non-invariant) edge features still run
    assert BapstGNN(n_timescales=1, edge_features="vector")(g).shape == (g.num_nodes, 1)
    # encoders 2 x (64, 64), one shared core, decoder (64, 64, n_t)
    n_par = sum(p.numel() for p in net.parameters())
    core = (128 * 64 + 2 * 128 * 64 + 64) + (64 * 64 + 64) + (192 * 64 + 64) + (64 * 64 + 64)
    enc = (2 * 64 + 64 + 64 * 64 + 64) + (1 * 64 + 64 + 64 * 64 + 64)
    dec = 2 * (64 * 64 + 64) + 64 * 3 + 3
    assert n_par == core + enc + dec


def test_bapst_faithful_options_against_explicit_references():
    """Self-edges = the same network on a graph with explicit zero-vector loops; the
    augmentation draws cube symmetries (orthogonal, entries 0 / +-1) in training only; the
    variance-scaling init has std sqrt(1 / fan_in); Bessel edges handle r = 0."""
    g = periodic_graph(seed=6)
    torch.manual_seed(0)
    kw = dict(n_timescales=2, hidden=16, n_recurrences=2, edge_features="vector")
    net = BapstGNN(**kw, self_edges=True, augment=True).eval()
    ref = BapstGNN(**kw)
    ref.load_state_dict(net.state_dict())
    loops = torch.arange(g.num_nodes).expand(2, -1)
    h = g.clone()
    h.edge_index = torch.cat([g.edge_index, loops], dim=1)
    h.edge_vec = torch.cat([g.edge_vec, torch.zeros(g.num_nodes, 3)])
    with torch.no_grad():
        torch.testing.assert_close(net(g), ref.eval()(h))
        assert torch.equal(net(g), net(g))  # eval: no augmentation
        net.train()
        outs = {tuple(net(g)[:3, 0].tolist()) for _ in range(6)}
    assert len(outs) > 1  # training: a random cube symmetry per forward pass
    for _ in range(5):
        m = random_cube_symmetry()
        torch.testing.assert_close(m @ m.T, torch.eye(3))
        assert set(m.abs().sum(dim=0).tolist()) == {1.0}
    big = BapstGNN(hidden=256, init="variance_scaling")
    w = big.node_update[2].weight  # (256, 256): fan_in 256
    assert float(w.std()) == pytest.approx(256**-0.5, rel=0.05)
    bessel = BapstGNN(n_timescales=1, edge_features="bessel", self_edges=True, message_norm=True)
    assert torch.isfinite(bessel(g)).all()
    with pytest.raises(ConfigError, match="augment"):
        BapstGNN(edge_features="distance", augment=True)


# --------------------------------------------------------------------------- closed form
def test_ridge_fit_matches_sklearn_and_lstsq():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 7)) * rng.uniform(0.5, 3, size=7) + 2.0
    y = x @ rng.normal(size=(7, 3)) + 0.1 * rng.normal(size=(200, 3)) + 1.5
    coef, icpt = ridge_fit(x, y, alpha=3.0)
    sk = Ridge(alpha=3.0).fit(x, y)
    np.testing.assert_allclose(coef, sk.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(icpt, sk.intercept_, rtol=1e-8, atol=1e-10)
    coef0, icpt0 = ridge_fit(x, y, alpha=0.0)
    sol = np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0]
    np.testing.assert_allclose(coef0, sol[:-1].T, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(icpt0, sol[-1], rtol=1e-8, atol=1e-8)


def test_svm_solve_is_signed_distance_of_linearsvc():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 5))
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0, 0.0]) + 0.3 * rng.normal(size=400))[:, None]
    m = SoftnessSVMModule(
        net=DescriptorSpec(), n_timescales=1, mobile_fraction=0.2, immobile_fraction=0.3, C=0.5
    )
    coef, icpt = m.solve(x, y, 0)
    hi, lo = y[:, 0] >= np.quantile(y, 0.8), y[:, 0] <= np.quantile(y, 0.3)
    sk = LinearSVC(C=0.5, max_iter=5000, dual="auto").fit(
        np.r_[x[hi], x[lo]], np.r_[np.ones(hi.sum()), -np.ones(lo.sum())]
    )
    norm = np.linalg.norm(sk.coef_[0])
    np.testing.assert_allclose(coef[0], sk.coef_[0] / norm, atol=1e-6)
    np.testing.assert_allclose(x @ coef[0] + icpt[0], sk.decision_function(x) / norm, atol=1e-6)


def test_closed_form_modules_fit_in_one_pass_and_predict():
    import lightning.pytorch as pl
    from torch_geometric.loader import DataLoader

    train = [periodic_graph(seed=s) for s in range(4)]
    spec = spec_from_config(radial_n=4, angular_centers=[1.0, 1.5], l_max=4)
    kw = dict(net=spec, n_timescales=2, figures=False)
    for cls in (DescriptorRidgeModule, SoftnessSVMModule):
        model = cls(**kw)
        tr = pl.Trainer(max_epochs=5, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False)  # fmt: skip
        tr.fit(model, DataLoader(train, batch_size=2))
        assert bool(model.fitted) and tr.current_epoch == 1  # stopped after the solve
        pred = model(train[0])
        assert pred.shape == (train[0].num_nodes, 2) and torch.isfinite(pred).all()
        rho = np.corrcoef(pred[:, 0].detach().numpy(), train[0].y[:, 0].numpy())[0, 1]
        assert rho > 0.5  # a local-density label is linear in the radial descriptors
        assert model.extra_results()["n_parameters"] == 2 * 2 * (model.spec.n_features + 1)
    # ridge on the standardised descriptors = sklearn Ridge
    from sklearn.linear_model import Ridge

    x = torch.cat([compute_descriptors(g.edge_index, g.edge_vec, g.node_type, model.spec)
                   for g in train]).numpy()  # fmt: skip
    y = torch.cat([g.y for g in train]).numpy()
    t = torch.cat([g.node_type for g in train]).numpy()
    ridge = DescriptorRidgeModule(**kw, alpha=2.0).fit_closed_form([Batch.from_data_list(train)])
    a = t == 0
    std = x[a].std(0)
    std[std <= 1e-12] = 1.0
    sk = Ridge(alpha=2.0).fit((x[a] - x[a].mean(0)) / std, y[a])
    np.testing.assert_allclose(ridge.coef[0].numpy(), sk.coef_, rtol=1e-6, atol=1e-8)


def test_descriptor_models_use_the_epot_column():
    """data.epot adds one node input after the one-hot type: the baselines get it as one more
    descriptor, and fit it -- a label that depends on E_pot alone is predicted with it
    (rho > 0.9) and not without it (the structure is independent of the random E_pot)."""
    rng = np.random.default_rng(4)
    spec = spec_from_config(radial_n=4, angular_centers=[1.0, 1.5], l_max=2, cg_levels=0)
    graphs = []
    for seed in range(3):
        g = periodic_graph(seed=seed, n_t=1)
        epot = torch.as_tensor(rng.normal(size=g.num_nodes), dtype=torch.float32)
        g.x, g.y = torch.cat([g.x, epot[:, None]], dim=1), 0.2 * epot[:, None] + 1.0
        graphs.append(g)
    batch, test = Batch.from_data_list(graphs[:2]), graphs[2]
    for cls in (DescriptorRidgeModule, SoftnessSVMModule):
        rho = {}
        for n_scalars in (2, 3):
            m = cls(net=spec, n_node_scalars=n_scalars, n_timescales=1, figures=False)
            m.fit_closed_form([batch])
            assert m.extra_results()["n_descriptors"] == spec.n_features + n_scalars - 2
            pred = m(test)[:, 0].detach().numpy()
            rho[n_scalars] = np.corrcoef(pred, test.y[:, 0].numpy())[0, 1]
        assert rho[3] > 0.9 and abs(rho[2]) < 0.5, (cls.__name__, rho)
    with pytest.raises(DataError, match="node inputs"):  # a graph without the E_pot column
        m(periodic_graph(seed=7, n_t=1))


def test_all_models_share_the_evaluation_base():
    for cls in (PropensityModule, DescriptorRidgeModule, SoftnessSVMModule):
        assert issubclass(cls, PropensityBase)
        assert "on_test_epoch_end" not in vars(cls)  # no copy of the shared evaluation


# --------------------------------------------------------------------------- train.py path
TINY = [
    "data=ka3d", "data.max_configs=4", "trainer.max_epochs=1", "++trainer.limit_train_batches=2",
    "++trainer.limit_val_batches=1", "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false", "callbacks=none", "logger=csv", "model.figures=false",
]  # fmt: skip
# run-length schedule (lr halved at 50 % of the run), best checkpoint by val/pearson_A, tested
RECIPE = ["schedule=run_length", "model.scheduler.milestones=[0.5]", "callbacks=best",
          "test_ckpt_path=best", "trainer.max_epochs=2"]  # fmt: skip


@pytest.mark.parametrize(
    "overrides",
    [["model=bapst_gnn", "model.net.n_recurrences=2"],
     ["model=descriptor_ridge", "trainer.max_epochs=3"], ["model=softness_svm"],
     ["model=se3gnn_invariant", *RECIPE],
     ["model=se3gnn", "model.net.l_max=0", "model.net.n_layers=2"]],
    ids=["bapst_gnn", "descriptor_ridge", "softness_svm", "se3gnn_invariant_recipe",
         "se3gnn_lmax0"],
)  # fmt: skip
def test_train_py_end_to_end(tmp_path, overrides):
    from interplay.runs import train_and_test as run

    base = [o for o in TINY if not (o == "callbacks=none" and "callbacks=best" in overrides)]
    cfg = compose_config([*base, *overrides], output_dir=tmp_path)
    run(cfg)
    res = json.loads((tmp_path / "results.json").read_text())
    keys = ("test/pearson_A", "test/pearson_A_t0", "test/pearson_A_t9", "test/pearson_B_t9",
            "test/pearson_pooled_A_t9", "test/loss", "n_parameters", "train_seconds")  # fmt: skip
    for key in keys:
        assert key in res, key
    assert (tmp_path / "observables.npz").exists()
    if "descriptor" in overrides[0]:
        assert res["epochs"] == 1  # closed form: one pass whatever max_epochs says
        assert res["test/pearson_A_t0"] > 0.2
    if overrides[1:] == RECIPE:  # 2 epochs x 2 steps, lr halved at 50 % of the run
        assert res["optimizer_steps"] == 4
        assert len(list((tmp_path / "checkpoints").glob("best_*.ckpt"))) == 1
        rows = list(csv.DictReader(next(tmp_path.rglob("metrics.csv")).open()))
        lr = [float(r["train/lr"]) for r in rows if r.get("train/lr")]
        assert lr == pytest.approx([3e-3, 1.5e-3])  # se3gnn_small's lr 3e-3, then halved
