"""The one plotting style of interplay: lazy pyplot, shared rc defaults, atomic PNG writes.

Why a helper at all: importing matplotlib at module import time (or calling
``matplotlib.use("Agg")`` there) makes every ``import interplay...`` pay for matplotlib and
silently overrides the backend a user chose in a notebook or with ``MPLBACKEND``. Here nothing
is imported until a figure is drawn, and Agg is chosen only when nobody chose a backend and
there is no display to draw on (SLURM nodes, CI). Figures are written through
:func:`~interplay.core.atomic_open`, so a reader never sees half a PNG.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from interplay.core._atomic import atomic_open

#: Colour cycle of every multi-curve figure (matplotlib's tab10, named so that a colour can be
#: matched between panels and across figures).
COLORS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
)

#: Shared rc defaults, applied once by :func:`pyplot` and while :func:`new_figure` builds a
#: figure. They keep matplotlib's look (so that the thesis figures stay as they were) and only
#: pin what makes output portable: an opaque white background, TrueType fonts in PDF/PS.
PLOT_STYLE: dict[str, Any] = {
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
}

_STYLE_APPLIED = False


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _backend_chosen(matplotlib: Any) -> bool:
    """True when a backend was set (``MPLBACKEND``, matplotlibrc, ``matplotlib.use``).

    Importing pyplot does not choose one (torchmetrics imports it for every Lightning run);
    matplotlib < 3.7 cannot tell, so there an imported pyplot counts as a choice.
    """
    if os.environ.get("MPLBACKEND"):
        return True
    get = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
    if get is None:
        return "matplotlib.pyplot" in sys.modules
    return get() is not None


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the shared style; Agg only if no backend and no display."""
    global _STYLE_APPLIED
    import matplotlib

    if not _backend_chosen(matplotlib) and not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not _STYLE_APPLIED:
        plt.rcParams.update(PLOT_STYLE)
        _STYLE_APPLIED = True
    return plt


def new_figure(figsize: tuple[float, float], **subplots_kw: Any) -> tuple[Any, Any]:
    """``(Figure, axes)`` without pyplot (no global figure state, no backend needed).

    For library code that only writes files: the figure is never registered with pyplot, so
    it needs no closing and cannot leak when many are drawn in one process.
    """
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(PLOT_STYLE):
        fig = Figure(figsize=figsize)
        return fig, fig.subplots(**subplots_kw)


def save_figure(fig: Any, path: str | os.PathLike, dpi: int, **savefig_kw: Any) -> Path:
    """Write ``fig`` to ``path`` atomically (format from the suffix) and close it.

    ``savefig_kw`` go to ``Figure.savefig`` (e.g. ``bbox_inches="tight"``). Closing frees the
    figure from pyplot's registry when pyplot manages it; a pyplot-less figure is left alone.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format=fmt, dpi=dpi, **savefig_kw)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    return path
