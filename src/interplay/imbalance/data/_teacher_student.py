"""Teacher-student anomaly-detection data (thesis §1.3.1, eqs. 1.32-1.36).

Inputs are standard Gaussian vectors S in R^N; the teacher (w0, b0) with |w0|^2 = N labels
``S`` positive when its field ``y = w0.S/sqrt(N)`` exceeds ``-b0``. A training set of
``P = alpha*N`` samples holds exactly ``round(rho_train*P)`` positives (eq. 1.34).

Sampling is exact and rejection-free for classes as rare as rho0 ~ 1e-9 (``|b0| <= B0_MAX``,
the bound ``solve.py`` uses too): the teacher field is drawn from the class-conditional
truncated Gaussian by inverse-CDF sampling on each class probability (no cancellation in
1 - Phi), and the component of S orthogonal to w0 is an independent Gaussian. Larger |b0| is a
``ConfigError``: Phi(|b0|) rounds to 1 in float64 beyond |b0| ~ 8.3 and the common class would
get infinite fields. A training set must hold both classes (``round(rho_train*P)`` in
[1, P - 1]). Many independent resamplings (teacher + data: quenched disorder) are
generated at once, stacked on a leading axis K, so one model can train them all together.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from lightning.pytorch import LightningDataModule

from interplay.core import ConfigError, check_int_at_least, check_positive
from interplay.imbalance.data._rebalance import check_method, class_weights, rebalance_indices
from interplay.imbalance.data._regimes import (
    check_b0,
    intrinsic_imbalance,
    resolve_rho,
    training_positives,
)


def replica_generators(seed: int, n_replicas: int) -> list[torch.Generator]:
    """Independent, reproducible random streams, one per resampling."""
    children = np.random.SeedSequence(seed).spawn(n_replicas)
    return [torch.Generator().manual_seed(int(c.generate_state(1)[0])) for c in children]


def sample_teacher(n_features: int, generator: torch.Generator) -> torch.Tensor:
    """Teacher weights uniform on the sphere |w0|^2 = N (eq. 1.33), float64."""
    w0 = torch.randn(n_features, generator=generator, dtype=torch.float64)
    return w0 * math.sqrt(n_features) / w0.norm()


def sample_teacher_field(
    labels: torch.Tensor, b0: float, generator: torch.Generator
) -> torch.Tensor:
    """Teacher field y ~ N(0,1) conditioned on the label: y > -b0 if positive, else y < -b0.

    Inverse-CDF sampling on the probability of each side: a positive draws
    ``y = -ndtri(u * Phi(b0))`` with ``Phi(b0) = P(y > -b0)``, a negative
    ``y = ndtri(u * Phi(-b0))``, u uniform in (0, 1]. Each formula only evaluates ndtri on the
    class probability itself, so it stays accurate deep in the tails; ``|b0| > B0_MAX`` is a
    ``ConfigError`` (beyond ~8.3 the common class's probability rounds to 1 and y = inf).
    """
    b0 = check_b0("b0", b0)
    u = 1.0 - torch.rand(labels.shape, generator=generator, dtype=torch.float64)  # (0, 1]
    phi = torch.special.ndtr(torch.tensor([b0, -b0], dtype=torch.float64))
    positive = labels.bool()
    y = torch.empty(labels.shape, dtype=torch.float64)
    y[positive] = -torch.special.ndtri(u[positive] * phi[0])
    y[~positive] = torch.special.ndtri(u[~positive] * phi[1])
    return y


def sample_inputs(
    w0: torch.Tensor, field: torch.Tensor, generator: torch.Generator, dtype=torch.float32
) -> torch.Tensor:
    """Gaussian inputs S (P, N) whose teacher field w0.S/sqrt(N) equals ``field`` exactly."""
    unit = (w0 / w0.norm()).to(dtype)
    z = torch.randn((field.shape[0], w0.shape[0]), generator=generator, dtype=dtype)
    shift = field.to(dtype) - z @ unit
    return z.add_(shift[:, None] * unit[None, :])


def balanced_labels(n_samples: int, rho: float, generator: torch.Generator) -> torch.Tensor:
    """Exactly ``round(rho*n)`` ones (positives) in random order, as float32 0/1."""
    n_pos = round(rho * n_samples)
    labels = torch.zeros(n_samples, dtype=torch.float32)
    labels[torch.randperm(n_samples, generator=generator)[:n_pos]] = 1.0
    return labels


def sample_dataset(
    w0: torch.Tensor, b0: float, n_samples: int, rho: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """One labelled set (inputs (n, N) float32, labels (n,) 0/1) at class fraction ``rho``."""
    labels = balanced_labels(n_samples, rho, generator)
    field = sample_teacher_field(labels, b0, generator)
    return sample_inputs(w0, field, generator), labels


class ReplicaBatches:
    """SGD mini-batches for K models trained side by side on their own datasets.

    Every epoch draws a fresh permutation per replica (SGD without replacement); mini-batch j
    of replica k holds samples ``perm_k[j*B:(j+1)*B]``. To keep the Python/Lightning overhead
    per SGD step negligible, ``steps_per_chunk`` consecutive mini-batches travel together as one
    item ``(x (K, m, N), y (K, m), step_sizes)``; the model takes ``step_sizes`` samples per SGD
    step. Under DDP every rank holds an equal share of *each* mini-batch, so gradient averaging
    across ranks reproduces single-process SGD with batch size B.

    Full batch (``batch_size == n``, e.g. Fig. 1.10's BS = P): there is nothing to permute or
    copy, so one item is the data itself with ``step_sizes = [n] * steps_per_chunk``, i.e.
    ``steps_per_chunk`` gradient-descent steps per Lightning step (an "epoch" is then that
    many GD steps): tens of thousands of full-batch steps cost no per-epoch overhead.

    ``weight`` (K, n), per-sample loss weights (``imbalance.method=reweight``), travels with
    the samples: items are then ``(x, y, step_sizes, w)``; without it they stay 3-tuples.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        steps_per_chunk: int,
        seed: int,
        weight: torch.Tensor | None = None,
    ):
        self.x, self.y, self.batch_size, self.weight = x, y, batch_size, weight
        self.chunk_size = batch_size * steps_per_chunk
        self.generator = torch.Generator().manual_seed(seed)

    @staticmethod
    def _rank() -> tuple[int, int]:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return 0, 1

    @property
    def full_batch(self) -> bool:
        return self.batch_size >= self.x.shape[1]

    def __len__(self) -> int:
        return 1 if self.full_batch else math.ceil(self.x.shape[1] / self.chunk_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, list[int]]]:
        n_replicas, n = self.y.shape
        rank, world = self._rank()
        if self.batch_size < world:
            raise ConfigError(
                f"data.batch_size={self.batch_size} is smaller than the {world} DDP processes: "
                "every process needs at least one sample per SGD step."
            )
        position = torch.arange(n)
        mine = (position % self.batch_size) % world == rank  # this rank's share of every batch
        w = () if self.weight is None else (self.weight,)
        if self.full_batch:
            if world > 1:
                x, y, *w = (t[:, mine] for t in (self.x, self.y, *w))
            else:
                x, y = self.x, self.y
            yield x, y, [x.shape[1]] * (self.chunk_size // self.batch_size), *w
            return
        order = torch.argsort(torch.rand((n_replicas, n), generator=self.generator), dim=1)
        rows = torch.arange(n_replicas)[:, None]
        for start in range(0, n, self.chunk_size):
            stop = min(start + self.chunk_size, n)
            keep = mine[start:stop]
            idx = order[:, start:stop][:, keep]
            steps = keep.split(self.batch_size)
            sizes = [int(s.sum()) for s in steps]
            yield self.x[rows, idx], self.y[rows, idx], sizes, *(t[rows, idx] for t in w)


class TestSetStream:
    """Test sets generated lazily, chunk by chunk, so large test sets cost no memory.

    Yields dicts ``{"name", "x" (K, chunk, N), "y" (K, chunk)}``; a chunk is regenerated from
    its own seed, so every pass yields the same samples.
    """

    def __init__(self, teachers, b0, test_sets, n_test, chunk, seed):
        self.teachers, self.b0, self.test_sets = teachers, b0, test_sets
        self.n_test, self.chunk, self.seed = n_test, chunk, seed

    def _chunks(self) -> list[tuple[str, float, int]]:
        return [
            (name, rho, min(self.chunk, self.n_test - start))
            for name, rho in self.test_sets.items()
            for start in range(0, self.n_test, self.chunk)
        ]

    def __len__(self) -> int:
        return len(self._chunks())

    def __iter__(self):
        for chunk_index, (name, rho, size) in enumerate(self._chunks()):
            gens = replica_generators(self.seed + 7919 * chunk_index, len(self.teachers))
            pairs = [
                sample_dataset(w0, self.b0, size, rho, g) for w0, g in zip(self.teachers, gens)
            ]
            yield {
                "name": name,
                "x": torch.stack([p[0] for p in pairs]),
                "y": torch.stack([p[1] for p in pairs]),
            }


class TeacherStudentDataModule(LightningDataModule):
    """K independent teacher-student resamplings (quenched disorder), trained side by side.

    Args:
        N: input dimension. alpha: P/N (data scarcity). b0: teacher bias.
        rho_train: fraction of positives in the training set (number, ``intrinsic``, ``balanced``)
            -- with ``method`` other than ``resample``, the *effective* fraction the loss sees.
        method: how rho_train is reached (``imbalance.method``, see ``_rebalance``):
            ``resample`` draws a fresh set with round(rho_train*P) positives (thesis eq. 1.34);
            ``undersample`` / ``oversample`` resample one set drawn at rho0 (eq. 1.35);
            ``reweight`` keeps that set and weights each class's loss.
        rho_test: fraction of positives of the primary test set; a second test set at the
            intrinsic rho0 is always evaluated too (metrics prefixed ``test_intrinsic/``).
        n_resamplings: K, the number of independent teacher + training-set draws.
        batch_size: SGD mini-batch size (T_eff = lr / batch_size).
        steps_per_chunk: SGD steps per Lightning step (speed only; the dynamics is unchanged).
        n_test: test samples per test set and resampling; test_chunk: generated at a time.
        seed: master seed; every seed redraws teachers and data.
    """

    def __init__(
        self,
        N: int = 500,
        alpha: float = 2.0,
        b0: float = -0.6,
        rho_train: float | str = 0.5,
        rho_test: float | str = 0.5,
        n_resamplings: int = 1,
        batch_size: int = 20,
        steps_per_chunk: int = 1000,
        n_test: int = 10000,
        test_chunk: int = 2000,
        seed: int = 0,
        method: str = "resample",
    ):
        super().__init__()
        self.N = check_int_at_least("data.N", N, 1)
        self.alpha = check_positive("data.alpha", alpha)
        self.b0 = check_b0("data.b0", b0)
        self.rho0 = intrinsic_imbalance(self.b0)
        self.rho_train = resolve_rho("data.rho_train", rho_train, self.rho0)
        self.rho_test = resolve_rho("data.rho_test", rho_test, self.rho0)
        self.n_resamplings = check_int_at_least("data.n_resamplings", n_resamplings, 1)
        self.batch_size = check_int_at_least("data.batch_size", batch_size, 1)
        self.steps_per_chunk = check_int_at_least("data.steps_per_chunk", steps_per_chunk, 1)
        self.n_test = check_int_at_least("data.n_test", n_test, 2)
        self.test_chunk = check_int_at_least("data.test_chunk", test_chunk, 1)
        self.seed = int(seed)
        self.n_train = round(self.alpha * self.N)
        if self.n_train < 1:
            raise ConfigError(
                f"data.alpha*data.N = {self.alpha * self.N} gives no training sample."
            )
        self.method = check_method("imbalance.method", method)
        training_positives("data.rho_train", self.rho_train, self.n_train)
        if self.method != "resample":  # the one fixed set is drawn at rho0
            training_positives("data.rho_train (the data set at rho0)", self.rho0, self.n_train)
        n_fit = self._rebalanced_size()
        if self.batch_size > n_fit:
            raise ConfigError(
                f"data.batch_size={self.batch_size} exceeds the {n_fit} training samples "
                f"(alpha*N, method {self.method}): use data.batch_size={n_fit} (full batch) "
                "or a larger data.N."
            )
        self.teacher_weights: torch.Tensor | None = None
        self.train_weight: torch.Tensor | None = None

    def _rebalanced_size(self) -> int:
        """Training set size after rebalancing (the counts do not depend on the draw)."""
        if self.method not in ("undersample", "oversample"):
            return self.n_train
        labels = torch.zeros(self.n_train)
        labels[: round(self.rho0 * self.n_train)] = 1.0
        idx = rebalance_indices(labels, self.rho_train, self.method, torch.Generator())
        return idx.shape[0]

    def setup(self, stage: str | None = None) -> None:
        if self.teacher_weights is not None:
            return
        gens = replica_generators(self.seed, self.n_resamplings)
        shape = (self.n_resamplings, self._rebalanced_size())
        # Preallocated and filled one resampling at a time: peak memory = the data itself.
        self.train_x = torch.empty((*shape, self.N), dtype=torch.float32)
        self.train_y = torch.empty(shape, dtype=torch.float32)
        if self.method == "reweight":
            self.train_weight = torch.empty(shape, dtype=torch.float32)
        teachers = []
        rho_draw = self.rho_train if self.method == "resample" else self.rho0
        for k, generator in enumerate(gens):
            teachers.append(sample_teacher(self.N, generator))
            x, y = sample_dataset(teachers[-1], self.b0, self.n_train, rho_draw, generator)
            if self.method in ("undersample", "oversample"):
                idx = rebalance_indices(y, self.rho_train, self.method, generator)
                x, y = x[idx], y[idx]
            elif self.method == "reweight":
                self.train_weight[k] = class_weights(y, self.rho_train)
            self.train_x[k], self.train_y[k] = x, y
        self.teacher_weights = torch.stack(teachers)

    def model_kwargs(self) -> dict:
        """Dimensions the perceptron needs from the data (see docs/CONVENTIONS.md)."""
        return {
            "n_features": self.N,
            "n_replicas": self.n_resamplings,
            "batch_size": self.batch_size,
        }

    def train_dataloader(self) -> ReplicaBatches:
        return ReplicaBatches(
            self.train_x,
            self.train_y,
            self.batch_size,
            self.steps_per_chunk,
            seed=self.seed + 1,
            weight=self.train_weight,
        )

    def test_dataloader(self) -> TestSetStream:
        test_sets = {"test": self.rho_test, "test_intrinsic": self.rho0}
        return TestSetStream(
            list(self.teacher_weights),
            self.b0,
            test_sets,
            self.n_test,
            self.test_chunk,
            self.seed + 2,
        )
