"""LightningModules of chapter 2: :class:`PropensityBase` (loss, label normalisation,
validation / test observables and outputs) and the models that ``conf/model/*.yaml`` name."""

from interplay.glass.models._bapst import BapstGNNModule
from interplay.glass.models._base import TYPE_NAMES, PropensityBase, adam_with_halvings, split_batch
from interplay.glass.models._baselines import DescriptorRidgeModule, SoftnessSVMModule, ridge_fit
from interplay.glass.models._propensity import PropensityModule

__all__ = [
    "ridge_fit",
    "TYPE_NAMES",
    "BapstGNNModule",
    "DescriptorRidgeModule",
    "PropensityBase",
    "PropensityModule",
    "SoftnessSVMModule",
    "adam_with_halvings",
    "split_batch",
]
