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
  (``interplay-collect``).
"""

from interplay.runs._collect import collect
from interplay.runs._guards import NonFiniteLossError, NonFiniteLossGuard
from interplay.runs._training import RandomStateCheckpoint, check_checkpointable
from interplay.runs._training import run as train_and_test

__all__ = [
    "NonFiniteLossError",
    "NonFiniteLossGuard",
    "RandomStateCheckpoint",
    "check_checkpointable",
    "collect",
    "train_and_test",
]
