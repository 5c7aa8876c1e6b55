"""Frozen ResNet backbones for the linear probe of thesis §1.3.4 (Fig. 1.9-right).

The thesis trains "a pre-trained ResNet34 [HZRS15] in which only the final linear layer is
trained". The architecture is taken from torchvision when it is installed; otherwise an
equivalent pure-torch implementation is used (same layers, same parameter names, same
parameter count), so torchvision's ImageNet checkpoints load into it and the probe logic is
testable on machines without torchvision.

Pretrained weights are looked up, in order, in ``weights_path`` (a local ``.pth`` state dict)
and in the torch hub cache where torchvision keeps its downloads
(``$TORCH_HOME/hub/checkpoints/resnet34-b627a593.pth``). When neither exists the backbone keeps
its random initialisation and a warning says so: its features are then random projections,
not ImageNet features.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from interplay.core import ConfigError, DataError, check_choice
from interplay.imbalance.data import torchvision_available

log = logging.getLogger(__name__)

#: blocks per stage (BasicBlock); "tiny" is a one-block-per-stage ResNet for quick tests.
ARCHITECTURES = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3), "tiny": (1, 1, 1, 1)}
#: file names of torchvision's IMAGENET1K_V1 checkpoints in the torch hub cache.
TORCHVISION_CHECKPOINTS = {
    "resnet18": "resnet18-f37072fd.pth",
    "resnet34": "resnet34-b627a593.pth",
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FEATURE_DIM = 512  # width of the last stage of BasicBlock ResNets = input of the final fc


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (torchvision's ``BasicBlock``)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """BasicBlock ResNet with torchvision's layer names (``conv1``, ``layer1.0.conv1``, ``fc``).

    ``ResNet((3, 4, 6, 3))`` is ResNet34: 21,797,672 parameters with the 1000-class ``fc``,
    exactly as ``torchvision.models.resnet34``.
    """

    def __init__(self, layers: tuple[int, ...], num_classes: int = 1000):
        super().__init__()
        widths = (64, 128, 256, 512)
        self.conv1 = nn.Conv2d(3, widths[0], 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = widths[0]
        for i, (width, n_blocks) in enumerate(zip(widths, layers)):
            blocks = []
            for j in range(n_blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(BasicBlock(inplanes, width, stride))
                inplanes = width
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build_resnet(arch: str) -> nn.Module:
    """A randomly initialised ResNet: torchvision's when installed, else :class:`ResNet`."""
    check_choice("model.arch", arch, tuple(ARCHITECTURES))
    if torchvision_available():
        from torchvision.models import resnet

        return resnet.ResNet(resnet.BasicBlock, list(ARCHITECTURES[arch]))
    return ResNet(ARCHITECTURES[arch])


def find_weights(arch: str, weights_path: str | None) -> Path | None:
    """The pretrained checkpoint to load: ``weights_path``, else torchvision's cached file."""
    if weights_path:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise DataError(
                f"model.weights_path={weights_path!r} does not exist. Give a torchvision "
                f"ImageNet state dict of {arch} (e.g. {TORCHVISION_CHECKPOINTS.get(arch)} from "
                "https://download.pytorch.org/models/), or null to use the torch hub cache."
            )
        return path
    name = TORCHVISION_CHECKPOINTS.get(arch)
    if name is None:
        return None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / name
    return cached if cached.is_file() else None


def load_backbone_weights(backbone: nn.Module, path: Path) -> None:
    """Load a (torchvision-format) state dict into ``backbone``; the final ``fc`` is ignored."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    state = {k.removeprefix("module."): v for k, v in state.items() if not k.startswith("fc.")}
    missing, unexpected = backbone.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConfigError(
            f"{path} does not fit model.arch: missing keys {missing[:5]}, unexpected keys "
            f"{unexpected[:5]}. Give the checkpoint of the same ResNet as model.arch."
        )


def frozen_backbone(
    arch: str, weights_path: str | None, pretrained: bool, seed: int
) -> tuple[nn.Module, bool]:
    """The ResNet without its final layer (outputs 512 features), frozen, in eval mode.

    Returns ``(backbone, loaded)``: ``loaded`` tells whether pretrained weights were found.
    Without them the initialisation is random (seeded by ``seed``) and, when ``pretrained`` was
    asked for, a warning names where the weights were looked for.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone = build_resnet(arch)
    backbone.fc = nn.Identity()
    path = find_weights(arch, weights_path) if (pretrained or weights_path) else None
    if path is not None:
        load_backbone_weights(backbone, path)
        log.info("Loaded backbone weights from %s", path)
    elif pretrained:
        expected = TORCHVISION_CHECKPOINTS.get(arch, "<no torchvision checkpoint for this arch>")
        message = (
            f"No pretrained weights for model.arch={arch}: model.weights_path is null and "
            f"{Path(torch.hub.get_dir()) / 'checkpoints' / expected} does not exist. The "
            "backbone keeps its RANDOM initialisation (random features, not ImageNet "
            "features). Download the torchvision checkpoint and set model.weights_path, or set "
            "model.pretrained=false to silence this warning."
        )
        warnings.warn(message, stacklevel=2)
        log.warning(message)
    backbone.requires_grad_(False)
    backbone.eval()
    return backbone, path is not None
