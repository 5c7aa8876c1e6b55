"""Replica-symmetric theory of the imbalanced teacher-student perceptron (thesis §1.3.2):
Gaussian integrals, the free energy Φ(q, R, b), the saddle-point solver, the generalisation
metrics (eqs. 1.110-1.119), grids / curves with continuation, and the result tables and
optima that ``solve.py``, the figures and the Monte Carlo comparison share."""

# |b0| <= B0_MAX is checked by the data layer (check_b0), so that the teacher-student data of
# train.py and the saddle points of solve.py accept the same range (rho0 >= ~1e-9, eq. 1.35).
from interplay.imbalance.data import B0_MAX
from interplay.imbalance.theory._crossover import crossover_interval, crossover_temperature
from interplay.imbalance.theory._free_energy import RSFreeEnergy
from interplay.imbalance.theory._grid import (
    AXES,
    RESULT_COLUMNS,
    axis_values,
    curve_optima,
    make_params,
    metric_objective,
    resolve_rho_test,
    result_rows,
    solve_table,
)
from interplay.imbalance.theory._integrals import bvn_cdf, gauss_average_nodes
from interplay.imbalance.theory._metrics import (
    TEST_METRICS,
    generalization_metrics,
    metrics_from_rates,
    recall_specificity,
)
from interplay.imbalance.theory._saddle import (
    ControlParams,
    SaddlePoint,
    solve_saddle_point,
)
from interplay.imbalance.theory._sweep import (
    CurveSolver,
    curve_argmax,
    curve_root,
    solve_from,
    solve_grid,
)

__all__ = [
    "AXES",
    "RESULT_COLUMNS",
    "RSFreeEnergy",
    "bvn_cdf",
    "crossover_interval",
    "crossover_temperature",
    "gauss_average_nodes",
    "B0_MAX",
    "TEST_METRICS",
    "axis_values",
    "curve_optima",
    "make_params",
    "metric_objective",
    "resolve_rho_test",
    "result_rows",
    "solve_table",
    "ControlParams",
    "CurveSolver",
    "SaddlePoint",
    "curve_argmax",
    "curve_root",
    "generalization_metrics",
    "metrics_from_rates",
    "recall_specificity",
    "solve_from",
    "solve_grid",
    "solve_saddle_point",
]
