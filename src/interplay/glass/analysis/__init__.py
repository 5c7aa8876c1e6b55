"""Analyses built on trained models: temperature transfer of the learned representation
(§2.4.4, Fig. 2.17, ``interplay-transfer``), the model comparison table
(``interplay-compare``), and the chapter-2 figures and Table 2.1 of a multirun
(:func:`sweep_report`, run by ``interplay-collect``); the ``*_from_config`` functions are the
bodies of those console scripts (:mod:`interplay.cli`). Also the (descriptor, rearrangement)
pairs of the softness diagnostics on real data (``softness_glass.py``)."""

from interplay.glass.analysis._compare import compare, compare_from_config
from interplay.glass.analysis._rearrangements import (
    ParticleSet,
    displacement_at,
    rearrangement_set,
)
from interplay.glass.analysis._sweeps import sweep_report
from interplay.glass.analysis._transfer import (
    collect,
    refit_decoders,
    run_transfer,
    transfer_from_config,
)

__all__ = [
    "ParticleSet",
    "collect",
    "compare",
    "compare_from_config",
    "displacement_at",
    "rearrangement_set",
    "refit_decoders",
    "run_transfer",
    "sweep_report",
    "transfer_from_config",
]
