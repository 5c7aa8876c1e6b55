"""The on-disk cache of built glass graphs, in a format that cannot run code when read.

The cache lies where the user never looks (``<data>/.interplay_cache/graphs`` or
``~/.cache/interplay/graphs``). Pickled ``torch_geometric`` ``Data`` objects would need
``torch.load(weights_only=False)``, which calls any global a (tampered) file names; instead each
graph is stored as a dict of plain tensors plus its name, and read back with
``torch.load(weights_only=True)`` (tensors and builtin containers only). A file that does not
read as this layout raises, and the DataModule ignores it and rebuilds it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from interplay.core import DataError, atomic_open

#: 2: plain tensors (weights_only=True), no pickled Data objects; 3: ``y_half1`` / ``y_half2``
GRAPH_CACHE_VERSION = 3
#: The tensors of one cached graph (what build_graph sets, and the split-half labels of the
#: noise ceiling where the data has runs), besides its ``name``.
GRAPH_FIELDS = ("x", "pos", "box", "node_type", "edge_index", "edge_vec", "y", "y_half1", "y_half2")


def graph_cache_dir(cache_dir: str | Path | None, data_dir: Path) -> Path:
    """Where built graphs are cached: ``cache_dir`` if given, else beside the data when that
    is writable, else the user cache (the cache of inherent structures makes the same choice)."""
    from interplay.glass.data._inherent import data_dir_writable, default_cache_root

    if cache_dir is not None:
        return Path(cache_dir)
    if data_dir_writable(data_dir):
        return data_dir / ".interplay_cache" / "graphs"
    return default_cache_root() / "graphs"


def write_graph_cache(
    path: Path, graphs: dict[str, list], epot_stats: tuple[float, float] | None
) -> None:
    """Graphs as dicts of tensors (plus a name): loadable with ``weights_only=True``."""
    blob = {
        "version": GRAPH_CACHE_VERSION,
        "epot_stats": None if epot_stats is None else [float(v) for v in epot_stats],
        "graphs": {
            split: [{"name": str(g.name), **{k: g[k] for k in GRAPH_FIELDS if k in g}} for g in gs]
            for split, gs in graphs.items()
        },
    }
    with atomic_open(path, "wb") as handle:
        torch.save(blob, handle)


def read_graph_cache(path: Path) -> tuple[dict[str, list], tuple[float, float] | None]:
    """The graphs of a cache file; anything but the layout above raises (and is rebuilt).

    ``weights_only=True`` admits tensors and builtin containers only, so a tampered file
    cannot run code here.
    """
    from torch_geometric.data import Data

    blob = torch.load(path, weights_only=True)
    if not isinstance(blob, dict) or blob.get("version") != GRAPH_CACHE_VERSION:
        raise DataError(f"{path}: not a version-{GRAPH_CACHE_VERSION} graph cache")
    graphs = {}
    for split, items in blob["graphs"].items():
        graphs[split] = []
        for item in items:
            fields = {k: item[k] for k in GRAPH_FIELDS if k in item}
            if not all(isinstance(v, torch.Tensor) for v in fields.values()):
                raise DataError(f"{path}: graph fields must be tensors")
            g = Data(**fields)
            g.name = str(item["name"])
            graphs[split].append(g)
    stats = blob["epot_stats"]
    return graphs, None if stats is None else (float(stats[0]), float(stats[1]))
