"""What a run does and how runs are gathered, independent of the model family.

* :func:`train_and_test` -- the body of ``train.py``: instantiate the DataModule, the
  LightningModule and the Trainer from the composed config (as plain containers, so that
  checkpoints load with ``weights_only=True``), fit or resume, test, write ``results.json``.
* :class:`RandomStateCheckpoint` -- the random states in every checkpoint, restored on resume
  (a resumed run continues exactly as an uninterrupted one).
* :func:`check_checkpointable` -- fail before training on hyperparameters a checkpoint cannot
  hold.
* :class:`NonFiniteLossGuard` -- the callback every run gets: a NaN / inf training loss stops
  the run with :class:`NonFiniteLossError` (non-zero exit) instead of NaN results.
* :func:`collect` -- a Hydra multirun directory into one table and one figure per metric
  (``interplay-collect``); :func:`load_runs` / :func:`swept_keys` -- its rows and swept
  overrides, for family-specific reports (e.g. ``interplay.glass.analysis.sweep_report``).
"""

from interplay.runs._collect import RESAMPLING_KEYS, collect, load_runs, swept_keys
from interplay.runs._guards import NonFiniteLossError, NonFiniteLossGuard
from interplay.runs._training import RandomStateCheckpoint, check_checkpointable
from interplay.runs._training import run as train_and_test

__all__ = [
    "NonFiniteLossError",
    "NonFiniteLossGuard",
    "RESAMPLING_KEYS",
    "RandomStateCheckpoint",
    "check_checkpointable",
    "collect",
    "load_runs",
    "swept_keys",
    "train_and_test",
]
