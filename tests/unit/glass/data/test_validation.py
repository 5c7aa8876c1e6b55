"""Bad data fails at reading, naming file, key and particle (issue 13 items 5, 6 and 7).

Each test corrupts a copy of a real file (../shared/data, the embedded data/ka3d) in tmp_path
and reads it with the package's readers / DataModules.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import BAPST, BOTAN, EMBEDDED_KA3D, compose_config
from omegaconf import OmegaConf

from interplay.core import DataError, load_array_pickle, write_npz
from interplay.glass import data as gio
from interplay.glass.data import KA3DDataModule

needs_botan = pytest.mark.skipif(not BOTAN.is_dir(), reason="shared BOTAN sample missing")
needs_bapst = pytest.mark.skipif(not BAPST.is_dir(), reason="shared Bapst sample missing")
needs_ka3d = pytest.mark.skipif(
    not any(EMBEDDED_KA3D.glob("T0.8/train/*.npz")), reason="embedded dataset missing"
)
BOTAN_FILE = "isoconfig_N4096T0.44_401_tc07.npz"


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as d:
        return {k: d[k] for k in d.files}


def _bapst_dict(name: str) -> dict:
    return load_array_pickle(BAPST / name)


def _dump(path: Path, obj) -> Path:
    with open(path, "wb") as handle:
        pickle.dump(obj, handle)
    return path


# ----------------------------------------------------------------- item 5: NaN / inf labels
@needs_botan
def test_botan_nan_in_one_run_names_file_key_run_and_particle(tmp_path):
    arrays = _arrays(BOTAN / "test" / BOTAN_FILE)
    arrays["positions"][3, 17, 0] = np.nan  # one coordinate of one of the 32 runs
    write_npz(tmp_path / BOTAN_FILE, **arrays)
    with pytest.raises(DataError, match=rf"{BOTAN_FILE}: positions is not finite at run 3, "):
        gio.load(tmp_path / BOTAN_FILE)
    with pytest.raises(DataError, match="particle 17"):
        gio.load_directory(tmp_path)


@needs_bapst
def test_bapst_non_finite_runs_targets_and_positions(tmp_path):
    small = _bapst_dict("test_small.pickle")
    runs = np.array(small["trajectory_target_positions"][2], dtype=np.float64)
    runs[5, 7, 1] = np.inf
    small["trajectory_target_positions"][2] = runs
    path = _dump(tmp_path / "runs.pickle", small)
    with pytest.raises(
        DataError, match=r"trajectory_target_positions\[2\] is not finite at run 5, particle 7"
    ):
        gio.load(path)
    large = _bapst_dict("test_large.pickle")
    large["targets"] = np.array(large["targets"], dtype=np.float64)
    large["targets"][4][123] = np.nan  # time index without runs: the label is the target
    path = _dump(tmp_path / "targets.pickle", large)
    with pytest.raises(DataError, match=r"targets\[4\] is not finite at particle 123"):
        gio.load(path)
    large = _bapst_dict("test_large.pickle")
    large["targets"] = np.array(large["targets"], dtype=np.float64)
    large["targets"][4][9] = -0.5  # a propensity (mean |dr|, eq. 2.17) is never negative
    with pytest.raises(DataError, match=r"targets\[4\] is below 0.0 at particle 9"):
        gio.load(_dump(tmp_path / "negative.pickle", large))
    small = _bapst_dict("test_small.pickle")
    small["positions"] = np.array(small["positions"], dtype=np.float64)
    small["positions"][11, 2] = np.nan
    with pytest.raises(DataError, match=r"positions is not finite at particle 11, xyz 2"):
        gio.load(_dump(tmp_path / "pos.pickle", small))


@needs_ka3d
def test_glassbench_ka3d_bad_labels_and_energies(tmp_path):
    src = sorted(EMBEDDED_KA3D.glob("T0.8/train/*.npz"))[0]
    for key, index, value, message in (
        ("md_prop", (2, 10), np.nan, "md_prop is not finite at row 2, particle 10"),
        ("md_prop", (0, 3), -1.0, "md_prop is below 0.0 at row 0, particle 3"),
        ("initial_positions", (5, 1), np.inf, "initial_positions is not finite at particle 5"),
        ("epot_inherent", (8,), np.nan, "epot_inherent is not finite at particle 8"),
    ):
        arrays = _arrays(src)
        arrays[key][index] = value
        write_npz(tmp_path / src.name, **arrays)
        with pytest.raises(DataError, match=rf"{src.name}: {message}"):
            gio.load(tmp_path / src.name)


# ----------------------------------------------------------------- item 6: geometry
@needs_botan
def test_botan_positions_of_another_box_are_refused(tmp_path):
    arrays = _arrays(BOTAN / "test" / BOTAN_FILE)
    subset = {  # the first 1000 particles of the 4096: the name implies a 9.41 box, not 15.06
        "types": arrays["types"][:1000],
        "initial_positions": arrays["initial_positions"][:1000],
        "positions": arrays["positions"][:, :1000],
    }
    name = "isoconfig_N1000T0.44_401_tc07.npz"
    write_npz(tmp_path / name, **subset)
    with pytest.raises(DataError, match=rf"{name}: initial_positions span 1[45]\.\d+ along"):
        gio.load(tmp_path / name)
    stretched = dict(arrays)  # positions of a box 10 % larger than N / rho = 1.2 implies
    stretched["initial_positions"] = 1.1 * arrays["initial_positions"]
    write_npz(tmp_path / BOTAN_FILE, **stretched)
    with pytest.raises(DataError, match="do not belong to this box"):
        gio.load(tmp_path / BOTAN_FILE)


def _ka3d_copy(root: Path, box_factor: float) -> Path:
    """The embedded T = 0.8 data with the box of its first training file rescaled."""
    for split in ("train", "test"):
        files = sorted((EMBEDDED_KA3D / "T0.8" / split).glob("*.npz"))[:2]
        for f in files:
            arrays = _arrays(f)
            if f == files[0] and split == "train":
                arrays["box"] = box_factor * arrays["box"]
            write_npz(root / "T0.8" / split / f.name, **arrays)
    return sorted((root / "T0.8" / "train").glob("*.npz"))[0]


@needs_ka3d
@pytest.mark.parametrize(
    ("factor", "checks", "message"),
    [
        (0.8, {}, "span .* do not belong to this box"),  # positions wider than the box: reader
        (1.5, {}, "number density N/V = 1000/"),  # box larger than its positions
        # 3 % too small: within the span tolerance, but folding puts particles on top of others
        (0.97, {"density": None}, r"particles \d+ and \d+ of positions are 0\.\d+ apart"),
    ],
)
def test_ka3d_box_that_disagrees_with_positions(tmp_path, factor, checks, message):
    bad = _ka3d_copy(tmp_path / "ka3d", factor)
    if factor < 0.9:
        with pytest.raises(DataError, match=message):
            gio.load(bad)
    dm = KA3DDataModule(root=str(tmp_path / "ka3d"), T=0.8, cache=False, **checks)
    with pytest.raises(DataError, match=rf"{bad.name}: .*{message}"):
        dm.setup()


@needs_ka3d
def test_unchanged_ka3d_copy_passes_the_checks(tmp_path):
    _ka3d_copy(tmp_path / "ka3d", 1.0)
    dm = KA3DDataModule(root=str(tmp_path / "ka3d"), T=0.8, cache=False)
    dm.setup()
    assert sum(len(v) for v in dm.graphs.values()) == 4


def test_se3gnn_bessel_cutoff_follows_the_graph_cutoff():
    """data.cutoff=3.0 alone must not leave the Bessel basis at r_c = 2 (aliased, eq. 2.66)."""
    cfg = compose_config(["data=ka3d", "model=se3gnn_small", "data.cutoff=3.0"])
    r_cut = OmegaConf.select(cfg, "model.net.r_cut", default=None)
    r_cut = cfg.model.r_cut if r_cut is None else r_cut
    assert r_cut == 3.0
    default = compose_config(["data=ka3d", "model=se3gnn"])
    assert default.data.cutoff == 2.0


# ----------------------------------------------------------------- item 7: no code from data
class _Evil:
    """Unpickling this calls ``open(marker, "w")``: creates a file, as an exploit would."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@needs_bapst
def test_crafted_bapst_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    d = _bapst_dict("test_small.pickle")
    d["metadata"] = {"temperature": 0.44, "payload": _Evil(marker)}
    path = _dump(tmp_path / "aggregated_data_0.pickle", d)
    with pytest.raises(DataError, match=r"aggregated_data_0.pickle: cannot unpickle safely .*"
                       r"io.open is not allowed"):  # fmt: skip
        gio.load(path)
    assert not marker.exists()


@needs_ka3d
def test_tampered_graph_cache_is_ignored_and_rebuilt_without_running_code(tmp_path):
    _ka3d_copy(tmp_path / "ka3d", 1.0)
    kw = dict(root=str(tmp_path / "ka3d"), T=0.8, cache_dir=str(tmp_path / "cache"))
    dm = KA3DDataModule(**kw)
    dm.setup()
    path = dm.cache_path()
    assert path.exists()
    blob = torch.load(path, weights_only=True)  # plain tensors and containers only
    assert blob["version"] == 3 and blob["graphs"]["test"][0]["name"] == dm.graphs["test"][0].name
    marker = tmp_path / "pwned"
    torch.save({"graphs": _Evil(marker), "epot_stats": None}, path)
    again = KA3DDataModule(**kw)
    again.setup()
    assert not marker.exists()
    for split, graphs in dm.graphs.items():
        for g, h in zip(graphs, again.graphs[split], strict=True):
            assert g.name == h.name
            for key in ("x", "pos", "box", "node_type", "edge_index", "edge_vec", "y"):
                torch.testing.assert_close(g[key], h[key])
    torch.load(path, weights_only=True)  # rewritten as a valid cache
    path.write_bytes(b"garbage")  # unreadable: rebuilt as well
    third = KA3DDataModule(**kw)
    third.setup()
    assert len(third.graphs["test"]) == len(dm.graphs["test"])


@needs_bapst
def test_real_bapst_pickles_still_load():
    for name in ("test_small.pickle", "test_large.pickle"):
        c = gio.load(BAPST / name)
        assert np.isfinite(c.propensity).all() and c.temperature == 0.44
