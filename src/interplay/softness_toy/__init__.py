"""The SVM-softness toy model of papers/svm_softness_toy_model.txt (docs/softness_toy.md):
the model and its inference (Secs. II-V), the experiments of ``softness.py`` and their figures,
and the same diagnostics on real data (arrays in, ``softness_glass.py``)."""

from interplay.softness_toy._arrhenius import (
    ArrheniusFit,
    arrhenius_fit,
    fit_rearrangement_given_softness,
    linear_fit,
    log_probability,
    softness_arrhenius,
)
from interplay.softness_toy._experiments import RUNNERS, Settings, run, settings_from_cfg
from interplay.softness_toy._model import (
    FeatureSpec,
    Inference,
    SoftnessModel,
    balanced_sample,
    bayes_prediction,
    draw_sample,
    fit_svm,
    infer_energy,
    rearrangement_probability,
    rfe_drop,
    sample_features,
    true_barrier,
)
from interplay.softness_toy._real_data import (
    DiagnosticSettings,
    LabelledSet,
    diagnose,
    diagnostic_settings_from_cfg,
    run_real_data,
)

__all__ = [
    "DiagnosticSettings",
    "LabelledSet",
    "diagnose",
    "diagnostic_settings_from_cfg",
    "run_real_data",
    "ArrheniusFit",
    "softness_arrhenius",
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
