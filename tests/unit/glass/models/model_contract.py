"""The contract every propensity model of ``conf/model/`` satisfies (NequIP's
``BasicModelTestsMixin`` idea): one class of tests, one subclass per model config.

A model is built exactly as ``train.py`` builds it -- the Hydra-composed ``conf/model/<name>``
instantiated with the DataModule's ``model_kwargs()`` -- and checked on small random periodic
KA-like graphs (number density 1.2, types 80:20, cutoff 2.0, labels = smooth local-density
fields so that every model can learn them):

* predictions have shape (N, n_timescales);
* they are invariant under a rotation of all positions and edge vectors and under a
  translation of the positions (graph rebuilt through the periodic boundaries), and
  equivariant under a permutation of the particles (the propensity is a per-particle scalar
  of the configuration, thesis §2.4.1);
* one training step lowers the loss (gradient models: the module's own ``training_step`` and
  ``configure_optimizers``; closed-form models: the fit beats the mean predictor);
* a ``state_dict`` round trip into a freshly composed model gives identical predictions, and
  the checkpoint hyper-parameters hold no objects (no network, no optimizer partial);
* ``extra_results()["n_parameters"]`` is reported and positive.

Named ``model_contract`` (not ``contract``): pytest puts every test directory on ``sys.path``,
so helper module names must be unique across the test tree.
"""

from __future__ import annotations

import io
from typing import ClassVar

import hydra
import numpy as np
import pytest
import torch
import yaml
from e3nn import o3
from helpers import compose_config
from torch_geometric.data import Batch, Data

from interplay.glass.data import periodic_neighbor_list
from interplay.glass.models import PropensityBase

TIME_INDICES = [0, 4, 7]  # the dataset's own time indices, as model_kwargs() passes them
CUTOFF = 2.0  # data.cutoff of conf/data (graph edges r < d_c)


def periodic_graph(
    seed: int = 0, n: int = 60, box: float = 4.2, n_t: int = 2, pos: np.ndarray | None = None
) -> Data:
    """Random periodic configuration (types 80:20) with smooth local-density labels; ``pos``
    replaces the random positions (same types), e.g. translated ones."""
    rng = np.random.default_rng(seed)
    random_pos = rng.random((n, 3)) * box
    pos = random_pos if pos is None else pos
    types = (rng.random(n) < 0.2).astype(np.int64)
    types[:2] = [0, 1]
    edge_index, edge_vec = periodic_neighbor_list(pos, box, CUTOFF)
    ei = torch.as_tensor(edge_index, dtype=torch.long)
    ev = torch.as_tensor(edge_vec, dtype=torch.float32)
    dens = torch.zeros(n).index_add_(0, ei[1], torch.exp(-ev.norm(dim=-1)))
    y = torch.stack([0.1 * dens + 0.01 * k * dens**2 for k in range(n_t)], dim=1)
    t = torch.as_tensor(types)
    return Data(
        pos=torch.as_tensor(pos, dtype=torch.float32), box=torch.full((1, 3), box),
        x=torch.nn.functional.one_hot(t, 2).float(), node_type=t, edge_index=ei,
        edge_vec=ev, y=y.float(),
    )  # fmt: skip


def ka_graph(seed: int, n: int = 150, n_t: int = len(TIME_INDICES)) -> Data:
    """KA-like density 1.2: box (n / 1.2)^(1/3) (5.0 at n = 150, more than twice the cutoff)."""
    return periodic_graph(seed, n=n, box=(n / 1.2) ** (1 / 3), n_t=n_t)


def transformed(g: Data, perm: torch.Tensor, rot: torch.Tensor, shift: torch.Tensor) -> Data:
    """Rotate positions + edge vectors, translate positions, relabel nodes by ``perm``
    (new node k = old node perm[k])."""
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(len(perm))
    return Data(
        pos=(g.pos @ rot.T + shift)[perm], box=g.box, x=g.x[perm], node_type=g.node_type[perm],
        edge_index=inv[g.edge_index], edge_vec=g.edge_vec @ rot.T, y=g.y[perm],
    )  # fmt: skip


def random_transform(n: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A random permutation, rotation (``e3nn.o3.rand_matrix``) and translation."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    return torch.randperm(n, generator=gen), o3.rand_matrix(), torch.randn(3, generator=gen)


def optimizer_of(model: PropensityBase) -> torch.optim.Optimizer:
    """The optimizer of ``configure_optimizers`` (alone or in Lightning's dict form)."""
    conf = model.configure_optimizers()
    return conf["optimizer"] if isinstance(conf, dict) else conf


class PropensityModelContract:
    """Subclass with ``model_name`` (a ``conf/model`` option) to test one model."""

    model_name: ClassVar[str]
    overrides: ClassVar[list[str]] = []  # config overrides that keep the test fast
    closed_form: ClassVar[bool] = False  # fitted by ``fit_closed_form`` instead of gradients
    tol: ClassVar[float] = 1e-4  # relative tolerance of the symmetry checks (float32)
    # False for a model that sees raw edge vectors (faithful Bapst GNN): the rotation test then
    # asserts that a generic rotation DOES change the prediction, so the flag cannot lie
    rotation_invariant: ClassVar[bool] = True

    # ------------------------------------------------------------------ building
    def build(self, seed: int = 0) -> PropensityBase:
        """The model as train.py builds it (composed config + the DataModule's sizes)."""
        cfg = compose_config([f"model={self.model_name}", *self.overrides])
        torch.manual_seed(seed)
        kwargs = {"n_node_scalars": 2, "n_timescales": len(TIME_INDICES)}
        model = hydra.utils.instantiate(cfg.model, **kwargs, time_indices=TIME_INDICES)
        model.figures_dir, model.write_figures = None, False
        return model

    def train_briefly(self, model: PropensityBase, graphs: list[Data]) -> PropensityBase:
        """A model with non-trivial predictions (the SE(3)-GNN's decoders start at zero)."""
        batch = Batch.from_data_list(graphs)
        if self.closed_form:
            return model.fit_closed_form([batch])
        opt = optimizer_of(model)
        model.train()
        for step in range(3):
            opt.zero_grad()
            model.training_step(batch, step).backward()
            opt.step()
        return model

    @pytest.fixture(scope="class")
    def graphs(self) -> list[Data]:
        return [ka_graph(seed) for seed in range(3)]

    @pytest.fixture(scope="class")
    def trained(self, graphs) -> PropensityBase:
        return self.train_briefly(self.build(), graphs).eval()

    def assert_same(self, actual: torch.Tensor, expected: torch.Tensor) -> None:
        scale = float(expected.abs().max())
        assert scale > 0, "predictions are all zero: the symmetry checks would be empty"
        torch.testing.assert_close(actual, expected, rtol=self.tol, atol=self.tol * scale)

    # ------------------------------------------------------------------ the contract
    def test_output_shape(self, trained, graphs):
        with torch.no_grad():
            out = trained(graphs[0])
            batched = trained(Batch.from_data_list(graphs[:2]))
        assert out.shape == (graphs[0].num_nodes, len(TIME_INDICES))
        assert torch.isfinite(out).all()
        assert batched.shape == (graphs[0].num_nodes + graphs[1].num_nodes, len(TIME_INDICES))
        self.assert_same(batched[: graphs[0].num_nodes], out)  # graphs do not see each other

    def test_rotation_invariance(self, trained, graphs):
        g = graphs[0]
        torch.manual_seed(3)
        rot = o3.rand_matrix()
        identity = torch.arange(g.num_nodes)
        with torch.no_grad():
            out = trained(g)
            rotated = trained(transformed(g, identity, rot, torch.zeros(3)))
        if self.rotation_invariant:
            self.assert_same(rotated, out)
        else:
            assert not torch.allclose(rotated, out, rtol=1e-3, atol=1e-3 * float(out.abs().max()))

    def test_translation_invariance(self, trained, graphs):
        g = graphs[0]
        box = float(g.box[0, 0])
        shift = np.array([0.37, -5.1, 2.9]) * box
        moved = np.mod(g.pos.double().numpy() + shift, box)  # wrapped back into [0, L)
        h = periodic_graph(0, n=g.num_nodes, box=box, n_t=g.y.shape[1], pos=moved)
        assert h.num_edges == g.num_edges  # the same neighbours, found through the boundaries
        with torch.no_grad():
            self.assert_same(trained(h), trained(g))

    def test_permutation_equivariance(self, trained, graphs):
        g = graphs[0]
        perm, _, _ = random_transform(g.num_nodes, seed=5)
        identity = torch.eye(3)
        with torch.no_grad():
            out = trained(g)
            permuted = trained(transformed(g, perm, identity, torch.zeros(3)))
        self.assert_same(permuted, out[perm])

    def test_training_lowers_the_loss(self, graphs):
        model = self.build(seed=1)
        batch = Batch.from_data_list(graphs)
        if self.closed_form:
            self.train_briefly(model, graphs)
            with torch.no_grad():
                pred = model(batch)
            self.assert_fit_beats_the_mean(pred, batch.y)
            return
        opt = optimizer_of(model)
        model.train()

        def loss() -> torch.Tensor:
            torch.manual_seed(7)  # the same dropout masks before and after the step
            return model.loss_fn(model(batch), batch.y)

        before = loss()
        opt.zero_grad()
        before.backward()
        opt.step()
        with torch.no_grad():
            assert loss() < before.detach()

    def assert_fit_beats_the_mean(self, pred: torch.Tensor, y: torch.Tensor) -> None:
        """Closed-form models: the training MSE is below the mean predictor's (variance)."""
        mse = ((pred - y) ** 2).mean(dim=0)
        assert (mse < y.var(dim=0, unbiased=False)).all(), (mse, y.var(dim=0))

    def test_checkpoint_round_trip(self, trained, graphs):
        buffer = io.BytesIO()
        torch.save(trained.state_dict(), buffer)
        buffer.seek(0)
        restored = self.build(seed=99)  # other initial weights
        restored.load_state_dict(torch.load(buffer, weights_only=True))
        restored.eval()
        with torch.no_grad():
            torch.testing.assert_close(restored(graphs[1]), trained(graphs[1]), rtol=0, atol=0)
        # hparams land in every Lightning checkpoint: numbers and lists only, no objects
        hparams = dict(trained.hparams)
        assert not {"net", "optimizer", "scheduler"} & set(hparams)
        assert yaml.safe_load(yaml.safe_dump(hparams)) == hparams
        assert hparams["time_indices"] == TIME_INDICES

    def test_parameter_count_reported(self, trained):
        n = trained.extra_results()["n_parameters"]
        assert n > 0
        if not self.closed_form:
            assert n == sum(p.numel() for p in trained.parameters() if p.requires_grad)
