"""The registry of thesis figures: ``figure.name`` -> the function that draws it.

Contract of a figure (what :func:`register_figure` expects and :func:`make_figure` provides):

* It is a function ``fig(fc, solver_kw, table, out) -> dict`` registered once under a unique
  name with ``@register_figure("fig1_5")``; the name is the ``figure.name`` of its config
  ``conf/experiment/theory_<name>.yaml``, which holds every number the figure uses.
* ``fc`` is that ``figure:`` node, ``solver_kw`` the ``solver:`` options of
  ``conf/solve.yaml`` (passed on to every saddle-point solve), ``table`` the SGD overlay
  (``overlay_csv``, read by :func:`~interplay.imbalance.figures._helpers.load_overlay`;
  ``None`` when not configured; rows at another α than a scalar ``figure.alpha`` are an error)
  and ``out`` the run directory.
* It writes ``<name>.png``, ``<name>.csv`` (the plotted data) and, when it stars optima,
  ``<name>_optima.csv`` -- by returning :func:`~interplay.imbalance.figures._helpers.save_outputs`,
  whose dict ``{"png", "data", "optima"}`` is its return value.

Registration happens when the figure's module is imported; :mod:`interplay.imbalance.figures`
imports every figure module, so importing the package is enough to fill the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from interplay.core import ConfigError
from interplay.core.config import plain_value
from interplay.imbalance.figures._helpers import check_overlay_constant, load_overlay

#: ``(fc, solver_kw, table, out) -> {"png", "data", "optima"}``
FigureFn = Callable[[Any, dict, Any, Path], dict]

_REGISTRY: dict[str, FigureFn] = {}

#: Read-only view of the registered figures, by ``figure.name``.
FIGURES: Mapping[str, FigureFn] = MappingProxyType(_REGISTRY)


def register_figure(name: str) -> Callable[[FigureFn], FigureFn]:
    """Decorator: register a figure function under ``figure.name == name``.

    Raises ``ValueError`` if ``name`` is taken, so that two figures can never silently
    replace each other.
    """

    def decorator(fn: FigureFn) -> FigureFn:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"figure {name!r} is already registered by {_REGISTRY[name]!r}.")
        _REGISTRY[name] = fn
        return fn

    return decorator


def make_figure(cfg: Any, out: Path) -> dict:
    """Draw the figure ``cfg.figure.name`` (set by ``experiment=theory_fig*``) into ``out``."""
    fc = cfg.get("figure")
    if fc is None or fc.get("name") not in _REGISTRY:
        raise ConfigError(
            f"figure={plain_value(fc)!r}: task=figure needs figure.name in {sorted(_REGISTRY)} "
            "(use e.g. `python solve.py experiment=theory_fig1_5`)."
        )
    solver_kw = dict(plain_value(cfg.get("solver", {})) or {})
    table = load_overlay(cfg.get("overlay_csv"), plain_value(cfg.get("overlay_fixed")))
    alpha = fc.get("alpha")
    if table is not None and isinstance(alpha, int | float):  # one α: the SGD runs must match
        table = check_overlay_constant(table, "data.alpha", alpha)
    return _REGISTRY[fc.name](fc, solver_kw, table, out)
