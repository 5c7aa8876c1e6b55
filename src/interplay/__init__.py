"""interplay: statistical physics x machine learning.

Two families share this package:

* :mod:`interplay.imbalance` -- replica theory and experiments of anomaly-detection class
  imbalance in the teacher-student perceptron (thesis chapter 1);
* :mod:`interplay.glass` -- SE(3)-equivariant graph networks that predict the dynamic
  propensity of Kob-Andersen glass formers from their static structure (thesis chapter 2).

The public surface is kept small; everything else lives in private-by-convention modules.
"""

from interplay.utils.errors import ConfigError, DataError

__all__ = ["ConfigError", "DataError", "__version__"]
__version__ = "0.1.0"
