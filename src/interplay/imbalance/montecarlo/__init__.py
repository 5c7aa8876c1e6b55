"""Finite-N Monte Carlo of the Gibbs measure of the imbalanced perceptron, and its comparison
with the replica theory (an independent check of §1.3.2)."""

from interplay.imbalance.montecarlo._comparison import compare_point, replica_vs_montecarlo
from interplay.imbalance.montecarlo._gibbs import MCConfig, run_gibbs_mc, summarize_draws

__all__ = ["MCConfig", "compare_point", "replica_vs_montecarlo", "run_gibbs_mc", "summarize_draws"]
