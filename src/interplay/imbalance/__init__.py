"""Anomaly-detection class imbalance in the teacher-student perceptron (thesis chapter 1).

Subpackages by role:

* :mod:`~interplay.imbalance.data` -- teacher-student sampling, imbalance regimes, AD image
  datasets and their DataModules;
* :mod:`~interplay.imbalance.models` -- spherical perceptron, MLP, frozen-ResNet probe;
* :mod:`~interplay.imbalance.theory` -- the replica-symmetric saddle point and its sweeps;
* :mod:`~interplay.imbalance.montecarlo` -- finite-N Gibbs-measure Monte Carlo;
* :mod:`~interplay.imbalance.figures` -- the thesis's theory figures behind one registry.

``solve.py`` calls :func:`interplay.imbalance.solve.run`.
"""

from interplay.imbalance.data import intrinsic_imbalance, resolve_rho

__all__ = ["intrinsic_imbalance", "resolve_rho"]
