"""T* (crossover temperature of Figs. 1.8 / 1.10) against analytic curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interplay.core import ConfigError
from interplay.imbalance.theory import crossover_interval, crossover_temperature


def test_crossover_matches_an_analytic_decay():
    # a(T) = 1/2 + m / (1 + (T/T0)^2): from a0 ~ 1/2 + m, the 10% drop is at T* = T0/3 exactly
    # (1/(1+x^2) = 0.9 a0-margin, up to the tiny T_min correction computed here).
    t0, m = 0.2, 0.3
    temps = np.geomspace(1e-4, 10, 400)
    a = 0.5 + m / (1 + (temps / t0) ** 2)
    level = 0.9 * (a[0] - 0.5)
    exact = t0 * math.sqrt(m / level - 1)
    assert crossover_temperature(temps, a, 0.1) == pytest.approx(exact, rel=1e-3)
    assert crossover_temperature(temps, a, 0.5) == pytest.approx(t0, rel=1e-3)
    # the order of the points and NaNs do not matter
    perm = np.random.default_rng(0).permutation(len(temps))
    a_nan = a[perm].copy()
    a_nan[perm == 5] = np.nan
    assert crossover_temperature(temps[perm], a_nan, 0.1) == pytest.approx(exact, rel=1e-3)


def test_crossover_nan_when_never_reached_and_bad_input():
    temps = np.geomspace(1e-3, 1e-2, 10)
    assert math.isnan(crossover_temperature(temps, np.full(10, 0.7)))
    with pytest.raises(ConfigError, match="drop"):
        crossover_temperature(temps, np.full(10, 0.7), drop=1.5)
    with pytest.raises(ConfigError, match="> 0"):
        crossover_temperature([0.0, 1.0], [0.7, 0.6])


def test_crossover_interval_brackets_the_truth():
    temps = np.geomspace(1e-3, 10, 30)
    a = 0.5 + 0.3 / (1 + (temps / 0.2) ** 2)
    est = crossover_interval(temps, a, np.full(30, 0.005), drop=0.5, n_boot=300)
    assert est["T_star_lo"] < 0.2 < est["T_star_hi"] and est["frac_nan"] == 0.0
    assert est["T_star"] == pytest.approx(0.2, rel=2e-2)
