"""Glass data: :class:`Configuration`, the dataset formats behind a reader registry
(:mod:`.formats`: ``register_reader``), periodic graphs, the thesis split, the DataModules
that ``conf/data/*.yaml`` name, and the registry of the real datasets with their resumable,
checksummed download into the cache (``interplay-data``; ``fetch_dataset``, ``ensure_dataset``).

    from interplay.glass.data import load, Configuration, build_graph, KA3DDataModule
    from interplay.glass.data.formats import Reader, register_reader
"""

from interplay.glass.data._configuration import Configuration
from interplay.glass.data._datamodule import (
    BapstDataModule,
    GlassBenchDataModule,
    GlassDataModule,
    KA3DDataModule,
    ShibaDataModule,
)
from interplay.glass.data._download import (
    ResumableDownloader,
    dataset_table,
    ensure_dataset,
    fetch_dataset,
    resolve_root,
    verify_dataset,
)
from interplay.glass.data._graph import (
    DEFAULT_CUTOFF,
    brute_force_neighbor_list,
    build_graph,
    periodic_neighbor_list,
)
from interplay.glass.data._inherent import add_inherent_structures, ka_energy_numpy, quench
from interplay.glass.data._io import detect_format, load, load_directory, load_many
from interplay.glass.data._providers import Remote, mirrored, remote_files
from interplay.glass.data._registry import (
    DATA_ENV,
    DATASETS,
    MIRROR_ENV,
    Dataset,
    data_home,
    dataset_dir,
    dataset_root,
    fetch_command,
    get_dataset,
    missing_message,
)
from interplay.glass.data._splits import THESIS_SPLIT, split_counts, split_units
from interplay.glass.data._tau_alpha import (
    TauAlpha,
    nearest_in_log_time,
    tau_alpha_column,
    tau_alpha_from_fs,
)

__all__ = [
    "DATASETS",
    "DATA_ENV",
    "MIRROR_ENV",
    "Dataset",
    "Remote",
    "ResumableDownloader",
    "data_home",
    "dataset_dir",
    "dataset_root",
    "dataset_table",
    "ensure_dataset",
    "fetch_command",
    "fetch_dataset",
    "get_dataset",
    "missing_message",
    "mirrored",
    "remote_files",
    "resolve_root",
    "verify_dataset",
    "ka_energy_numpy",
    "DEFAULT_CUTOFF",
    "THESIS_SPLIT",
    "BapstDataModule",
    "Configuration",
    "GlassBenchDataModule",
    "GlassDataModule",
    "KA3DDataModule",
    "ShibaDataModule",
    "TauAlpha",
    "add_inherent_structures",
    "brute_force_neighbor_list",
    "build_graph",
    "detect_format",
    "load",
    "load_directory",
    "load_many",
    "periodic_neighbor_list",
    "quench",
    "split_counts",
    "split_units",
    "nearest_in_log_time",
    "tau_alpha_column",
    "tau_alpha_from_fs",
]
