"""Models of chapter 1 (thesis §1.3.4): the spherical perceptron trained by SGD, the MLP and
the frozen-ResNet linear probe, each training K quenched resamplings at once, and the batched
classification metrics they log."""

from interplay.imbalance.models._classifiers import MLPClassifier, ReplicaClassifier, ResNetProbe
from interplay.imbalance.models._metrics import METRIC_NAMES, classification_metrics, roc_auc
from interplay.imbalance.models._perceptron import SphericalPerceptron
from interplay.imbalance.models._vision import ResNet, build_resnet, frozen_backbone

__all__ = [
    "ResNet",
    "METRIC_NAMES",
    "MLPClassifier",
    "ReplicaClassifier",
    "ResNetProbe",
    "SphericalPerceptron",
    "build_resnet",
    "classification_metrics",
    "frozen_backbone",
    "roc_auc",
]
