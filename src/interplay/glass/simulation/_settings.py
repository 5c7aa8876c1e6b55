"""Settings of the KA pipeline (``conf/simulate.yaml``), their parsing, reproducible seeds.

Part of :mod:`interplay.glass.simulation._pipeline`, which re-exports every name defined here.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from interplay.core import ConfigError, check_int_at_least, check_positive
from interplay.glass.simulation._lammps import DENSITY


def format_temperature(T: float) -> str:
    """``0.44 -> "0.44"``, ``1 -> "1.0"`` (the directory / file-name spelling)."""
    s = f"{float(T):g}"
    return s if "." in s or "e" in s else s + ".0"


@dataclass
class SimulationSettings:
    T: float = 0.8
    n_particles: int = 1000
    density: float = DENSITY
    dt: float = 0.005
    seed: int = 0
    job: int = 0
    configs_per_job: int = 1
    n_train: int = 27  # configuration index < n_train -> train/, else test/
    n_runs: int = 32
    n_times: int = 10
    t_min: float = 0.05
    t_max: float | None = None  # absolute end of the time grid (LJ units) ...
    t_max_tau: float = 3.0  # ... or this many τα (tau_alpha_ref[T], else the job's own τα)
    tau_alpha_ref: dict[str, float] = field(default_factory=dict)
    tau_guess: float | None = None
    equil_tau: float = 50.0
    equil_min_time: float = 20.0
    segment_tau: float = 10.0
    spacing_tau: float = 5.0
    melt_T: float = 2.0
    melt_time: float = 10.0
    thermostat_damp: float = 0.5
    fire_ftol: float = 1e-8
    # outside the repository's committed data (conf/simulate.yaml; relative to the launch dir)
    out_dir: str = "outputs/simulate/ka3d"
    progress: bool = True
    overwrite: bool = False  # replace this job's finished files / discard its state

    def validate(self) -> SimulationSettings:
        check_positive("T", self.T)
        check_positive("density", self.density)
        check_positive("dt", self.dt)
        check_int_at_least("n_particles", self.n_particles, 10)
        check_int_at_least("job", self.job, 0)
        check_int_at_least("configs_per_job", self.configs_per_job, 1)
        check_int_at_least("n_runs", self.n_runs, 1)
        check_int_at_least("n_times", self.n_times, 1)
        for name in ("t_min", "t_max_tau", "equil_tau", "segment_tau", "spacing_tau"):
            check_positive(name, getattr(self, name))
        if self.t_max is not None and self.t_max <= self.t_min:
            raise ConfigError(f"t_max={self.t_max} must exceed t_min={self.t_min}")
        return self

    @property
    def tag(self) -> str:
        return format_temperature(self.T)

    def reference_tau(self) -> float | None:
        for key, value in (self.tau_alpha_ref or {}).items():
            if abs(float(key) - self.T) < 1e-9:
                return float(value)
        return None

    def fixed_t_max(self) -> float | None:
        """The end of the time grid when it is known before the job runs: ``t_max``, or
        ``t_max_tau`` reference τα of this temperature; None when it follows the job's own τα."""
        if self.t_max is not None:
            return self.t_max
        ref = self.reference_tau()
        return None if ref is None else self.t_max_tau * ref


# where and how a job runs, not what it computes: free to change between runs of one job
RUN_CONTROL_KEYS = frozenset({"out_dir", "progress", "overwrite"})


def job_identity(settings: SimulationSettings) -> dict[str, Any]:
    """The settings that determine a job's output (stored in its checkpoint and compared on
    every restart, so that a resumed or skipped job is the one asked for). Of the reference
    τα table only this temperature's entry matters: another temperature's is no change."""
    identity = {k: v for k, v in asdict(settings).items() if k not in RUN_CONTROL_KEYS}
    identity["tau_alpha_ref"] = settings.reference_tau()
    return identity


def settings_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``"key: stored -> now"`` for every output-relevant setting that differs.

    Keys in :data:`RUN_CONTROL_KEYS` are ignored; a key present on one side only differs
    (files of an older pipeline may lack a newer setting). Numbers compare by value, so
    ``spacing_tau: 3`` (YAML int) equals ``3.0``.
    """
    missing = "<absent>"
    keys = sorted((set(stored) | set(current)) - RUN_CONTROL_KEYS)
    return [
        f"{k}: {stored.get(k, missing)!r} -> {current.get(k, missing)!r}"
        for k in keys
        if stored.get(k, missing) != current.get(k, missing)
    ]


def derived_seed(*parts: object) -> int:
    """A reproducible 31-bit seed from arbitrary parts (stable across Python runs)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") % 900_000_000 + 1


def settings_from_cfg(cfg: Any) -> SimulationSettings:
    from omegaconf import OmegaConf

    # without the hydra node, which only resolves inside a running Hydra app
    raw = OmegaConf.to_container(
        OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True
    )
    allowed = set(SimulationSettings.__dataclass_fields__)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"unknown simulate settings {unknown}; allowed: {sorted(allowed)}")
    raw["tau_alpha_ref"] = {str(k): float(v) for k, v in (raw.get("tau_alpha_ref") or {}).items()}
    return SimulationSettings(**raw)
