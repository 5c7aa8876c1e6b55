"""Range checks for configuration values.

Every check raises :class:`~interplay.core._errors.ConfigError` whose message names the key,
the offending value and the allowed range, so that a Hydra user knows which override to fix.
"""

from __future__ import annotations

import math

from interplay.core._errors import ConfigError


def _fail(name: str, value: object, allowed: str) -> None:
    raise ConfigError(f"{name}={value!r} is out of range: {name} must be {allowed}.")


def check_finite(name: str, value: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        _fail(name, value, "a finite number")
    return float(value)


def check_positive(name: str, value: float) -> float:
    """Require ``value > 0`` (e.g. alpha, temperature, learning rate)."""
    check_finite(name, value)
    if value <= 0:
        _fail(name, value, "> 0")
    return float(value)


def check_open_unit(name: str, value: float) -> float:
    """Require ``0 < value < 1`` (class fractions such as rho_train, rho_test)."""
    check_finite(name, value)
    if not 0.0 < value < 1.0:
        _fail(name, value, "strictly between 0 and 1")
    return float(value)


def check_int_at_least(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(name, value, f"an integer >= {minimum}")
    return int(value)


def check_choice(name: str, value: object, choices: tuple | list) -> object:
    if value not in choices:
        _fail(name, value, f"one of {list(choices)}")
    return value
