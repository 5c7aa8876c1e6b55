"""Exceptions with messages that name the problem and the fix."""


class ConfigError(ValueError):
    """A configuration value is missing, out of range or inconsistent."""


class DataError(RuntimeError):
    """A dataset is missing or malformed."""


class ConvergenceError(RuntimeError):
    """A solver or an optimisation failed to converge."""
