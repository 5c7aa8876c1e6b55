"""The labels' noise ceiling: the best Pearson any predictor can reach (issue [glass-eval] 2).

Why: the propensity labels (thesis eq. 2.17) are averages over a finite number ``n`` of
iso-configurational runs, so they are the true propensity plus run noise. A perfect predictor of
the true propensity therefore correlates with the labels at less than 1, and a model's Pearson
means little until it is read against this ceiling.

Measurement (split-half reliability, then Spearman-Brown):

* per configuration, timescale and particle type, the Pearson ``r`` between the propensities of
  runs ``1..n/2`` and of runs ``n/2+1..n`` (``Configuration.propensity_halves``; independent
  noise, same signal);
* ``r`` averaged over configurations like the model Pearson (mean of the per-configuration
  values, :func:`~interplay.glass.observables.pearson_per_config`);
* the reliability of the full ``n``-run average is ``R = 2r / (1 + r)`` (Spearman-Brown), and
  the Pearson of the ideal predictor (the true propensity) against it is ``rho_max = sqrt(R)``
  (:func:`spearman_brown`). With signal variance ``s^2`` and per-run noise variance
  ``sigma^2``, ``r = s^2 / (s^2 + 2 sigma^2 / n)`` and ``rho_max^2 = s^2 / (s^2 + sigma^2 / n)``.

A non-positive ``r`` (no reproducible signal at all) gives a ceiling of 0. Columns without runs
(a time index whose file stores only the average) are NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interplay.glass.observables._fields import pearson_per_config


def spearman_brown(r: np.ndarray | float) -> np.ndarray:
    """The ceiling ``sqrt(2r / (1 + r))`` of a split-half reliability ``r`` (0 where r <= 0,
    NaN where r is NaN): the Pearson of the true propensity with the full average of runs."""
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        full = np.where(r > 0, 2.0 * r / (1.0 + np.where(r > 0, r, 0.0)), 0.0)
    return np.where(np.isnan(r), np.nan, np.sqrt(full))


def split_half_reliability(
    halves: Sequence[np.ndarray], types: Sequence[np.ndarray], particle_type: int = 0
) -> dict[str, np.ndarray]:
    """Split-half reliability of the labels per configuration and timescale.

    ``halves``: per configuration a (2, N, T) array, the propensities of the two halves of the
    runs. Returns ``per_config`` (n_conf, T), the Pearson of the two halves on particles of
    ``particle_type``, and ``mean`` (T,), its mean over configurations (NaN-skipping, as the
    model Pearson).
    """
    res = pearson_per_config(
        [np.asarray(h)[0] for h in halves], [np.asarray(h)[1] for h in halves], types, particle_type
    )
    return {"per_config": res["per_config"], "mean": res["mean"]}
