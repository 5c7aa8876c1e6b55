"""Analyses built on trained models: temperature transfer of the learned representation
(§2.4.4, Fig. 2.17, ``interplay-transfer``) and the model comparison table
(``interplay-compare``); the ``*_from_config`` functions are the bodies of those console
scripts (:mod:`interplay.cli`). Also the (descriptor, rearrangement) pairs of the softness
diagnostics on real data (``softness_glass.py``)."""

from interplay.glass.analysis._compare import compare, compare_from_config
from interplay.glass.analysis._rearrangements import (
    ParticleSet,
    displacement_at,
    rearrangement_set,
)
from interplay.glass.analysis._transfer import (
    collect,
    refit_decoders,
    run_transfer,
    transfer_from_config,
)

__all__ = [
    "ParticleSet",
    "displacement_at",
    "rearrangement_set",
    "collect",
    "compare",
    "compare_from_config",
    "refit_decoders",
    "run_transfer",
    "transfer_from_config",
]
