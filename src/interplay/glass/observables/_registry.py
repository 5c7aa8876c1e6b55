"""The registry of propensity observables: what every model computes, logs, saves and plots.

Why a registry: before it, a new observable needed four edits (the computation, hard-coded log
keys in the LightningModule, its figure, and the file writer). Now an observable is declared
once with :func:`register_observable` and :class:`~interplay.glass.models.PropensityBase`
logs, saves and plots whatever is registered, in registration order.

Contract of an :class:`Observable`:

* ``name`` -- unique; re-registering a name raises unless ``replace=True``.
* ``compute(fields) -> dict[str, np.ndarray]`` -- arrays computed from a :class:`Fields`
  (per-configuration predictions, labels, particle types, optionally positions and boxes).
  Return ``{}`` when the observable does not apply (too few configurations, no geometry).
  The arrays go into ``observables.npz``; their keys must not collide with other observables'.
* ``metrics(obs, time_indices, stage) -> dict[str, float]`` -- the scalars to log, with their
  full keys (``test/...`` or ``val/...``), from ``obs`` = the merged arrays of all observables
  (so a metric may use another observable's arrays). ``time_indices`` are the dataset's own
  indices, one per predicted timescale: per-time keys end in ``_t{k}`` with ``k`` from them.
  Headline keys without ``_t{k}`` (``test/pearson_A``) are read at τα: ``obs["tau_alpha_column"]``
  (added by :func:`compute_observables` from :attr:`Fields.tau_alpha_column`) is its column.
* ``results(obs) -> dict[str, float | bool]`` -- facts about the evaluation written to
  ``results.json`` as they are (not logged: flags such as ``chi4_warning``).
* ``stages`` -- ``"val"`` and/or ``"test"``: when the observable is computed (validation only
  gets predictions, labels and types, so geometric observables are test-only).
* ``progress_bar`` -- metric keys also shown in the progress bar.
* ``figure(obs, out_dir, context) -> Path | None`` -- writes one PNG into ``out_dir`` (or
  returns None when ``obs`` lacks its arrays); ``context`` carries the axes' times.
* ``needs_geometry`` -- computed only when positions and boxes are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from interplay.glass.observables._bootstrap import BootstrapSpec

STAGES = ("val", "test")


@dataclass(frozen=True)
class Fields:
    """Per-configuration arrays of one evaluation: predictions and labels ``(N, T)``, particle
    types ``(N,)``; positions ``(N, 3)`` and boxes ``(3,)`` when the data has them; which
    column is τα (``interplay.glass.data.tau_alpha_column``), the bootstrap settings, and the
    split-half labels ``(2, N, T)`` when the data has iso-configurational runs."""

    preds: Sequence[np.ndarray]
    trues: Sequence[np.ndarray]
    types: Sequence[np.ndarray]
    positions: Sequence[np.ndarray] | None = None
    boxes: Sequence[np.ndarray] | None = None
    r_edges: np.ndarray | None = None  # G4 radial bins (default: see the G4 observable)
    type_names: Sequence[str] = ("A", "B")
    tau_alpha_column: int = 0  # column of the timescales read as τα (the headline keys)
    bootstrap: BootstrapSpec | None = None  # intervals over configurations (None: none)
    #: per configuration (2, N, T): the labels of the two halves of the runs (noise ceiling);
    #: None when the data stores no runs
    label_halves: Sequence[np.ndarray] | None = None

    @property
    def has_geometry(self) -> bool:
        return self.positions is not None and self.boxes is not None


@dataclass(frozen=True)
class FigureContext:
    """What a figure needs besides the arrays: physical times and the dataset's time indices."""

    time_indices: Sequence[int]
    times: Sequence[float] | None = None


Metrics = Callable[[dict[str, np.ndarray], Sequence[int], str], dict[str, float]]
Figure = Callable[[dict[str, np.ndarray], Path, FigureContext], Path | None]
Results = Callable[[dict[str, np.ndarray]], dict[str, float | bool]]


@dataclass(frozen=True)
class Observable:
    """One registered observable (see the module docstring for the contract)."""

    name: str
    compute: Callable[[Fields], dict[str, np.ndarray]]
    metrics: Metrics | None = None
    figure: Figure | None = None
    stages: tuple[str, ...] = ("test",)
    progress_bar: frozenset[str] = field(default_factory=frozenset)
    needs_geometry: bool = False
    results: Results | None = None


_REGISTRY: dict[str, Observable] = {}


def register_observable(
    name: str,
    compute: Callable[[Fields], dict[str, np.ndarray]],
    metrics: Metrics | None = None,
    figure: Figure | None = None,
    stages: Sequence[str] = ("test",),
    progress_bar: Sequence[str] = (),
    needs_geometry: bool = False,
    replace: bool = False,
    results: Results | None = None,
) -> Observable:
    """Declare an observable once: its computation, logged keys and figure (module doc)."""
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ValueError(f"observable {name!r}: stages {sorted(unknown)} not in {STAGES}")
    if name in _REGISTRY and not replace:
        raise ValueError(f"observable {name!r} is already registered (pass replace=True)")
    obs = Observable(
        name,
        compute,
        metrics,
        figure,
        tuple(stages),
        frozenset(progress_bar),
        needs_geometry,
        results,
    )
    _REGISTRY[name] = obs
    return obs


def unregister_observable(name: str) -> None:
    """Remove a registered observable (tests, or a study replacing a built-in one)."""
    _REGISTRY.pop(name)


def registered_observables(stage: str | None = None) -> list[Observable]:
    """Registered observables in registration order, those of ``stage`` if given."""
    return [o for o in _REGISTRY.values() if stage is None or stage in o.stages]


def compute_observables(fields: Fields, stage: str = "test") -> dict[str, np.ndarray]:
    """The merged arrays of every observable of ``stage`` that applies to ``fields``, and
    ``tau_alpha_column`` (the column the headline keys read)."""
    out: dict[str, np.ndarray] = {"tau_alpha_column": np.asarray(int(fields.tau_alpha_column))}
    for obs in registered_observables(stage):
        if obs.needs_geometry and not fields.has_geometry:
            continue
        out.update(obs.compute(fields))
    return out


def observable_metrics(
    obs: dict[str, np.ndarray], time_indices: Sequence[int], stage: str = "test"
) -> list[tuple[str, float, bool]]:
    """``(key, value, show_in_progress_bar)`` of every registered metric of ``stage``."""
    rows = []
    for o in registered_observables(stage):
        if o.metrics is None:
            continue
        for key, value in o.metrics(obs, time_indices, stage).items():
            rows.append((key, float(value), key in o.progress_bar))
    return rows


def observable_results(obs: dict[str, np.ndarray]) -> dict[str, float | bool]:
    """The ``results`` entries of every registered test observable (for ``results.json``)."""
    out: dict[str, float | bool] = {}
    for o in registered_observables("test"):
        if o.results is not None:
            out.update(o.results(obs))
    return out


def plot_observables(
    obs: dict[str, np.ndarray], out_dir: str | Path, context: FigureContext
) -> list[Path]:
    """Every registered figure that ``obs`` has the arrays for; returns the paths written."""
    paths = []
    for o in registered_observables("test"):
        if o.figure is not None and (path := o.figure(obs, Path(out_dir), context)) is not None:
            paths.append(path)
    return paths
