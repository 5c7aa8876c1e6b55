"""Physics observables of predicted and true propensity fields (thesis §2.4.3): Pearson per
timescale (per configuration on A particles, then averaged; and pooled), χ4, G4, and their
figures (Figs. 2.10-2.13, 2.17). Used by every model at test end and by the analyses."""

from interplay.glass.observables._fields import (
    chi4,
    evaluate_fields,
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

__all__ = [
    "chi4",
    "evaluate_fields",
    "g4",
    "mobility_c",
    "pearson",
    "pearson_per_config",
    "plot_chi4",
    "plot_g4",
    "plot_pearson_vs_time",
    "plot_transfer_matrix",
]
