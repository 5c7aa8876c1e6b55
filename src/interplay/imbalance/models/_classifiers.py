"""MLP and frozen-ResNet linear probe on AD images (thesis §1.3.4, Fig. 1.9-right).

"Training is conducted via L2 loss minimization, using SGD" with "momentum = 0.02 and weight
decay 0.01" (Fig. 1.9 caption). Both models share :class:`ReplicaClassifier`: K independent
classifiers, one per resampling of the training set, trained side by side. The loss is the
*sum* over resamplings of each one's own mini-batch mean ``1/2 (sigmoid(s) - y)^2`` on 0/1
labels, so every classifier receives exactly the gradient it would get alone (SGD momentum and
weight decay act element-wise, hence independently too). Predictions are ``s > 0``
(sigmoid > 1/2); metrics are those of the perceptron (:mod:`interplay.imbalance.models._metrics`).

* :class:`MLPClassifier` (``model=mlp``): standardised pixels -> one hidden layer of 16 units
  (ReLU) -> one output.
* :class:`ResNetProbe` (``model=resnet_probe``): a frozen ResNet34 backbone, only the final
  linear layer is trained. The backbone is fixed, so its features are a fixed function of the
  image: they are computed once per run (one forward pass per stored image, in ``setup``)
  instead of once per image per epoch. Training the probe is then a linear model on 512
  features, and the whole run costs about one epoch of backbone inference.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule

from interplay.core import (
    ConfigError,
    check_choice,
    check_int_at_least,
    check_positive,
)
from interplay.imbalance.models._metrics import classification_metrics
from interplay.imbalance.models._vision import (
    ARCHITECTURES,
    FEATURE_DIM,
    IMAGENET_MEAN,
    IMAGENET_STD,
    frozen_backbone,
)


def _check_non_negative(name: str, value: float) -> float:
    if value != 0:
        check_positive(name, value)
    return float(value)


def _uniform(generator: torch.Generator, shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
    """torch.nn.Linear's default initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


def _channel_standardize(
    x: torch.Tensor, image_shape: tuple[int, int, int], mean, std
) -> torch.Tensor:
    c = image_shape[0]
    images = x.reshape(-1, *image_shape)
    mean = torch.as_tensor(mean, dtype=x.dtype, device=x.device).reshape(1, c, 1, 1)
    std = torch.as_tensor(std, dtype=x.dtype, device=x.device).reshape(1, c, 1, 1)
    return ((images - mean) / std).reshape(x.shape[0], -1)


class ReplicaClassifier(LightningModule):
    """Shared base: K binary classifiers, sigmoid output, L2 loss, SGD(momentum, weight decay).

    Subclasses implement :meth:`forward` (inputs (K, B, F) -> scores (K, B)) and
    :meth:`input_map` (fixed map from pixels (n, C*H*W) in [0, 1] to inputs (n, F)), which
    ``setup`` applies once to every stored image of the datamodule.
    """

    def __init__(self, n_replicas: int, lr: float, momentum: float, weight_decay: float, seed: int):
        super().__init__()
        self.n_replicas = check_int_at_least("model.n_replicas", n_replicas, 1)
        self.lr = check_positive("model.lr", lr)
        self.momentum = _check_non_negative("model.momentum", momentum)
        self.weight_decay = _check_non_negative("model.weight_decay", weight_decay)
        self._test_scores: dict[str, list] = defaultdict(list)
        self._test_labels: dict[str, list] = defaultdict(list)
        self._records: list[dict] = []
        self.map_seconds = 0.0

    # ---- subclass API -----------------------------------------------------------------
    def input_map(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def input_map_key(self) -> object:
        """Identifies the input map: the datamodule recomputes inputs only when it changes."""
        return (type(self).__name__, id(self))

    # ---- data hand-over ---------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Compute the model inputs of every stored image once (before any dataloader)."""
        datamodule = self.trainer.datamodule
        if datamodule is None or not hasattr(datamodule, "map_inputs"):
            return
        start = time.perf_counter()
        datamodule.map_inputs(self.input_map, key=self.input_map_key())
        self.map_seconds += time.perf_counter() - start

    # ---- training ---------------------------------------------------------------------
    def replica_losses(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """L_k = mean_b 1/2 (sigmoid(s_kb) - y_kb)^2, one value per classifier, shape (K,)."""
        return 0.5 * (torch.sigmoid(self(x)) - y).pow(2).mean(dim=1)

    def training_step(self, batch, batch_idx):
        x, y, _ = batch  # (K, B, F), (K, B), step sizes (one step per batch here)
        losses = self.replica_losses(x, y)
        self.log(
            "train/loss",
            losses.mean(),
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            sync_dist=True,
            batch_size=x.shape[1],
        )
        return losses.sum()  # sum over k: each classifier gets its own mean-loss gradient

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.SGD(
            params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay
        )

    # ---- evaluation -------------------------------------------------------------------
    def test_step(self, batch, batch_idx):
        x = batch["x"].unsqueeze(0).expand(self.n_replicas, -1, -1)
        self._test_scores[batch["name"]].append(self(x).detach().cpu().numpy())
        self._test_labels[batch["name"]].append(batch["y"].cpu().numpy())

    @torch.no_grad()
    def train_error(self) -> np.ndarray:
        """Training error of every classifier on its own training set, shape (K,)."""
        datamodule = self.trainer.datamodule
        x, y = datamodule.train_inputs(), datamodule.train_y
        wrong = [
            ((self(xc.to(self.device)) > 0).float() != yc.to(self.device)).float().sum(dim=1)
            for xc, yc in zip(x.split(2048, dim=1), y.split(2048, dim=1))
        ]
        return (torch.stack(wrong).sum(dim=0) / y.shape[1]).cpu().numpy()

    def on_test_epoch_end(self) -> None:
        per_replica = {"test/train_error": self.train_error()}
        for name in self._test_scores:
            scores = np.concatenate(self._test_scores[name], axis=1)
            labels = np.broadcast_to(np.concatenate(self._test_labels[name]), scores.shape)
            for metric, values in classification_metrics(scores, labels).items():
                per_replica[f"{name}/{metric}"] = values
        self._test_scores.clear()
        self._test_labels.clear()
        self.log_dict({key: float(np.nanmean(v)) for key, v in per_replica.items()})
        self._records = [
            {"resampling": k, **{key: float(v[k]) for key, v in per_replica.items()}}
            for k in range(self.n_replicas)
        ]

    def records(self) -> list[dict]:
        """One row of test observables per resampling of the training set."""
        return self._records

    def extra_results(self) -> dict[str, float]:
        out = {
            "n_replicas": self.n_replicas,
            "n_trainable_parameters": sum(p.numel() for p in self.parameters() if p.requires_grad)
            // self.n_replicas,
            "input_map_seconds": self.map_seconds,
        }
        datamodule = self.trainer.datamodule if self._trainer is not None else None
        if datamodule is not None and hasattr(datamodule, "rho_train"):
            out |= {"rho_train": datamodule.rho_train, "rho0": datamodule.rho0}
        return out


class MLPClassifier(ReplicaClassifier):
    """One-hidden-layer MLP (thesis: 16 hidden units), K independent copies.

    Inputs are the pixels standardised per channel with the dataset's fixed statistics
    (``pixel_mean`` / ``pixel_std`` from the data, independent of rho_train).
    """

    def __init__(
        self,
        n_features: int,
        image_shape: list[int] | None = None,
        n_replicas: int = 1,
        pixel_mean: list[float] | None = None,
        pixel_std: list[float] | None = None,
        hidden: int = 16,
        activation: str = "relu",
        lr: float = 0.1,
        momentum: float = 0.02,
        weight_decay: float = 0.01,
        seed: int = 0,
    ):
        super().__init__(n_replicas, lr, momentum, weight_decay, seed)
        self.save_hyperparameters()
        self.n_features = check_int_at_least("model.n_features", n_features, 1)
        self.hidden = check_int_at_least("model.hidden", hidden, 1)
        self.activation = check_choice("model.activation", activation, ("relu", "tanh"))
        self.image_shape = tuple(image_shape) if image_shape is not None else (1, n_features, 1)
        self.pixel_mean = [float(v) for v in (pixel_mean or [0.0])]
        self.pixel_std = [float(v) for v in (pixel_std or [1.0])]
        k, n, h, g = n_replicas, n_features, hidden, torch.Generator().manual_seed(int(seed))
        self.w1 = torch.nn.Parameter(_uniform(g, (k, n, h), n))
        self.b1 = torch.nn.Parameter(_uniform(g, (k, h), n))
        self.w2 = torch.nn.Parameter(_uniform(g, (k, h), h))
        self.b2 = torch.nn.Parameter(_uniform(g, (k,), h))

    def input_map(self, pixels: torch.Tensor) -> torch.Tensor:
        return _channel_standardize(pixels, self.image_shape, self.pixel_mean, self.pixel_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (K, B) for inputs (K, B, n_features)."""
        hidden = torch.baddbmm(self.b1[:, None, :], x, self.w1)
        hidden = torch.relu(hidden) if self.activation == "relu" else torch.tanh(hidden)
        return torch.einsum("kbh,kh->kb", hidden, self.w2) + self.b2[:, None]


class ResNetProbe(ReplicaClassifier):
    """Frozen ResNet backbone + trained final linear layer (512 -> 1), K independent probes.

    Args:
        arch: ``resnet34`` (thesis), ``resnet18`` or ``tiny`` (one block per stage, tests).
        weights_path: local torchvision state dict; null looks in the torch hub cache.
        pretrained: expect pretrained weights (warn when none is found); false = random
            backbone on purpose.
        image_size: images are resized (bilinear) to this side before the backbone; null keeps
            the native size. Grey images are repeated on 3 channels.
        feature_batch_size: images per backbone forward pass when features are computed.
    """

    def __init__(
        self,
        n_features: int,
        image_shape: list[int],
        n_replicas: int = 1,
        pixel_mean: list[float] | None = None,
        pixel_std: list[float] | None = None,
        arch: str = "resnet34",
        weights_path: str | None = None,
        pretrained: bool = True,
        image_size: int | None = 224,
        feature_batch_size: int = 256,
        lr: float = 0.1,
        momentum: float = 0.02,
        weight_decay: float = 0.01,
        seed: int = 0,
    ):
        super().__init__(n_replicas, lr, momentum, weight_decay, seed)
        self.save_hyperparameters()
        check_choice("model.arch", arch, tuple(ARCHITECTURES))
        self.image_shape = tuple(int(v) for v in image_shape)
        if len(self.image_shape) != 3 or self.image_shape[0] not in (1, 3):
            raise ConfigError(f"image_shape must be (1 or 3, H, W), got {self.image_shape}")
        self.image_size = (
            None if image_size is None else check_int_at_least("model.image_size", image_size, 1)
        )
        self.feature_batch_size = check_int_at_least(
            "model.feature_batch_size", feature_batch_size, 1
        )
        backbone, self.pretrained = frozen_backbone(arch, weights_path, pretrained, seed)
        # Outside the module tree: never trained, not checkpointed (rebuilt from weights/seed).
        object.__setattr__(self, "backbone", backbone)
        if self.pretrained:  # ImageNet statistics for ImageNet weights
            self.norm_mean, self.norm_std = IMAGENET_MEAN, IMAGENET_STD
        else:  # the dataset's own pixel statistics (grey: the same on the 3 channels)
            mean, std = list(pixel_mean or [0.5]), list(pixel_std or [0.25])
            self.norm_mean = tuple(mean * 3 if len(mean) == 1 else mean)
            self.norm_std = tuple(std * 3 if len(std) == 1 else std)
        k, g = n_replicas, torch.Generator().manual_seed(int(seed))
        self.weight = torch.nn.Parameter(_uniform(g, (k, FEATURE_DIM), FEATURE_DIM))
        self.bias = torch.nn.Parameter(_uniform(g, (k,), FEATURE_DIM))

    @torch.no_grad()
    def input_map(self, pixels: torch.Tensor) -> torch.Tensor:
        """Backbone features (n, 512) of pixels (n, C*H*W) in [0, 1]."""
        device = self.trainer.strategy.root_device if self._trainer is not None else self.device
        self.backbone.to(device).eval()
        out = []
        for chunk in pixels.split(self.feature_batch_size):
            images = chunk.to(device).reshape(-1, *self.image_shape)
            if images.shape[1] == 1:
                images = images.expand(-1, 3, -1, -1)
            if self.image_size is not None and images.shape[-1] != self.image_size:
                images = F.interpolate(
                    images,
                    size=(self.image_size, self.image_size),
                    mode="bilinear",
                    align_corners=False,
                )
            images = _channel_standardize(
                images.reshape(len(images), -1),
                (3, *images.shape[-2:]),
                self.norm_mean,
                self.norm_std,
            ).reshape(images.shape)
            out.append(self.backbone(images).cpu())
        return torch.cat(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (K, B) for backbone features (K, B, 512)."""
        return torch.einsum("kbf,kf->kb", x, self.weight) + self.bias[:, None]

    def extra_results(self) -> dict[str, float]:
        return super().extra_results() | {"pretrained_backbone": float(self.pretrained)}
