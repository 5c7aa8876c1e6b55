"""The registry of the real glass datasets: where each lives, its size, licence, citation and
how its files are checked; where the local cache is; what a missing dataset's message says.

Why a registry: the thesis's supercooled temperatures (T = 0.44 ... 0.64) are not in the
embedded ``data/ka3d``; they come from three providers with three publishing styles. One table
says, for every source, how to fetch it (``interplay-data fetch NAME T``, :mod:`._download`) and
what to tell a user whose run lacks it, so ``train.py``, the command and the docs never disagree.

Checksums are the providers' own where they publish them, read at fetch time: Zenodo's record
API lists every file with its md5 (GlassBench), Google Cloud Storage's JSON API every object
with its md5 (Bapst). The pyg_botan sample (Shiba et al.) has no published checksum; the sha256
recorded below were computed from the provider's files as copied to ``../shared/data/
botan_T0.44`` (13 of its 15 files; the two test files 404 and 405 were not in that copy and are
fetched unchecked). Nothing was verified against the live providers when this was written
(offline machines): URLs, archive names and the bucket layout follow the providers'
documentation, and the selection rules below fail with a clear message if they differ.

Cache layout (the reader's layout, ``root/T{T}/{train,test}``)::

    <data home>/glassbench/T0.44/{train,test}/N4096T0.44_{i}.npz
    <data home>/shiba/T0.44/{train,test}/isoconfig_N4096T0.44_{i}_tc07.npz
    <data home>/bapst/T0.44/{train,test}/<object name>.pickle

``<data home>`` is ``paths.data_dir`` (Hydra) / ``--data-dir`` (command) when given, else
``$INTERPLAY_DATA``, else the user cache directory of platformdirs (``~/.cache/interplay/data``
on Linux).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from interplay.core import DataError
from interplay.glass.simulation import format_temperature as temperature_tag

#: Environment variables: the cache directory, and one base URL replacing every provider's host
#: (same paths below it) -- how the tests serve the providers from 127.0.0.1.
DATA_ENV = "INTERPLAY_DATA"
MIRROR_ENV = "INTERPLAY_DATA_MIRROR"
#: Written last by a fetch: the dataset at that temperature is complete (JSON, never code).
MANIFEST = ".interplay_fetched.json"

_BOTAN_COMMIT = "c9b8ce4798920873c49ea2677521af47f0e9f177"  # pyg_botan commit holding small_data
_BOTAN_SHA256 = {  # computed from ../shared/data/botan_T0.44 (the provider's files), not published
    f"{split}/isoconfig_N4096T0.44_{i}_tc07.npz": sha
    for split, i, sha in (
        ("train", 1, "818fe7a85a2d5fa15dbf6b4a32fe2244ccc6c95ab57375ddceccfbf3e15bcb03"),
        ("train", 2, "c434148509b09ae3582b5b12d2a1c866510bf6bcda1000cb7c84eaa3adc2c81e"),
        ("train", 3, "cbe36e3dda27f2c52d57b46322dd8b4e92a52d369f5a683c18469d035200d0f4"),
        ("train", 4, "5dc178a06be59d61cf90b69d7072e2dc8f4433e0edf21bed8a3971f4363d73f6"),
        ("train", 5, "ce15d17f380e28c36e512ac66454fc2b6b26a210db0a4bdd259029100e75bf19"),
        ("train", 6, "bdde2cd8e21c847c2359dd4532e530507246f876dbe51a94afdf90b420cbe0c5"),
        ("train", 7, "115c2dfa7cb7b93410407f14925ef061f2c0b495b8b6e938812120ba2f9fa964"),
        ("train", 8, "3886cd45c38d568c20641c7f0025d940251fa829902ed1e524fc105c0f005b9d"),
        ("train", 9, "fba28fffd9cac0d51c3ffed8cb4525c346a551d07449d5bcd0614306a0fd5704"),
        ("train", 10, "57f03825f3ef0f484fa6e8d7c7d317fc0a16f58f160302e56000d1e4ebe85f89"),
        ("test", 401, "dfefaa469e429e6ff0936579e69255e7df4f721c83042a0cc6ab25b1dcdf6184"),
        ("test", 402, "455937051b00da8374311b655a114d477cfc2e9ed6b582bd4ed407d064811ef8"),
        ("test", 403, "539d6bcf2ba1d0f790176d344f21dc2f757228951a585730c652c217cc2d26dd"),
        ("test", 404, None),  # 404, 405: not in the local copy, no checksum
        ("test", 405, None),
    )
}


@dataclass(frozen=True)
class Dataset:
    """One source of real data. ``provider`` says how its file list is obtained:
    ``zenodo`` (record API, one archive per temperature), ``gcs`` (bucket listing, one object
    per configuration) or ``files`` (the fixed ``files`` below ``base``/``prefix``)."""

    name: str
    title: str
    file_format: str  # the reader of interplay.glass.data.formats
    temperatures: tuple[float, ...]
    size: str  # per temperature, as the provider states it (exact size: its listing)
    licence: str
    citation: str
    provider: str
    base: str  # scheme://host, replaced by $INTERPLAY_DATA_MIRROR
    prefix: str  # path below base: record id, bucket, or repository directory
    checksums: str  # where the checksums come from (printed by `interplay-data list`)
    note: str = ""
    files: dict[str, str | None] = field(default_factory=dict)  # provider="files": rel -> sha256

    @property
    def page(self) -> str:
        """Where a person finds the data (the record, the bucket, the repository)."""
        if self.provider == "zenodo":
            return f"{self.base}/records/{self.prefix}"
        if self.provider == "gcs":
            return f"https://console.cloud.google.com/storage/browser/{self.prefix}"
        return f"{self.base}/{self.prefix}"


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            name="glassbench",
            title="GlassBench 3D Kob-Andersen (Jung et al., Roadmap on ML glassy liquids)",
            file_format="glassbench",
            temperatures=(0.44, 0.5, 0.56, 0.64),
            size="~580-590 MB archive per temperature (500 configurations x 4096 particles, "
            "400 train / 100 test; exact size: the record listing)",
            licence="CC-BY-4.0",
            citation="G. Jung et al., Roadmap on machine learning glassy liquids, "
            "arXiv:2311.14752 (thesis ref. [JAB+23]); data: doi:10.5281/zenodo.10118191",
            provider="zenodo",
            base="https://zenodo.org",
            prefix="10118191",
            checksums="md5 of each archive from Zenodo's record API, read at fetch time",
            note="the archive of a temperature is the record file whose name states it",
        ),
        Dataset(
            name="shiba",
            title="Shiba et al. (BOTAN) T = 0.44 sample of h3-Open-BDEC/pyg_botan",
            file_format="botan",
            temperatures=(0.44,),
            size="~49 MB: 15 files of ~3.25 MB (10 train + 5 test configurations, tc07)",
            licence="Apache-2.0",
            citation="H. Shiba, M. Hanai, T. Suzumura, T. Shimokawabe, BOTAN, J. Chem. Phys. "
            "158(8) (2023) (thesis ref. [SHSS23])",
            provider="files",
            base="https://raw.githubusercontent.com",
            prefix=f"h3-Open-BDEC/pyg_botan/{_BOTAN_COMMIT}/small_data",
            checksums="none published; sha256 of 13 files recorded from the provider's files "
            "(../shared/data/botan_T0.44), test 404-405 unchecked",
            note="the full ~58 GB dataset (University of Tokyo) is fetched by hand: see the "
            "pyg_botan README, then put it under <data home>/shiba/T0.44/{train,test}",
            files=_BOTAN_SHA256,
        ),
        Dataset(
            name="bapst",
            title="Bapst et al. (DeepMind glassy_dynamics) Kob-Andersen pickles",
            file_format="bapst",
            temperatures=(0.44, 0.47, 0.5, 0.56),  # thesis §2.4.3
            size="400 train + 50 test pickles per temperature (exact size: bucket listing)",
            licence="as published by DeepMind with deepmind-research/glassy_dynamics "
            "(Apache-2.0 code; dataset terms not verified offline)",
            citation="V. Bapst et al., Nat. Phys. 16, 448 (2020) (thesis ref. [BKGB+20])",
            provider="gcs",
            base="https://storage.googleapis.com",
            prefix="deepmind-research-glassy-dynamics",
            checksums="md5 of each object from the Cloud Storage JSON API, read at fetch time",
            note="objects whose path names the temperature and a train/ or test/ directory",
        ),
    )
}


def get_dataset(name: str) -> Dataset:
    """The registry entry ``name``; a :class:`DataError` listing the names otherwise."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def check_temperature(dataset: Dataset, T: float) -> float:
    """``T`` as a float if ``dataset`` publishes it; a :class:`DataError` naming those it does."""
    T = float(T)
    if not any(abs(T - t) < 1e-9 for t in dataset.temperatures):
        held = ", ".join(temperature_tag(t) for t in dataset.temperatures)
        raise DataError(f"{dataset.name} has no T={T:g}: it publishes T = {held}")
    return T


def data_home(data_dir: str | os.PathLike | None = None) -> Path:
    """The cache of fetched datasets: ``data_dir``, else ``$INTERPLAY_DATA``, else the user
    cache directory (platformdirs) + ``/data``. Not created here."""
    if data_dir not in (None, ""):
        return Path(str(data_dir)).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("interplay")) / "data"


def dataset_root(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """``<data home>/<name>``: the ``data.root`` a fetched dataset is read from."""
    return data_home(data_dir) / get_dataset(name).name


def dataset_dir(name: str, T: float, data_dir: str | os.PathLike | None = None) -> Path:
    """``<data home>/<name>/T{T}``: where one temperature's ``train/`` and ``test/`` go."""
    return dataset_root(name, data_dir) / f"T{temperature_tag(T)}"


def fetch_command(name: str, T: float) -> str:
    """The exact command that fetches ``name`` at ``T``."""
    return f"interplay-data fetch {name} {temperature_tag(T)}"


def missing_message(name: str, T: float, data_dir: str | os.PathLike | None = None) -> str:
    """Why a run stops when ``name`` at ``T`` is not cached, and every way to fix it."""
    d = get_dataset(name)
    target = dataset_dir(name, T, data_dir)
    return (
        f"{d.name} data at T={temperature_tag(T)} is not in the cache ({target} has no train/ "
        f"or test/). This data comes from {d.title}: {d.size}, licence {d.licence}; cite "
        f"{d.citation}. Download it with `{fetch_command(name, T)}` (or rerun with "
        f"data.download=true), or put a local copy's train/ and test/ in {target}, or point "
        f"{DATA_ENV} / paths.data_dir at a directory holding {d.name}/T{temperature_tag(T)}/, "
        "or set data.root=<dir> (with <dir>/train, <dir>/test)."
    )
