"""Foundations shared by every part of interplay: errors, range checks, atomic writes,
unpickling data without running code, run directories, configuration helpers and the one
plotting style.

Light on purpose: nothing imported here loads torch, Lightning or Hydra, so every layer (down
to :mod:`interplay.glass.nn`) may depend on it. Hydra-aware helpers (run directories, finding
``conf/``) live in :mod:`interplay.core.config`, imported explicitly by the entry points.
"""

from interplay.core._atomic import atomic_open, write_csv, write_json, write_npz
from interplay.core._errors import ConfigError, ConvergenceError, DataError
from interplay.core._plotting import COLORS, PLOT_STYLE, new_figure, pyplot, save_figure
from interplay.core._safe_pickle import ArrayUnpickler, load_array_pickle
from interplay.core._validation import (
    check_choice,
    check_finite,
    check_int_at_least,
    check_open_unit,
    check_positive,
)

__all__ = [
    "COLORS",
    "PLOT_STYLE",
    "ArrayUnpickler",
    "ConfigError",
    "ConvergenceError",
    "DataError",
    "atomic_open",
    "check_choice",
    "check_finite",
    "check_int_at_least",
    "check_open_unit",
    "check_positive",
    "new_figure",
    "pyplot",
    "save_figure",
    "load_array_pickle",
    "write_csv",
    "write_json",
    "write_npz",
]
