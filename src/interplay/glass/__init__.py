"""Glassy dynamics from structure: KA data pipeline, periodic graphs, SE(3)-GNN (thesis ch. 2).

Lightweight public API of the data side (heavy modules -- LAMMPS, Lightning -- load lazily)::

    from interplay.glass import load, Configuration, periodic_neighbor_list, build_graph
    from interplay.glass import KA3DDataModule, ShibaDataModule, BapstDataModule
"""

from __future__ import annotations

from typing import Any

from interplay.glass.graph import build_graph, periodic_neighbor_list
from interplay.glass.io import Configuration, load, load_directory, load_many

_LAZY = {
    "GlassDataModule": "interplay.glass.datamodule",
    "KA3DDataModule": "interplay.glass.datamodule",
    "ShibaDataModule": "interplay.glass.datamodule",
    "BapstDataModule": "interplay.glass.datamodule",
    "GlassBenchDataModule": "interplay.glass.datamodule",
    "add_inherent_structures": "interplay.glass.quench",
}

__all__ = [
    "Configuration",
    "build_graph",
    "load",
    "load_directory",
    "load_many",
    "periodic_neighbor_list",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'interplay.glass' has no attribute {name!r}")
