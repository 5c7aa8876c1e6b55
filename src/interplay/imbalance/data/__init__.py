"""Data of chapter 1: teacher-student sampling (eqs. 1.32-1.36), imbalance regimes and methods
(resample, under/over-sample, reweight), AD image
datasets (digits, CIFAR-10) and the DataModules that ``conf/data/*.yaml`` name."""

from interplay.imbalance.data._cifar import torchvision_available
from interplay.imbalance.data._images import (
    CIFAR10AnomalyDataModule,
    DigitsAnomalyDataModule,
    ImageAnomalyDataModule,
)
from interplay.imbalance.data._rebalance import (
    METHODS,
    check_method,
    class_weights,
    effective_rho,
    rebalance_indices,
)
from interplay.imbalance.data._regimes import (
    B0_MAX,
    NAMED_RHO,
    check_b0,
    intrinsic_imbalance,
    resolve_rho,
    training_positives,
)
from interplay.imbalance.data._teacher_student import (
    ReplicaBatches,
    TeacherStudentDataModule,
    TestSetStream,
    balanced_labels,
    replica_generators,
    sample_dataset,
    sample_inputs,
    sample_teacher,
    sample_teacher_field,
)

__all__ = [
    "B0_MAX",
    "METHODS",
    "NAMED_RHO",
    "CIFAR10AnomalyDataModule",
    "DigitsAnomalyDataModule",
    "ImageAnomalyDataModule",
    "ReplicaBatches",
    "TeacherStudentDataModule",
    "TestSetStream",
    "balanced_labels",
    "check_b0",
    "check_method",
    "class_weights",
    "effective_rho",
    "intrinsic_imbalance",
    "replica_generators",
    "resolve_rho",
    "rebalance_indices",
    "sample_dataset",
    "sample_inputs",
    "sample_teacher",
    "sample_teacher_field",
    "torchvision_available",
    "training_positives",
]
