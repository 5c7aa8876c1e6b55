"""Class-imbalance regimes: the intrinsic imbalance rho0(b0) and named rho values.

Thesis sign convention: the teacher labels a sample positive (an anomaly) when
``w0.S/sqrt(N) + b0 > 0``; with Gaussian inputs this happens with probability
``rho0 = erfc(-b0/sqrt(2))/2`` (eq. 1.35), e.g. ``b0 = -0.6 -> rho0 = 0.274``.
"""

from __future__ import annotations

import math

from interplay.core import ConfigError, check_finite, check_open_unit

#: Named class fractions accepted wherever a rho (fraction of positives) is configured.
#: ``intrinsic`` is resolved against the teacher bias (or the dataset's natural rho0).
NAMED_RHO = {"balanced": 0.5}


def intrinsic_imbalance(b0: float) -> float:
    """rho0(b0) = P(w0.S/sqrt(N) + b0 > 0) = erfc(-b0/sqrt 2)/2 (thesis eq. 1.35)."""
    return 0.5 * math.erfc(-check_finite("b0", b0) / math.sqrt(2.0))


def resolve_rho(name: str, value: float | str, rho0: float) -> float:
    """Turn a configured class fraction into a number in (0, 1).

    ``value`` is a number, ``"intrinsic"`` (= ``rho0``) or a key of :data:`NAMED_RHO`.
    ``name`` is the config key, used in the error message.
    """
    if isinstance(value, str):
        if value == "intrinsic":
            return check_open_unit(f"{name} (intrinsic rho0)", rho0)
        if value in NAMED_RHO:
            return NAMED_RHO[value]
        choices = ["intrinsic", *NAMED_RHO]
        raise ConfigError(
            f"{name}={value!r} is not understood: give a number in (0, 1) or one of {choices}."
        )
    return check_open_unit(name, value)
