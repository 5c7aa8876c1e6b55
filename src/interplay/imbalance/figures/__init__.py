"""The replica-theory figures of thesis §1.3.3 (Figs. 1.3, 1.5-1.8) behind one registry.

``make_figure(cfg, out)`` draws ``cfg.figure.name``; a figure joins by decorating its function
with ``@register_figure("<name>")`` in a module imported below (the contract is in
:mod:`interplay.imbalance.figures._registry`). The shared helpers of figure modules
(curves, arrays, SGD overlay, outputs) are the public names of
:mod:`interplay.imbalance.figures._helpers`.
"""

from interplay.imbalance.figures._helpers import (
    check_overlay_constant,
    load_overlay,
    overlay,
    save_outputs,
    solve_curves,
)
from interplay.imbalance.figures._registry import FIGURES, make_figure, register_figure

# Importing a figure module registers its figures: a new figure module is imported here.
from interplay.imbalance.figures._rho import fig1_3, fig1_5, fig1_6
from interplay.imbalance.figures._scan import fig1_7, fig1_8, sgd_t_star

__all__ = [
    "FIGURES",
    "check_overlay_constant",
    "fig1_3",
    "fig1_5",
    "fig1_6",
    "fig1_7",
    "fig1_8",
    "load_overlay",
    "make_figure",
    "overlay",
    "register_figure",
    "save_outputs",
    "sgd_t_star",
    "solve_curves",
]
