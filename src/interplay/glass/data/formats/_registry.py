"""The reader registry: every dataset format is one :class:`Reader`, registered once by name.

:func:`interplay.glass.data.load`, :func:`~interplay.glass.data.load_directory` and the
DataModules never branch on a format; they ask this registry (the shape of NequIP's
``register_fields``). Adding a format is one module in ``formats/`` and one
``register_reader(...)`` line in ``formats/__init__.py``.

Contract of a reader (a subclass of :class:`Reader`, registered as an instance):

``name``
    The format's name: ``Configuration.source``, the DataModule's ``file_format`` (what a
    ``conf/data/*.yaml`` group reads), the key of :func:`get_reader`. Unique.
``source``
    Where such files come from (paper, dataset, command); quoted by every missing-data and
    missing-key error, because a wrong ``data.root`` is the usual cause.
``suffixes``
    File suffixes it reads (``(".npz",)``); a directory listing keeps only registered suffixes.
``fallback``
    ``True``: the reader claims every file with its suffixes that no other reader claims
    (GlassBench reads any ``.npz``). At most one fallback per suffix; two non-fallback readers
    claiming one file is an error.
``known_times``, ``first_time_index``
    The time grid: ``{T: times}``; time index ``k`` at temperature ``T`` lasts
    ``times[k - first_time_index]`` (:meth:`Reader.grid_times`; NaN where unknown).
``read(files) -> list[Configuration]`` (required)
    The configurations of one *unit*: the files that together hold one configuration (one file
    for most formats; a Bapst pickle may hold several configurations).
``detect(path) -> bool``
    Asked only for files with one of ``suffixes``: is this file mine? Default ``True``.
``temperature(path) -> float | None``
    The temperature from the file name alone, so that listings filter without reading. ``None``
    (the default): unknown, and the configurations read are filtered by their ``temperature``.
``units(files) -> list[list[Path]]``
    A directory's files grouped into units, in a reproducible order. Default: one file each.
``time_grid(units, T) -> (time_indices, times) | None``
    The dataset's time indices without reading arrays (e.g. from file names). Default ``None``:
    the DataModule reads the first unit instead.
``known_tau_alpha``, ``tau_alpha(units, T, time_indices, times, metadata) -> TauAlpha | None``
    The dataset's τα as one of its time indices (:mod:`interplay.glass.data._tau_alpha`), from
    the dataset's time grid and the first configuration's ``metadata``. Default: the index
    closest in log time to ``known_tau_alpha[T]``; ``None`` when the format cannot tell.

The directory layout above the files (``root/{train,test}`` or ``root/T{T}/{train,test}``) is
common to every format and handled by :class:`interplay.glass.data.GlassDataModule`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from interplay.core import ConfigError, DataError
from interplay.glass.data._configuration import Configuration
from interplay.glass.data._tau_alpha import TauAlpha, tau_alpha_from_time


class Reader(ABC):
    """One dataset format; see the module docstring for the contract."""

    name: str = ""
    source: str = ""
    suffixes: tuple[str, ...] = ()
    fallback: bool = False
    known_times: Mapping[float, tuple[float, ...]] = {}
    first_time_index: int = 0
    known_tau_alpha: Mapping[float, float] = {}

    @abstractmethod
    def read(self, files: list[Path]) -> list[Configuration]:
        """The configurations of one unit (the files that together hold them)."""

    def detect(self, path: Path) -> bool:
        """Whether ``path`` (already known to have one of ``suffixes``) is of this format."""
        return True

    def temperature(self, path: Path) -> float | None:
        """The temperature that the file name states, or ``None`` if it does not."""
        return None

    def units(self, files: list[Path]) -> list[list[Path]]:
        """The files grouped into configurations; one file each unless a format splits them."""
        return [[p] for p in files]

    def time_grid(self, units: list[list[Path]], T: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Time indices and times without reading arrays, or ``None`` to read the first unit."""
        return None

    def tau_alpha(
        self,
        units: list[list[Path]],
        T: float,
        time_indices: np.ndarray,
        times: np.ndarray,
        metadata: Mapping,
    ) -> TauAlpha | None:
        """The dataset's τα index (contract above); default from ``known_tau_alpha``."""
        tau = _at_temperature(self.known_tau_alpha, T)
        if tau is None:
            return None
        rule = f"{self.name}: tau_alpha = {tau:g} at T = {T:g} (known grid)"
        return tau_alpha_from_time(time_indices, times, tau, rule)

    def grid_times(self, T: float, time_indices: np.ndarray) -> np.ndarray:
        """Times of ``time_indices`` on ``known_times`` at ``T``; NaN where the grid is silent."""
        for t_known, grid in self.known_times.items():
            if abs(t_known - T) < 1e-9:
                k = time_indices - self.first_time_index
                if (k >= 0).all() and (k < len(grid)).all():
                    return np.asarray(grid, dtype=np.float64)[k]
        return np.full(time_indices.shape, np.nan)


def _at_temperature(table: Mapping[float, float], T: float) -> float | None:
    return next((v for t, v in table.items() if abs(t - T) < 1e-9), None)


_READERS: dict[str, Reader] = {}


def register_reader(reader: Reader) -> Reader:
    """Make ``reader`` the reader of format ``reader.name``; returns it.

    Raises ``ValueError`` when the name is taken or empty, or when a second fallback reader
    would claim the same suffix (which of the two reads a file would then be arbitrary).
    """
    if not isinstance(reader, Reader):
        raise TypeError(
            f"{reader!r} is not a Reader (subclass interplay.glass.data.formats.Reader)"
        )
    if not reader.name or not reader.suffixes:
        raise ValueError(f"{type(reader).__name__}: a reader needs a name and its file suffixes")
    if reader.name in _READERS:
        raise ValueError(
            f"dataset format {reader.name!r} is already registered "
            f"({type(_READERS[reader.name]).__name__}); choose another name or call "
            f"unregister_reader({reader.name!r}) first"
        )
    if reader.fallback:
        for other in _READERS.values():
            shared = set(other.suffixes) & set(reader.suffixes)
            if other.fallback and shared:
                raise ValueError(
                    f"format {reader.name!r}: {other.name!r} is already the fallback reader of "
                    f"{sorted(shared)} files"
                )
    _READERS[reader.name] = reader
    return reader


def unregister_reader(name: str) -> Reader:
    """Remove format ``name`` from the registry (tests, or replacing a reader); returns it."""
    return _READERS.pop(get_reader(name).name)


def get_reader(name: str) -> Reader:
    """The reader of format ``name``; a :class:`ConfigError` lists the registered ones."""
    try:
        return _READERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown dataset format {name!r}; registered formats: {', '.join(_READERS)} "
            "(add one with interplay.glass.data.formats.register_reader)"
        ) from None


def readers() -> list[Reader]:
    """The registered readers, in registration order."""
    return list(_READERS.values())


def data_suffixes() -> tuple[str, ...]:
    """Every suffix some registered reader reads (what a directory listing keeps)."""
    return tuple(dict.fromkeys(s for r in _READERS.values() for s in r.suffixes))


def reader_for(path: str | Path) -> Reader:
    """The reader of the file ``path``: the one that claims it, else the fallback of its suffix."""
    path = Path(path)
    claims = [r for r in _READERS.values() if path.suffix in r.suffixes and r.detect(path)]
    specific = [r for r in claims if not r.fallback]
    if len(specific) > 1:
        names = [r.name for r in specific]
        raise DataError(f"{path}: claimed by several dataset formats {names}; rename the file")
    if specific or claims:
        return (specific or claims)[0]
    raise DataError(
        f"{path}: unknown data file type (expected {' or '.join(data_suffixes())}; "
        f"registered formats: {', '.join(_READERS)})"
    )
