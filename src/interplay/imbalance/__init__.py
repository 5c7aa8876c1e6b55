"""Anomaly-detection class imbalance in the teacher-student perceptron (thesis chapter 1)."""

from interplay.imbalance.regimes import intrinsic_imbalance, resolve_rho

__all__ = ["intrinsic_imbalance", "resolve_rho"]
