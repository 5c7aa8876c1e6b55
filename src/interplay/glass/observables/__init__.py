"""Physics observables of predicted and true propensity fields (thesis §2.4.3): Pearson per
timescale (per configuration on A particles, then averaged; and pooled), χ4, G4, and their
figures (Figs. 2.10-2.13, 2.17). Used by every model at test end and by the analyses.

Every model logs, saves and plots the observables of the registry: a new one is declared once
with :func:`register_observable` (contract in ``_registry.py``; the built-in ones in
``_standard.py``). Every Pearson carries a bootstrap interval over test configurations
(``_bootstrap.py``, settings ``model.bootstrap``); headline keys are read at τα. Beside the
Pearson stands the labels' noise ceiling (``_ceiling.py``: split-half reliability of the
iso-configurational runs, Spearman-Brown), the best Pearson the labels allow.
"""

from interplay.glass.observables._bootstrap import BootstrapSpec
from interplay.glass.observables._ceiling import spearman_brown, split_half_reliability
from interplay.glass.observables._fields import (
    chi4,
    g4,
    mobility_c,
    pearson,
    pearson_per_config,
)
from interplay.glass.observables._figures import (
    plot_chi4,
    plot_g4,
    plot_pearson_vs_time,
    plot_transfer_matrix,
)
from interplay.glass.observables._registry import (
    Fields,
    FigureContext,
    Observable,
    compute_observables,
    observable_metrics,
    observable_results,
    plot_observables,
    register_observable,
    registered_observables,
    unregister_observable,
)
from interplay.glass.observables._standard import evaluate_fields

__all__ = [
    "BootstrapSpec",
    "Fields",
    "FigureContext",
    "Observable",
    "chi4",
    "compute_observables",
    "evaluate_fields",
    "g4",
    "mobility_c",
    "observable_metrics",
    "observable_results",
    "pearson",
    "pearson_per_config",
    "plot_chi4",
    "plot_g4",
    "plot_observables",
    "plot_pearson_vs_time",
    "plot_transfer_matrix",
    "register_observable",
    "registered_observables",
    "spearman_brown",
    "split_half_reliability",
    "unregister_observable",
]
