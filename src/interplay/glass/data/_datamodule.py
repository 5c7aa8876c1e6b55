"""Lightning DataModules for the glass datasets: ``data=ka3d|shiba|bapst|glassbench``.

Every family reads ``root`` (with ``root/train/`` and ``root/test/``, or ``root/T{T}/train``
...), keeps the configurations at temperature ``T``, selects the timescales ``time_indices``
(``"all"`` = multi-variate regression, an int / list = the dataset's own time indices, or
``"tau_alpha"``: the reader's rule, ``_tau_alpha.py``), builds one periodic graph per
configuration (docs/CONVENTIONS.md) from thermal or inherent positions, optionally with the
per-particle potential energy (thermal or inherent) as an extra node scalar, and splits the
configurations like the thesis (§2.4.3: 400 train / 320 validation / 80 test of 800;
proportionally for smaller sets; when the dataset ships train/ and test/, the test set is test/
and the validation set is carved out of train/ in the ratio 320:400; ``splits.py``). Every
configuration is checked first (number density, closest pair:
:func:`~interplay.glass.data._configuration.check_geometry`). Built graphs are cached on disk
under a key of everything that defines them, as plain tensors read back with
``torch.load(weights_only=True)``: the cache lies in directories the user never names
(``<data>/.interplay_cache``, ``~/.cache/interplay``), so a tampered file must not be able to run
code; one that does not load is ignored and rebuilt.

The format is a name in the reader registry (:mod:`interplay.glass.data.formats`): file
discovery, grouping into configurations, reading and the cheap time-grid lookup are the
reader's, so a new format needs no DataModule code (``file_format=<name>``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

from interplay.core import ConfigError, DataError, check_choice, check_int_at_least, check_positive
from interplay.glass.data._configuration import Configuration, check_geometry
from interplay.glass.data._download import resolve_root
from interplay.glass.data._graph import DEFAULT_CUTOFF, build_graph
from interplay.glass.data._graph_cache import (
    GRAPH_CACHE_VERSION,
    graph_cache_dir,
    read_graph_cache,
    write_graph_cache,
)
from interplay.glass.data._io import list_files, load_unit
from interplay.glass.data._layout import (
    held_instead,
    held_temperatures,
    temperature_dir,
    temperature_tag,
)
from interplay.glass.data._splits import split_units
from interplay.glass.data._tau_alpha import TauAlpha
from interplay.glass.data.formats import get_reader
from interplay.glass.simulation import halves_path

log = logging.getLogger(__name__)

#: KA number density (thesis §2.4.1) and the closest pair a KA configuration can have (σ_AA).
KA_DENSITY = 1.2
KA_MIN_PAIR_DISTANCE = 0.5


def _file_stamp(path: Path) -> list:
    """Name, size and mtime: what the graph cache key knows of an input file."""
    return [str(path.resolve()), path.stat().st_size, int(path.stat().st_mtime)]


class GlassDataModule(pl.LightningDataModule):
    """One DataModule for every format: ``file_format`` names the registered reader.

    ``family`` (default: the format) names the dataset in cache keys and messages; the thin
    subclasses below fix both for the ``conf/data/*.yaml`` groups.
    """

    family: str | None = None
    file_format = "glassbench"
    dataset: str | None = None  # registry name (interplay-data): root=None reads its cache

    def __init__(
        self,
        root: str | None,
        T: float,
        time_indices: str | int | list[int] = "all",
        positions: str = "thermal",
        epot: str | None = None,
        cutoff: float = DEFAULT_CUTOFF,
        density: float | None = KA_DENSITY,
        min_pair_distance: float | None = KA_MIN_PAIR_DISTANCE,
        batch_size: int = 1,
        num_workers: int = 0,
        seed: int = 0,
        max_configs: int | None = None,
        n_train: int | None = None,
        n_val: int | None = None,
        normalize_epot: bool = True,
        cache: bool = True,
        cache_dir: str | None = None,
        quench_cache_dir: str | None = None,
        file_format: str | None = None,
        download: bool = False,
        data_dir: str | None = None,
        fallback: str | None = None,
    ) -> None:
        super().__init__()
        if file_format is not None:
            self.file_format = file_format
        self.reader = get_reader(self.file_format)
        self.family = self.family or self.file_format
        self.T = float(T)
        check_positive("data.T", self.T)
        # no root: the registry's cache (interplay-data); ka3d falls back to GlassBench
        self.root, self.family = resolve_root(
            root, self.T, self.dataset, self.family, bool(download), data_dir, fallback
        )
        check_choice("data.positions", positions, ("thermal", "inherent"))
        if epot in ("none", "None", "null", False):
            epot = None
        check_choice("data.epot", epot, (None, "thermal", "inherent"))
        check_positive("data.cutoff", cutoff)
        for key, value in (("density", density), ("min_pair_distance", min_pair_distance)):
            if value is not None:
                check_positive(f"data.{key}", value)
        check_int_at_least("data.batch_size", batch_size, 1)
        if max_configs is not None:
            check_int_at_least("data.max_configs", max_configs, 1)
        for key, value in (("data.n_train", n_train), ("data.n_val", n_val)):
            if value is not None:
                check_int_at_least(key, value, 1)
        self.time_spec = time_indices
        self.positions = positions
        self.epot = epot
        self.cutoff = float(cutoff)
        self.density = density
        self.min_pair_distance = min_pair_distance
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.max_configs = max_configs
        self.n_train = n_train
        self.n_val = n_val
        self.normalize_epot = bool(normalize_epot)
        self.cache = bool(cache)
        self.cache_dir = cache_dir
        self.quench_cache_dir = quench_cache_dir
        self.data_dir = self._resolve_dir()
        self.units = self._discover()  # {"train": [unit...], "test": [...]} unit = list[Path]
        self._meta: dict[str, Any] | None = None
        self.graphs: dict[str, list] = {}
        self.epot_stats: tuple[float, float] | None = None

    # ------------------------------------------------------------------ discovery
    def source_message(self) -> str:
        return self.reader.source

    def _missing(self, what: str) -> DataError:
        return DataError(
            f"{self.family} data not found: {what}. Expected {self.root}/train/ and "
            f"{self.root}/test/ (or {self.root}/T{temperature_tag(self.T)}/train, ...) "
            f"at T={self.T}. "
            f"This data comes from {self.source_message()}; set data.root=<path> "
            "(and data.T) to where it lives."
        )

    def _resolve_dir(self) -> Path:
        found = temperature_dir(self.root, self.T)
        if found is None:
            held = held_temperatures(self.root)
            held_T = f" for T={self.T}; it holds T = {', '.join(held)} (set data.T)" if held else ""
            raise self._missing(f"no train/ or test/ directory under {self.root}{held_T}")
        return found

    def _discover(self) -> dict[str, list[list[Path]]]:
        units: dict[str, list[list[Path]]] = {}
        fmt = self.file_format
        for split in ("train", "test"):
            d = self.data_dir / split
            if d.is_dir():
                units[split] = self.reader.units(list_files(d, fmt=fmt, T=self.T))
        if not any(units.values()):
            where = f"{self.data_dir}/train|test{held_instead(self.data_dir, self.T, fmt)}"
            raise self._missing(f"no {fmt} files for T={self.T} in {where}")
        return units

    # ------------------------------------------------------------------ metadata
    def _load_unit(self, unit: list[Path]) -> list[Configuration]:
        return load_unit(unit, self.T, self.reader)

    def _peek(self) -> dict[str, Any]:
        """Time indices / times / τα of the dataset, from one configuration (cheap)."""
        if self._meta is None:
            first = next(u for s in ("train", "test") for u in self.units.get(s, []))
            every = [u for s in self.units.values() for u in s]
            grid = self.reader.time_grid(every, self.T)  # e.g. BOTAN: from the file names
            meta_extra: dict[str, Any] = {}
            if grid is not None:
                idx, times = grid
            else:
                configs = self._load_unit(first)
                if not configs:
                    raise self._missing(f"{first[0]} holds no configuration at T={self.T}")
                c = configs[0]
                idx, times, meta_extra = c.time_indices, c.times, c.metadata
            tau = self.reader.tau_alpha(every, self.T, idx, times, meta_extra)
            self._meta = {"time_indices": idx, "times": times, "tau_alpha": tau}
            self._meta["selected"] = self._select(idx, tau)
        return self._meta

    def _select(self, idx: np.ndarray, tau: TauAlpha | None) -> list[int]:
        spec = self.time_spec
        available = [int(t) for t in idx]
        if spec is None or spec == "all":
            return available
        if spec == "tau_alpha":
            if tau is None or tau.index not in available:
                where = "" if tau is None else f" among its files (index {tau.index})"
                raise ConfigError(
                    f"data.time_indices=tau_alpha: no tau_alpha known for {self.family} at "
                    f"T={self.T}{where}; give the index explicitly (available: {available})"
                )
            return [tau.index]
        wanted = [spec] if isinstance(spec, int | str) else list(spec)
        try:
            wanted = [int(w) for w in wanted]
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"data.time_indices={spec!r}: expected 'all', 'tau_alpha', an int or a list"
            ) from exc
        missing = [w for w in wanted if w not in available]
        if missing:
            raise ConfigError(
                f"data.time_indices={spec!r}: {missing} not in the dataset's time indices "
                f"{available}"
            )
        return wanted

    @property
    def time_indices(self) -> list[int]:
        return list(self._peek()["selected"])

    @property
    def times(self) -> list[float]:
        meta = self._peek()
        pos = {int(t): k for k, t in enumerate(meta["time_indices"])}
        return [float(meta["times"][pos[t]]) for t in meta["selected"]]

    @property
    def tau_alpha_index(self) -> int | None:
        """The dataset's own time index at τα (None: unknown), where the models read
        ``test/pearson_A``; it need not be among the selected ``time_indices``."""
        return getattr(self._peek()["tau_alpha"], "index", None)

    @property
    def tau_alpha(self) -> float:
        """Time (LJ units) of :attr:`tau_alpha_index` (NaN where the grid does not say)."""
        return getattr(self._peek()["tau_alpha"], "time", math.nan)

    @property
    def n_node_scalars(self) -> int:
        return 2 + (self.epot is not None)

    def model_kwargs(self) -> dict[str, Any]:
        sel = self.time_indices
        return {
            "n_node_scalars": self.n_node_scalars,
            "n_timescales": len(sel),
            "time_indices": sel,
        }

    # ------------------------------------------------------------------ splits
    def split_units(self) -> dict[str, list[list[Path]]]:
        """The train / val / test units (:func:`interplay.glass.data._splits.split_units`)."""
        return split_units(
            self.units,
            self.seed,
            max_configs=self.max_configs,
            train_size=self.n_train,
            val_size=self.n_val,
        )

    # ------------------------------------------------------------------ cache
    def cache_key(self) -> str:
        splits = self.split_units()
        files = {  # with the half-average sidecars: adding them changes the labels' halves
            s: [_file_stamp(p) for u in us for p in (*u, *map(halves_path, u)) if p.is_file()]
            for s, us in splits.items()
        }
        spec = {
            "v": GRAPH_CACHE_VERSION,
            "family": self.family,
            "T": self.T,
            "time_indices": self.time_indices,
            "positions": self.positions,
            "epot": self.epot,
            "cutoff": self.cutoff,
            "density": self.density,
            "min_pair_distance": self.min_pair_distance,
            "normalize_epot": self.normalize_epot,
            "files": files,
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]

    def cache_path(self) -> Path:
        base = graph_cache_dir(self.cache_dir, self.data_dir)
        return base / f"{self.family}_T{temperature_tag(self.T)}_{self.cache_key()}.pt"

    # ------------------------------------------------------------------ building
    def _configs(self, units: list[list[Path]]) -> list[Configuration]:
        sel = self.time_indices
        out = []
        for u in units:
            for c in self._load_unit(u):
                c = check_geometry(c.select_times(sel), self.density, self.min_pair_distance)
                needs_is = self.positions == "inherent" and c.inherent_positions is None
                needs_e = (self.epot == "thermal" and c.epot is None) or (
                    self.epot == "inherent" and c.epot_inherent is None
                )
                if needs_is or needs_e:
                    from interplay.glass.data._inherent import add_inherent_structures

                    c = add_inherent_structures(c, cache_dir=self.quench_cache_dir)
                out.append(c)
        return out

    def _graph(self, c: Configuration, halves: bool = False):
        pos = c.positions if self.positions == "thermal" else c.inherent_positions
        scalar = None
        if self.epot is not None:
            scalar = c.epot if self.epot == "thermal" else c.epot_inherent
            if self.epot_stats is not None:
                scalar = (scalar - self.epot_stats[0]) / self.epot_stats[1]
        g = build_graph(
            pos, c.types, c.box, y=c.propensity.T, node_scalar=scalar, cutoff=self.cutoff
        )
        g.name = c.name
        if halves:  # the labels' noise ceiling: split-half propensities (NaN: no runs here)
            h = c.propensity_halves
            h = np.full((2, *c.propensity.shape), np.nan) if h is None else h
            g.y_half1, g.y_half2 = (torch.from_numpy(x.T.astype(np.float32)) for x in h)
        return g

    def build(self) -> dict[str, list]:
        """Graphs per split, with ``y_half1`` / ``y_half2`` (N, n_t) on every graph when any
        configuration has runs (so that the graphs of a split still batch together)."""
        splits = self.split_units()
        configs = {s: self._configs(u) for s, u in splits.items()}
        if self.epot is not None and self.normalize_epot and configs["train"]:
            key = "epot" if self.epot == "thermal" else "epot_inherent"
            e = np.concatenate([getattr(c, key) for c in configs["train"]])
            self.epot_stats = (float(e.mean()), float(e.std() + 1e-12))
        runs = any(c.propensity_halves is not None for cs in configs.values() for c in cs)
        return {s: [self._graph(c, runs) for c in cs] for s, cs in configs.items()}

    def setup(self, stage: str | None = None) -> None:
        if self.graphs:
            return
        path = self.cache_path() if self.cache else None
        if path is not None and path.exists():
            try:
                self.graphs, self.epot_stats = read_graph_cache(path)
                log.info("graphs loaded from cache %s", path)
                return
            except Exception as exc:  # a broken or tampered cache is ignored and rebuilt
                log.warning("ignoring unreadable graph cache %s (%s); rebuilding it", path, exc)
        self.graphs = self.build()
        if path is not None:
            write_graph_cache(path, self.graphs, self.epot_stats)

    def _loader(self, split: str, shuffle: bool):
        from torch_geometric.loader import DataLoader

        self.setup()
        return DataLoader(
            self.graphs[split],
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
        )

    def train_dataloader(self):
        return self._loader("train", True)

    def val_dataloader(self):
        return self._loader("val", False)

    def test_dataloader(self):
        return self._loader("test", False)


class KA3DDataModule(GlassDataModule):
    """The embedded simulated KA dataset (``data/ka3d``, GlassBench layout + energies)."""

    family = "ka3d"
    file_format = "glassbench"

    def source_message(self) -> str:
        # supercooled temperatures (e.g. the thesis's T = 0.44) are not in the embedded set
        return (
            "the embedded KA dataset (data/ka3d, T = 0.8, 0.9, 1.0), made by the LAMMPS "
            "pipeline: `interplay-simulate -m T=<T> job=0,1,2 configs_per_job=10 "
            "out_dir=<root>` (docs/ka_data.md). Supercooled data such as T = 0.44 comes from "
            "the real datasets instead: data=shiba (Shiba et al. 2023, BOTAN), data=bapst (Bapst "
            "et al. 2020) or data=glassbench (Jung et al. roadmap), each with data.root=<dir>"
        )


class ShibaDataModule(GlassDataModule):
    """Shiba et al. 2023 (BOTAN) iso-configurational data."""

    file_format = "botan"
    dataset = "shiba"


class BapstDataModule(GlassDataModule):
    """Bapst et al. 2020 (DeepMind glassy_dynamics) pickles."""

    file_format = "bapst"
    dataset = "bapst"


class GlassBenchDataModule(GlassDataModule):
    """GlassBench (Jung et al. roadmap) npz files."""

    file_format = "glassbench"
    dataset = "glassbench"
