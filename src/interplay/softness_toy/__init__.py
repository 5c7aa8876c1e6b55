"""The SVM-softness toy model of papers/svm_softness_toy_model.txt (docs/softness_toy.md):
the model and its inference (Secs. II-V), the experiments of ``softness.py`` and their figures."""

from interplay.softness_toy._experiments import RUNNERS, Settings, run, settings_from_cfg
from interplay.softness_toy._model import (
    FeatureSpec,
    Inference,
    SoftnessModel,
    arrhenius_fit,
    balanced_sample,
    bayes_prediction,
    draw_sample,
    fit_rearrangement_given_softness,
    fit_svm,
    infer_energy,
    linear_fit,
    log_probability,
    rearrangement_probability,
    rfe_drop,
    sample_features,
    true_barrier,
)

__all__ = [
    "arrhenius_fit",
    "balanced_sample",
    "bayes_prediction",
    "fit_rearrangement_given_softness",
    "linear_fit",
    "log_probability",
    "rearrangement_probability",
    "rfe_drop",
    "sample_features",
    "true_barrier",
    "RUNNERS",
    "FeatureSpec",
    "Inference",
    "Settings",
    "SoftnessModel",
    "draw_sample",
    "fit_svm",
    "infer_energy",
    "run",
    "settings_from_cfg",
]
