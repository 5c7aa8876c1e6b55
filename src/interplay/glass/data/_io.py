"""Reading configurations of any registered format: :func:`load` a file, :func:`load_directory`.

Which reader reads a file is the registry's answer (:mod:`interplay.glass.data.formats`):
Shiba et al. 2023 BOTAN npz, Bapst et al. 2020 pickles, GlassBench / ka3d npz, or any format
registered later. Nothing here names a format.

Temperature filters: a file whose name states its temperature is kept or dropped by name (no
read); the configurations of files whose name does not (Bapst pickles) are filtered after
reading.
"""

from __future__ import annotations

from pathlib import Path

from interplay.core import DataError
from interplay.glass.data._configuration import Configuration
from interplay.glass.data.formats import Reader, data_suffixes, get_reader, reader_for, readers


def _same_T(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def detect_format(path: str | Path) -> str:
    """The name of the format that reads ``path`` (from its suffix and name, not its content)."""
    return reader_for(path).name


def _read_file(path: str | Path) -> list[Configuration]:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    return reader_for(path).read([path])


def load(path: str | Path) -> Configuration:
    """Read the one configuration of a file of any registered format."""
    configs = _read_file(path)
    if len(configs) != 1:
        raise DataError(f"{path}: holds {len(configs)} configurations; use load_many()")
    return configs[0]


def load_many(path: str | Path) -> list[Configuration]:
    """All configurations of a file (Bapst pickles may hold several) or of a directory."""
    if Path(path).is_dir():
        return load_directory(path)
    return _read_file(path)


def load_unit(
    unit: list[Path], T: float | None = None, reader: Reader | None = None
) -> list[Configuration]:
    """The configurations of one unit (the files of one configuration), at ``T`` if given."""
    reader = reader or reader_for(unit[0])
    configs = reader.read(unit)
    if T is None or reader.temperature(unit[0]) is not None:  # already filtered by name
        return configs
    return [c for c in configs if _same_T(c.temperature, T)]


def list_files(directory: str | Path, fmt: str | None = None, T: float | None = None) -> list[Path]:
    """Data files of ``directory`` (not recursive), optionally of one format / temperature."""
    directory = Path(directory)
    wanted = None if fmt is None else get_reader(fmt)
    suffixes = data_suffixes()
    out = []
    for p in sorted(directory.iterdir()):
        if p.suffix not in suffixes or not p.is_file():
            continue
        reader = reader_for(p)
        if wanted is not None and reader is not wanted:
            continue
        t = reader.temperature(p)
        if T is not None and t is not None and not _same_T(t, T):
            continue
        out.append(p)
    return out


def load_directory(directory: str | Path, T: float | None = None) -> list[Configuration]:
    """Every configuration in ``directory``, format by format in registration order.

    Files are grouped into configurations by their reader (BOTAN: the ``tc`` files of one
    configuration are merged).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory")
    files = list_files(directory, T=T)
    owner = {p: reader_for(p) for p in files}
    out = []
    for reader in readers():
        for unit in reader.units([p for p in files if owner[p] is reader]):
            out.extend(load_unit(unit, T, reader))
    return out
