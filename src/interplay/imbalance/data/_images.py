"""Anomaly-detection image datasets with a controlled training imbalance (thesis §1.3.4).

One class of a labelled image dataset is the anomaly (label 1), all other classes are normal
(label 0); the intrinsic imbalance rho0 is the anomaly fraction of the training split (0.1 for
CIFAR-10, "Defining one class as the anomaly sets the intrinsic imbalance to rho0 = 0.1").
Every resampling draws a training set of fixed size ``n_train`` holding exactly
``round(rho_train * n_train)`` anomalies, sub-sampled without replacement from the training
split ("we perform sub-sampling on the dataset according to the desired level of imbalance,
keeping the total number of training samples fixed").

Two test sets are evaluated, like the teacher-student perceptron: ``test`` is balanced (every
anomaly of the test split plus as many normal images, drawn once with ``split_seed``) and
``test_intrinsic`` is the whole test split (rho0). Both are fixed: the spread across
resamplings comes from the training sets alone.

* ``data=ad_digits``: scikit-learn's bundled 8x8 digits (1797 images, no download), split once
  into train / test (stratified, ``split_seed``).
* ``data=ad_cifar10``: CIFAR-10 from ``data.root`` (see :mod:`interplay.imbalance.data._cifar`).

Images are kept as uint8, channel-first, flattened ``(n, C*H*W)``. The model turns them into
its inputs once per run through :meth:`ImageAnomalyDataModule.map_inputs` (pixel
standardisation for the MLP, frozen-backbone features for the ResNet probe).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
from lightning.pytorch import LightningDataModule

from interplay.core import ConfigError, check_int_at_least, check_open_unit
from interplay.imbalance.data._cifar import (
    CLASSES,
    IMAGE_SHAPE,
    PIXEL_MEAN,
    PIXEL_STD,
    READERS,
    TRAIN_PER_CLASS,
    load_cifar10,
)
from interplay.imbalance.data._regimes import resolve_rho
from interplay.imbalance.data._teacher_student import ReplicaBatches, replica_generators


class TestChunks:
    """One test dataloader (a plain list would count as several for Lightning)."""

    def __init__(self, chunks: list[dict]):
        self.chunks = chunks

    def __len__(self) -> int:
        return len(self.chunks)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.chunks)


class ImageAnomalyDataModule(LightningDataModule):
    """K resamplings of an anomaly-detection training set at class fraction ``rho_train``.

    Subclasses set ``class_names``, ``image_shape``, ``pixel_scale``, ``pixel_mean``,
    ``pixel_std`` and implement :meth:`nominal_class_counts` (cheap, used to validate the
    config before any data is read) and :meth:`load_splits`.

    Args:
        anomaly_class: index or name of the class labelled as anomaly (+1).
        n_train: training-set size, fixed while ``rho_train`` varies.
        rho_train: anomaly fraction of the training set: number, ``intrinsic`` or ``balanced``.
        n_resamplings: K training sets drawn independently (trained side by side).
        batch_size: SGD mini-batch size.
        test_chunk: test images per evaluation step.
        seed: draws the training sets (every seed = new resamplings).
        split_seed: fixes the test sets (and the digits train/test split) across runs.
    """

    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] = (1, 1, 1)
    pixel_scale: float = 1.0 / 255.0
    pixel_mean: tuple[float, ...] = (0.0,)
    pixel_std: tuple[float, ...] = (1.0,)

    def __init__(
        self,
        anomaly_class: int | str = 0,
        n_train: int = 100,
        rho_train: float | str = 0.5,
        n_resamplings: int = 1,
        batch_size: int = 10,
        test_chunk: int = 2000,
        seed: int = 0,
        split_seed: int = 0,
    ):
        super().__init__()
        self.anomaly_class = self.resolve_class(anomaly_class)
        self.n_train = check_int_at_least("data.n_train", n_train, 2)
        self.n_resamplings = check_int_at_least("data.n_resamplings", n_resamplings, 1)
        self.batch_size = check_int_at_least("data.batch_size", batch_size, 1)
        self.test_chunk = check_int_at_least("data.test_chunk", test_chunk, 1)
        self.seed, self.split_seed = int(seed), int(split_seed)
        counts = self.nominal_class_counts()
        self.rho0 = float(counts[self.anomaly_class] / counts.sum())
        self.rho_train = resolve_rho("data.rho_train", rho_train, self.rho0)
        self.n_pos = round(self.rho_train * self.n_train)
        self.n_neg = self.n_train - self.n_pos
        self.check_capacity(
            int(counts[self.anomaly_class]), int(counts.sum()) - counts[self.anomaly_class]
        )
        self._pixels: torch.Tensor | None = None
        self._map_key: object = None
        self.inputs: torch.Tensor | None = None

    # ---- subclass API -----------------------------------------------------------------
    def nominal_class_counts(self) -> np.ndarray:
        """Images per class in the training split, known without reading the data."""
        raise NotImplementedError

    def load_splits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(x_train, class_train, x_test, class_test)``: uint8 (n, C*H*W) and int classes."""
        raise NotImplementedError

    # ---- validation -------------------------------------------------------------------
    def resolve_class(self, value: int | str) -> int:
        """Index of the anomaly class from its index or name; ConfigError when unknown."""
        names = self.class_names
        if isinstance(value, str) and value in names:
            return names.index(value)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
            return value
        choices = list(range(len(names))) + [n for n in names if not n.isdigit()]
        raise ConfigError(
            f"data.anomaly_class={value!r} is not a class of {type(self).__name__}: "
            f"data.anomaly_class must be one of {choices}."
        )

    def check_capacity(self, available_pos: int, available_neg: int) -> None:
        """The requested training set must fit in the training split at this rho_train."""
        where = f"data.n_train={self.n_train} at data.rho_train={self.rho_train:g}"
        if self.n_pos < 1 or self.n_neg < 1:
            raise ConfigError(
                f"{where} gives {self.n_pos} anomalies and {self.n_neg} normal images: both "
                "classes need at least one training image; raise data.n_train or move "
                "data.rho_train away from 0 and 1."
            )
        for kind, needed, available, rho in (
            ("anomalies", self.n_pos, available_pos, self.rho_train),
            ("normal images", self.n_neg, available_neg, 1.0 - self.rho_train),
        ):
            if needed > available:
                raise ConfigError(
                    f"{where} needs {needed} {kind} but the training split holds only "
                    f"{available}: data.n_train must be <= {int(available / rho)} at this "
                    "rho_train (or lower data.rho_train)."
                )

    # ---- data -------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self._pixels is not None:
            return
        x_train, c_train, x_test, c_test = self.load_splits()
        y_train, y_test = c_train == self.anomaly_class, c_test == self.anomaly_class
        self.check_capacity(int(y_train.sum()), int((~y_train).sum()))
        pos, neg = np.flatnonzero(y_train), np.flatnonzero(~y_train)
        rows = []
        for gen in replica_generators(self.seed, self.n_resamplings):
            pick_pos = pos[torch.randperm(len(pos), generator=gen)[: self.n_pos].numpy()]
            pick_neg = neg[torch.randperm(len(neg), generator=gen)[: self.n_neg].numpy()]
            rows.append(np.concatenate([pick_pos, pick_neg]))
        train_rows = np.stack(rows)  # (K, n_train) rows of the training split
        test_pos, test_neg = np.flatnonzero(y_test), np.flatnonzero(~y_test)
        if len(test_pos) == 0 or len(test_neg) == 0:
            raise ConfigError(
                f"The test split has {len(test_pos)} anomalies and {len(test_neg)} normal "
                f"images for data.anomaly_class={self.anomaly_class}: both are needed."
            )
        rng = np.random.default_rng(self.split_seed)
        n_bal = min(len(test_pos), len(test_neg))
        balanced = np.concatenate(
            [rng.choice(test_pos, n_bal, replace=False), rng.choice(test_neg, n_bal, replace=False)]
        )
        # Pool = the training images some resampling uses + the test split, stored once.
        used, inverse = np.unique(train_rows, return_inverse=True)
        self._pixels = torch.from_numpy(np.concatenate([x_train[used], x_test]))
        self.train_index = torch.from_numpy(inverse.reshape(train_rows.shape))
        self.train_y = torch.from_numpy(y_train[train_rows]).float()
        offset = len(used)
        self.test_index = {
            "test": torch.from_numpy(offset + balanced),
            "test_intrinsic": torch.arange(offset, offset + len(x_test)),
        }
        self.test_y = {
            "test": torch.from_numpy(y_test[balanced]).float(),
            "test_intrinsic": torch.from_numpy(y_test).float(),
        }
        self.rho_test_intrinsic = float(y_test.mean())
        self.inputs = self.pixels(self._pixels)
        self._map_key = None

    def pixels(self, raw: torch.Tensor) -> torch.Tensor:
        """uint8 images -> float32 pixels in [0, 1]."""
        return raw.float().mul_(self.pixel_scale)

    @torch.no_grad()
    def map_inputs(
        self, fn: Callable[[torch.Tensor], torch.Tensor], key: object, chunk: int = 512
    ) -> None:
        """Replace the model inputs of every stored image by ``fn(pixels)``, once per ``key``.

        ``fn`` takes (n, C*H*W) pixels in [0, 1] and returns (n, F) inputs; it must be fixed
        (no trained parameters), e.g. a frozen backbone. Called by the model's ``setup``.
        """
        if self._pixels is None:
            self.setup()
        if key is not None and key == self._map_key:
            return
        parts = [fn(self.pixels(raw)).float().cpu() for raw in self._pixels.split(chunk)]
        self.inputs = torch.cat(parts)
        self._map_key = key

    def train_inputs(self) -> torch.Tensor:
        """Model inputs of the K training sets, (K, n_train, F)."""
        return self.inputs[self.train_index]

    def model_kwargs(self) -> dict:
        """What the classifiers need from the data (cheap: no data is read)."""
        c, h, w = self.image_shape
        return {
            "n_features": c * h * w,
            "image_shape": [c, h, w],
            "n_replicas": self.n_resamplings,
            "pixel_mean": [float(v) for v in self.pixel_mean],
            "pixel_std": [float(v) for v in self.pixel_std],
        }

    def train_dataloader(self) -> ReplicaBatches:
        # steps_per_chunk=1: one mini-batch (K, B, F) per Lightning step (autograd SGD)
        return ReplicaBatches(
            self.train_inputs(), self.train_y, self.batch_size, 1, seed=self.seed + 1
        )

    def test_dataloader(self) -> TestChunks:
        """Both test sets, chunked: dicts ``{"name", "x" (n, F), "y" (n,)}`` shared by all K."""
        return TestChunks(
            [
                {"name": name, "x": self.inputs[idx], "y": y}
                for name in self.test_index
                for idx, y in zip(
                    self.test_index[name].split(self.test_chunk),
                    self.test_y[name].split(self.test_chunk),
                )
            ]
        )


class DigitsAnomalyDataModule(ImageAnomalyDataModule):
    """scikit-learn's 8x8 digits (bundled, no download) with one digit as the anomaly.

    1797 images, about 180 per digit (rho0 ~ 0.1), pixel values 0..16. The train / test split
    (``test_fraction``, stratified by digit) is drawn once with ``split_seed``.
    """

    class_names = tuple(str(d) for d in range(10))
    image_shape = (1, 8, 8)
    pixel_scale = 1.0 / 16.0

    def __init__(self, anomaly_class: int | str = 0, test_fraction: float = 0.5, **kwargs):
        from sklearn.datasets import load_digits

        self.test_fraction = check_open_unit("data.test_fraction", test_fraction)
        digits = load_digits()
        self._images = digits.data.astype(np.uint8)  # (1797, 64), values 0..16
        self._classes = digits.target.astype(np.int64)
        split_seed = int(kwargs.get("split_seed", 0))
        rng = np.random.default_rng(split_seed)
        is_test = np.zeros(len(self._classes), dtype=bool)
        for digit in range(10):  # stratified: the same test fraction of every digit
            members = np.flatnonzero(self._classes == digit)
            is_test[
                rng.choice(members, round(self.test_fraction * len(members)), replace=False)
            ] = True
        self._is_test = is_test
        scaled = self._images[~is_test] / 16.0
        self.pixel_mean, self.pixel_std = (float(scaled.mean()),), (float(scaled.std()),)
        super().__init__(anomaly_class=anomaly_class, **kwargs)

    def nominal_class_counts(self) -> np.ndarray:
        return np.bincount(self._classes[~self._is_test], minlength=10)

    def load_splits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        test = self._is_test
        return self._images[~test], self._classes[~test], self._images[test], self._classes[test]


class CIFAR10AnomalyDataModule(ImageAnomalyDataModule):
    """AD CIFAR-10 (thesis §1.3.4): one class (airplane) = anomaly, rho0 = 0.1.

    ``root`` holds ``cifar-10-batches-py/``; ``reader``: ``auto`` (torchvision if installed,
    else the built-in pickle reader), ``torchvision`` or ``pickle``; ``download`` (torchvision
    only) fetches the archive into ``root``.
    """

    class_names = CLASSES
    image_shape = IMAGE_SHAPE
    pixel_scale = 1.0 / 255.0
    pixel_mean = PIXEL_MEAN
    pixel_std = PIXEL_STD

    def __init__(
        self,
        root: str,
        anomaly_class: int | str = "airplane",
        reader: str = "auto",
        download: bool = False,
        **kwargs,
    ):
        self.root, self.reader, self.download = str(root), reader, bool(download)
        if reader not in READERS:
            raise ConfigError(f"data.reader={reader!r} must be one of {list(READERS)}.")
        super().__init__(anomaly_class=anomaly_class, **kwargs)

    def nominal_class_counts(self) -> np.ndarray:
        return np.full(10, TRAIN_PER_CLASS)

    def load_splits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return load_cifar10(self.root, self.reader, self.download)
