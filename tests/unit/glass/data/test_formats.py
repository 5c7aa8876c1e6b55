"""The reader registry: a new format is one Reader plus one register_reader call.

The toy format below lives only in this file; loading it through ``load``, ``load_directory``
and a DataModule without editing any other module is the proof of that claim.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from interplay.core import ConfigError, DataError, write_npz
from interplay.glass.data import (
    Configuration,
    GlassDataModule,
    detect_format,
    load,
    load_directory,
    load_many,
)
from interplay.glass.data.formats import (
    GlassBenchReader,
    Reader,
    get_reader,
    open_npz,
    propensity_from_runs,
    reader_for,
    register_reader,
    require_keys,
    unregister_reader,
    wrap_into_box,
)

_TOY_RE = re.compile(r"toy_T(?P<T>[0-9.]+)_(?P<i>\d+)\.npz$")


class ToyReader(Reader):
    """``toy_T{T}_{i}.npz``: ``pos`` (N, 3), ``kind`` (N,), ``L``, ``t`` (n_t,) and ``runs``
    (n_t, n_runs, N, 3) of iso-configurational displacements from ``pos``."""

    name = "toy"
    source = "the toy format of test_formats.py"
    suffixes = (".npz",)

    def detect(self, path: Path) -> bool:
        return _TOY_RE.search(path.name) is not None

    def temperature(self, path: Path) -> float | None:
        return float(_TOY_RE.search(path.name)["T"])

    def read(self, files: list[Path]) -> list[Configuration]:
        (path,) = files
        d = open_npz(path)
        require_keys(path, d, ("pos", "kind", "L", "t", "runs"), self.name, self.source)
        box = np.full(3, float(d["L"]))
        return [
            Configuration(
                positions=wrap_into_box(d["pos"], box),
                types=d["kind"].astype(np.int64),
                box=box,
                temperature=self.temperature(path),
                times=d["t"],
                time_indices=np.arange(d["t"].size),
                propensity=np.stack([propensity_from_runs(r, d["pos"]) for r in d["runs"]]),
                name=path.stem,
                source=self.name,
                files=(str(path),),
            ).validate()
        ]


@pytest.fixture
def toy():
    reader = register_reader(ToyReader())
    yield reader
    unregister_reader("toy")


def _toy_file(
    path: Path, n: int = 150, n_t: int = 2, n_runs: int = 3, seed: int = 0, make_positions=None
) -> Path:
    rng = np.random.default_rng(seed)
    L = 5.0  # > 2 x the graph cutoff
    # DataModules refuse overlapping particles: they get lattice_positions (conftest.py)
    pos = rng.uniform(0, L, (n, 3)) if make_positions is None else make_positions(rng, n, L)
    steps = rng.normal(0, 0.1, (n_t, n_runs, n, 3)).cumsum(0)  # displacements grow with t
    write_npz(
        path,
        pos=pos,
        kind=np.r_[np.zeros(n - n // 5), np.ones(n // 5)].astype(np.int8),
        L=np.array(L),
        t=np.array([1.0, 10.0][:n_t]),
        runs=pos[None, None] + steps,
    )
    return path


def test_toy_format_through_load(toy, tmp_path):
    path = _toy_file(tmp_path / "toy_T0.5_0.npz")
    assert detect_format(path) == "toy" and reader_for(path) is toy
    c = load(path)
    assert c.source == "toy" and c.temperature == 0.5 and c.propensity.shape == (2, 150)
    with np.load(path) as d:
        ref = np.linalg.norm(d["runs"][1] - d["pos"][None], axis=-1).mean(0)
    np.testing.assert_allclose(c.propensity[1], ref, rtol=0, atol=1e-12)
    assert [x.name for x in load_many(path)] == ["toy_T0.5_0"]
    # a directory mixing the toy format with GlassBench's fallback .npz: each file to its reader
    _toy_file(tmp_path / "toy_T0.6_1.npz")
    write_npz(tmp_path / "other.npz", x=np.zeros(3))
    assert detect_format(tmp_path / "other.npz") == "glassbench"
    (tmp_path / "other.npz").unlink()
    assert [x.name for x in load_directory(tmp_path, T=0.5)] == ["toy_T0.5_0"]
    assert [x.name for x in load_directory(tmp_path)] == ["toy_T0.5_0", "toy_T0.6_1"]


def test_toy_format_through_a_datamodule(toy, tmp_path, lattice_positions):
    for i in range(6):
        split = "train" if i < 4 else "test"
        _toy_file(
            tmp_path / "T0.5" / split / f"toy_T0.5_{i}.npz",
            seed=i,
            make_positions=lattice_positions,
        )
    _toy_file(tmp_path / "T0.5" / "train" / "toy_T0.7_9.npz")  # other temperature: skipped
    dm = GlassDataModule(root=str(tmp_path), T=0.5, file_format="toy", cache=False)
    assert dm.family == "toy" and dm.source_message() == toy.source
    assert dm.model_kwargs() == {"n_node_scalars": 2, "n_timescales": 2, "time_indices": [0, 1]}
    assert dm.times == [1.0, 10.0]
    dm.setup()
    assert {k: len(v) for k, v in dm.graphs.items()} == {"train": 2, "val": 2, "test": 2}
    g = dm.graphs["test"][0]
    assert g.pos.shape == (150, 3) and g.y.shape == (150, 2) and g.name == "toy_T0.5_4"
    with pytest.raises(DataError, match="the toy format of test_formats.py"):
        GlassDataModule(root=str(tmp_path), T=0.9, file_format="toy")


def test_duplicate_and_unknown_formats_are_clear_errors(toy, tmp_path):
    with pytest.raises(ValueError, match="'toy' is already registered"):
        register_reader(ToyReader())
    with pytest.raises(ValueError, match="'glassbench' is already the fallback reader"):

        class SecondFallback(GlassBenchReader):
            name = "glassbench2"

        register_reader(SecondFallback())
    with pytest.raises(TypeError, match="not a Reader"):
        register_reader(object())
    with pytest.raises(
        ConfigError, match=r"unknown dataset format 'nope'; registered formats: botan, bapst"
    ):
        get_reader("nope")
    with pytest.raises(ConfigError, match="unknown dataset format 'nope'"):
        GlassDataModule(root=str(tmp_path), T=0.5, file_format="nope")
    with pytest.raises(ConfigError, match="unknown dataset format 'nope'"):
        unregister_reader("nope")
    (tmp_path / "a.xyz").write_text("")
    with pytest.raises(DataError, match=r"a.xyz: unknown data file type \(expected .npz or"):
        load(tmp_path / "a.xyz")

    class Greedy(ToyReader):  # claims the toy files too: ambiguous, never silently one of them
        name = "greedy"

    register_reader(Greedy())
    try:
        with pytest.raises(
            DataError, match=r"claimed by several dataset formats \['toy', 'greedy'\]"
        ):
            load(_toy_file(tmp_path / "toy_T0.5_0.npz"))
    finally:
        unregister_reader("greedy")
    assert reader_for(tmp_path / "toy_T0.5_0.npz") is toy
