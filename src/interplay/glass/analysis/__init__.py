"""Analyses built on trained models: temperature transfer of the learned representation
(§2.4.4, Fig. 2.17, ``interplay-transfer``) and the model comparison table
(``interplay-compare``), and the chapter-2 figures and Table 2.1 of a multirun
(:func:`sweep_report`, run by ``interplay-collect``). The ``*_from_config`` functions are the
bodies of those console scripts (:mod:`interplay.cli`)."""

from interplay.glass.analysis._compare import compare, compare_from_config
from interplay.glass.analysis._sweeps import sweep_report
from interplay.glass.analysis._transfer import (
    collect,
    refit_decoders,
    run_transfer,
    transfer_from_config,
)

__all__ = [
    "collect",
    "compare",
    "compare_from_config",
    "refit_decoders",
    "run_transfer",
    "sweep_report",
    "transfer_from_config",
]
