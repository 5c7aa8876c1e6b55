"""Analyses built on trained models: temperature transfer of the learned representation
(§2.4.4, Fig. 2.17) and the model comparison table (``interplay-compare``)."""

from interplay.glass.analysis._compare import compare
from interplay.glass.analysis._transfer import collect, refit_decoders, run_transfer

__all__ = ["collect", "compare", "refit_decoders", "run_transfer"]
