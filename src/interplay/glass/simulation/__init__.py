"""The LAMMPS pipeline that makes KA data (``interplay-simulate``, docs/ka_data.md): the KA
driver, settings and checkpointed state, F_s(k, t) and τα, the repair of stored files, and the
replay of a stored configuration's iso runs (the half-averages of the labels' noise ceiling)."""

from interplay.glass.simulation._dynamics import (
    K_PEAK,
    log_time_grid,
    self_intermediate_scattering,
    tau_alpha,
)
from interplay.glass.simulation._lammps import (
    CUTOFF_FACTOR,
    DENSITY,
    EPSILON,
    SIGMA,
    KASimulation,
    box_length,
    ka_types,
    wrap_into_box,
)
from interplay.glass.simulation._pipeline import Job, iso_run_displacements, simulate_from_config
from interplay.glass.simulation._repair import repair_dirs, repair_file
from interplay.glass.simulation._replay import (
    halves_path,
    read_recorded,
    replay_iso_runs,
    write_propensity_halves,
)
from interplay.glass.simulation._settings import (
    SimulationSettings,
    format_temperature,
    settings_from_cfg,
)

__all__ = [
    "format_temperature",
    "halves_path",
    "Job",
    "iso_run_displacements",
    "CUTOFF_FACTOR",
    "DENSITY",
    "EPSILON",
    "K_PEAK",
    "SIGMA",
    "KASimulation",
    "SimulationSettings",
    "box_length",
    "ka_types",
    "log_time_grid",
    "repair_dirs",
    "repair_file",
    "read_recorded",
    "replay_iso_runs",
    "self_intermediate_scattering",
    "settings_from_cfg",
    "simulate_from_config",
    "tau_alpha",
    "wrap_into_box",
    "write_propensity_halves",
]
