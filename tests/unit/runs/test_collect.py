"""Generic multirun collection (``interplay.runs``): axis choice and override parsing."""

from __future__ import annotations

import pandas as pd

from interplay.runs._collect import log_axis, parse_override_value


def test_batch_size_and_t_eff_axes_are_logarithmic():
    assert log_axis(pd.Series([1, 10, 100, 2000]))  # Fig. 1.10 batch sizes
    assert log_axis(pd.Series([0.00025, 0.0025, 0.025]))
    assert not log_axis(pd.Series([0.1, 0.5, 0.9]))  # rho_train
    assert not log_axis(pd.Series([-1.0, 10.0, 1000.0]))
    assert not log_axis(pd.Series(["null", "4"]))


def test_overrides_keep_their_type():
    assert parse_override_value("3") == 3 and isinstance(parse_override_value("3"), int)
    assert parse_override_value("0.5") == 0.5
    assert parse_override_value("null") == "null" and parse_override_value("inherent") == "inherent"
