"""Percentile bootstrap intervals over test configurations (issue [glass-eval] item 3).

Why: with 3-80 test configurations a Pearson differs by a few hundredths from one test set to
the next, so differences of 0.02 between models are not rankings unless their intervals say so.
The configurations are the independent units (particles of one configuration are correlated),
so the bootstrap resamples *configurations* with replacement, ``n`` times, and recomputes the
statistic on each resample: the mean over configurations of the per-configuration Pearson
(the headline convention, §2.4.3), its mean over timescales, and the pooled Pearson (from
per-configuration sums, so a resample costs no pass over the particles). The interval is the
``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of the resampled statistic (Efron's
percentile interval). Fewer than two configurations give NaN (nothing to resample).

Settings: ``model.bootstrap: {n, level, seed}`` (conf/model/*.yaml) -> :class:`BootstrapSpec`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from interplay.core import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BootstrapSpec:
    """``n`` resamples (0: no intervals), confidence ``level``, ``seed`` of the resampling."""

    n: int = 1000
    level: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if int(self.n) != self.n or self.n < 0:
            raise ConfigError(f"model.bootstrap.n={self.n!r}: a number of resamples >= 0")
        if not 0.0 < self.level < 1.0:
            raise ConfigError(f"model.bootstrap.level={self.level!r}: between 0 and 1")

    @classmethod
    def from_config(cls, cfg: BootstrapSpec | Mapping | None) -> BootstrapSpec | None:
        """The spec of a config mapping (``{n, level, seed}``); None stays None (no intervals)."""
        if cfg is None or isinstance(cfg, BootstrapSpec):
            return cfg
        unknown = set(cfg) - {"n", "level", "seed"}
        if unknown:
            raise ConfigError(f"model.bootstrap: unknown keys {sorted(unknown)} (n, level, seed)")
        return cls(**{k: (float if k == "level" else int)(v) for k, v in cfg.items()})


def resample_indices(n_conf: int, spec: BootstrapSpec) -> np.ndarray | None:
    """``(spec.n, n_conf)`` configuration indices drawn with replacement; None (and a log line
    saying why) when there is nothing to resample."""
    if spec.n == 0:
        return None
    if n_conf < 2:
        log.info(
            "bootstrap: %d test configuration(s), nothing to resample: Pearson intervals are NaN "
            "(the configurations are the independent units)",
            n_conf,
        )
        return None
    return np.random.default_rng(spec.seed).integers(0, n_conf, size=(spec.n, n_conf))


def percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower / upper percentile of ``samples`` along axis 0 (NaN resamples ignored)."""
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    with warnings.catch_warnings():  # an all-NaN column (constant field) is NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(samples, q, axis=0)
    return lo, hi


def mean_interval(
    per_config: np.ndarray, idx: np.ndarray | None, level: float
) -> dict[str, np.ndarray]:
    """Intervals of the mean over configurations of ``per_config`` (n_conf, T) per column
    (``lo``, ``hi``) and of its mean over columns (``mean_lo``, ``mean_hi``)."""
    n_t = per_config.shape[1]
    if idx is None:
        nan = np.full(n_t, np.nan)
        return {"lo": nan, "hi": nan.copy(), "mean_lo": np.nan, "mean_hi": np.nan}
    with warnings.catch_warnings():  # all-NaN resamples are NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        boot = np.nanmean(per_config[idx], axis=1)  # (n, T)
        boot_mean = np.nanmean(boot, axis=1)
    lo, hi = percentile_interval(boot, level)
    mean_lo, mean_hi = percentile_interval(boot_mean, level)
    return {"lo": lo, "hi": hi, "mean_lo": mean_lo, "mean_hi": mean_hi}


def pooled_interval(
    sums: np.ndarray, idx: np.ndarray | None, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Intervals of the pooled Pearson from per-configuration sums ``(n_conf, 6, T)`` of
    ``(n, x, y, xx, yy, xy)`` (:func:`interplay.glass.observables.pearson_per_config`)."""
    if idx is None:
        return np.full(sums.shape[2], np.nan), np.full(sums.shape[2], np.nan)
    n, x, y, xx, yy, xy = np.moveaxis(sums[idx].sum(axis=1), 1, 0)  # each (n_boot, T)
    cov = n * xy - x * y
    var = (n * xx - x * x) * (n * yy - y * y)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(var > 0, cov / np.sqrt(np.where(var > 0, var, 1.0)), np.nan)
    return percentile_interval(r, level)
