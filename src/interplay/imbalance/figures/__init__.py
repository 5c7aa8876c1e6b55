"""The replica-theory figures of thesis §1.3.3 (Figs. 1.3, 1.5-1.8) behind one registry."""

from interplay.imbalance.figures._registry import FIGURES, make_figure

__all__ = ["FIGURES", "make_figure"]
