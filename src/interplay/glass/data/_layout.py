"""Where a glass dataset's files lie: temperature directories, train/ and test/ splits, and --
for error messages -- what a directory holds instead of what was asked for."""

from __future__ import annotations

from pathlib import Path

from interplay.glass.data._io import list_files
from interplay.glass.data.formats import reader_for
from interplay.glass.simulation import format_temperature as temperature_tag

#: The override that reads each format, for messages (others: ``data.file_format=<name>``).
DATA_GROUPS = {"botan": "data=shiba", "bapst": "data=bapst", "glassbench": "data=glassbench"}


def has_split(directory: Path) -> bool:
    """Whether ``directory`` holds a ``train/`` or ``test/`` split."""
    return (directory / "train").is_dir() or (directory / "test").is_dir()


def temperature_dir(root: Path, T: float) -> Path | None:
    """The directory with the splits at temperature ``T``: ``root/T{T}`` or ``root`` itself."""
    for cand in (root / f"T{temperature_tag(T)}", root / f"T{T}", root):
        if has_split(cand):
            return cand
    return None


def held_temperatures(root: Path) -> list[str]:
    """The temperatures of the ``T*/`` directories under ``root`` that hold a split."""
    return [d.name[1:] for d in sorted(root.glob("T*")) if has_split(d)]


def held_instead(data_dir: Path, T: float, file_format: str) -> str:
    """What ``data_dir``'s train/ and test/ hold instead (format, temperatures) and the override
    that reads it, as a clause for a missing-data message ("" when they hold nothing)."""
    held: dict[str, set[str]] = {}
    for split in ("train", "test"):
        d = data_dir / split
        for path in list_files(d) if d.is_dir() else []:
            reader = reader_for(path)
            temp = reader.temperature(path)
            held.setdefault(reader.name, set()).add("?" if temp is None else f"{temp:g}")
    text = ""
    for name, temps in held.items():
        fix = [] if name == file_format else [DATA_GROUPS.get(name, f"data.file_format={name}")]
        if "?" not in temps and f"{T:g}" not in temps:
            fix.append(f"data.T={min(temps)}")
        text += f"; it holds {name} files at T = {', '.join(sorted(temps))} (use {' '.join(fix)})"
    return text
