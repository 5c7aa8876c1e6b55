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

#: Largest teacher bias |b0| accepted by every consumer -- the teacher-student data of
#: ``train.py``, the saddle points of ``solve.py`` and the Monte Carlo -- so that all accept the
#: same range. rho0(-6) ~ 1e-9 is rarer than any finite training set can represent; beyond
#: |b0| ~ 8.3, Phi(|b0|) rounds to 1 in float64 and inverse-CDF sampling of the *common* class
#: returns infinite fields (eq. 1.35).
B0_MAX = 6.0


def intrinsic_imbalance(b0: float) -> float:
    """rho0(b0) = P(w0.S/sqrt(N) + b0 > 0) = erfc(-b0/sqrt 2)/2 (thesis eq. 1.35)."""
    return 0.5 * math.erfc(-check_finite("b0", b0) / math.sqrt(2.0))


def check_b0(name: str, b0: float) -> float:
    """``b0`` as a float if finite and ``|b0| <= B0_MAX``, else a ConfigError naming ``name``.

    One check for every entry point, so ``train.py`` and ``solve.py`` accept the same teacher
    biases (eq. 1.35: rho0 = erfc(-b0/sqrt 2)/2 >= 1e-9).
    """
    b0 = check_finite(name, b0)
    if abs(b0) > B0_MAX:
        raise ConfigError(
            f"{name}={b0!r} is out of range: |b0| must be <= {B0_MAX} (rho0 = "
            f"{intrinsic_imbalance(b0):.3g}; the theory and the sampler stop at rho0 ~ 1e-9)."
        )
    return b0


def training_positives(name: str, rho: float, n_samples: int) -> int:
    """The number of positives ``round(rho*n)`` of a training set of ``n`` samples (eq. 1.34).

    A ``ConfigError`` naming ``name`` when it is 0 or ``n``: the set would hold one class only,
    and the student would learn nothing about the other (e.g. rho = 0.004 with P = 100).
    """
    n_pos = round(rho * n_samples)
    if not 0 < n_pos < n_samples:
        raise ConfigError(
            f"{name}={rho:g} with {n_samples} training samples gives {n_pos} positives: the "
            f"training set would hold one class only. Use a fraction in [{1 / n_samples:.3g}, "
            f"{1 - 1 / n_samples:.3g}] or more training samples (alpha * N)."
        )
    return n_pos


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
