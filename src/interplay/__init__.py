"""interplay: statistical physics x machine learning.

Three families share this package, each a subpackage with its own small public API:

* :mod:`interplay.imbalance` -- replica theory and experiments of anomaly-detection class
  imbalance in the teacher-student perceptron (thesis chapter 1);
* :mod:`interplay.glass` -- SE(3)-equivariant graph networks that predict the dynamic
  propensity of Kob-Andersen glass formers from their static structure (thesis chapter 2);
* :mod:`interplay.softness_toy` -- the SVM-softness toy model of the companion paper.

:mod:`interplay.runs` holds the family-independent run logic (train/test loop, collection of
multiruns) and :mod:`interplay.core` the foundations (errors, validation, atomic writes).
"""

from interplay.core import ConfigError, DataError

__all__ = ["ConfigError", "DataError", "__version__"]
__version__ = "0.1.0"
