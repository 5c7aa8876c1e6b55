"""LightningModules of chapter 2: :class:`PropensityBase` (loss, label normalisation,
validation / test observables and outputs) and the models that ``conf/model/*.yaml`` name.

Every model receives its network from the config (``net:``): :class:`PropensityModule` trains
any gradient network of :mod:`interplay.glass.nn` with the configured ``optimizer`` /
``scheduler`` partials; the closed-form baselines fit on the descriptors of their ``net``
(a :class:`~interplay.glass.nn.DescriptorSpec`)."""

from interplay.glass.models._base import TYPE_NAMES, PropensityBase, split_batch
from interplay.glass.models._baselines import (
    DescriptorModel,
    DescriptorRidgeModule,
    SoftnessSVMModule,
    ridge_fit,
)
from interplay.glass.models._propensity import PropensityModule, build_net
from interplay.glass.models._schedules import SHAPES, RunLengthLR

__all__ = [
    "TYPE_NAMES",
    "DescriptorModel",
    "DescriptorRidgeModule",
    "PropensityBase",
    "PropensityModule",
    "RunLengthLR",
    "SHAPES",
    "SoftnessSVMModule",
    "build_net",
    "ridge_fit",
    "split_batch",
]
