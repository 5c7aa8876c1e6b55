"""AD CIFAR-10 on a tiny fixture written in the real python-pickle batch format."""

import json
import os
import pickle

import numpy as np
import pytest
from helpers import compose_config
from hydra.utils import instantiate

from interplay.core import ConfigError, DataError
from interplay.imbalance.data import CIFAR10AnomalyDataModule, torchvision_available
from interplay.imbalance.data import _cifar as cifar
from interplay.runs import train_and_test as run

PER_CLASS_PER_BATCH = 4  # 5 batches -> 20 training images per class, 200 in all
TEST_PER_CLASS = 10


def _image(index: int, label: int) -> np.ndarray:
    """A 3072-byte image whose first pixels encode its index and class (R, G, B planes)."""
    rng = np.random.default_rng(index)
    img = rng.integers(0, 256, 3072, dtype=np.uint8)
    img[0], img[1], img[1024] = index % 256, index // 256, label * 20  # R[0], R[1], G[0]
    return img


def _dump(path, obj) -> None:
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=2)  # the official files are Python 2 cPickle


def write_cifar_fixture(root) -> dict:
    """``root/cifar-10-batches-py`` with data_batch_1..5, test_batch and batches.meta."""
    folder = root / cifar.BATCH_DIR
    folder.mkdir(parents=True)
    index, expected = 0, {"train": [], "test": []}
    batches = [*cifar.TRAIN_BATCHES, cifar.TEST_BATCH]
    for name in batches:
        per_class = TEST_PER_CLASS if name == cifar.TEST_BATCH else PER_CLASS_PER_BATCH
        labels = [c for _ in range(per_class) for c in range(10)]
        data = np.stack([_image(index + i, c) for i, c in enumerate(labels)])
        index += len(labels)
        _dump(
            folder / name,
            {
                b"batch_label": name.encode(),
                b"labels": labels,
                b"data": data,
                b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))],
            },
        )
        split = "test" if name == cifar.TEST_BATCH else "train"
        expected[split].append((data, np.array(labels)))
    _dump(
        folder / cifar.META,
        {
            b"label_names": [n.encode() for n in cifar.CLASSES],
            b"num_cases_per_batch": 40,
            b"num_vis": 3072,
        },
    )
    return {
        k: (np.concatenate([d for d, _ in v]), np.concatenate([y for _, y in v]))
        for k, v in expected.items()
    }


@pytest.fixture
def cifar_root(tmp_path):
    root = tmp_path / "cifar10"
    expected = write_cifar_fixture(root)
    return root, expected


def test_pickle_reader_returns_the_batches(cifar_root):
    root, expected = cifar_root
    for train, split in ((True, "train"), (False, "test")):
        x, y = cifar.read_pickle_split(root, train)
        assert x.dtype == np.uint8 and x.shape == (len(expected[split][1]), 3072)
        np.testing.assert_array_equal(x, expected[split][0])
        np.testing.assert_array_equal(y, expected[split][1])
    assert cifar.read_class_names(root) == cifar.CLASSES


def test_datamodule_subsamples_airplanes_at_rho_train(cifar_root):
    root, expected = cifar_root
    reader = "pickle" if torchvision_available() else "auto"  # auto = pickle without torchvision
    dm = CIFAR10AnomalyDataModule(
        root=str(root), reader=reader, n_train=50, rho_train=0.2, n_resamplings=3, seed=4
    )
    assert dm.rho0 == 0.1 and dm.anomaly_class == 0
    dm.setup()
    assert (dm.train_y.sum(dim=1) == 10).all()
    # pixels stay in CIFAR's channel-first layout; labels follow the image
    pixels = dm._pixels[dm.train_index]  # (K, n_train, 3072)
    is_airplane = pixels[..., 1024] == 0  # G[0] encodes the class (airplane = 0)
    assert (is_airplane.float() == dm.train_y).all()
    x_train = expected["train"][0]
    row = int(pixels[0, 0, 0]) + 256 * int(pixels[0, 0, 1])  # the image's index
    np.testing.assert_array_equal(pixels[0, 0].numpy(), x_train[row])
    # balanced test set: the 10 test airplanes + 10 others; intrinsic: the 100 test images
    assert len(dm.test_y["test"]) == 20 and dm.test_y["test"].sum() == 10
    assert len(dm.test_y["test_intrinsic"]) == 100 and dm.rho_test_intrinsic == 0.1
    assert dm.model_kwargs()["image_shape"] == [3, 32, 32]


def test_anomaly_class_by_name_or_index_and_unknown(cifar_root):
    root, _ = cifar_root
    assert CIFAR10AnomalyDataModule(root=str(root), anomaly_class="ship").anomaly_class == 8
    assert CIFAR10AnomalyDataModule(root=str(root), anomaly_class=3).anomaly_class == 3
    with pytest.raises(ConfigError, match="data.anomaly_class='unicorn'.*airplane"):
        CIFAR10AnomalyDataModule(root=str(root), anomaly_class="unicorn")


def test_training_size_beyond_the_dataset_is_rejected(cifar_root):
    root, _ = cifar_root
    # against CIFAR-10's 5000 airplanes, before any file is read
    with pytest.raises(ConfigError, match="needs 5400 anomalies.*only 5000"):
        CIFAR10AnomalyDataModule(root="/nonexistent", n_train=6000, rho_train=0.9)
    # against the files actually present (20 airplanes in the fixture)
    dm = CIFAR10AnomalyDataModule(root=str(root), reader="pickle", n_train=50, rho_train=0.5)
    with pytest.raises(ConfigError, match="needs 25 anomalies.*only 20.*<= 40"):
        dm.setup()


def test_missing_files_say_what_to_download(tmp_path):
    dm = CIFAR10AnomalyDataModule(root=str(tmp_path), reader="pickle", n_train=50)
    with pytest.raises(DataError, match="data_batch_1 is missing.*cifar-10-python.tar.gz"):
        dm.setup()


@pytest.mark.skipif(torchvision_available(), reason="torchvision is installed")
def test_without_torchvision_errors_say_what_to_install(cifar_root):
    root, _ = cifar_root
    with pytest.raises(DataError, match="pip install torchvision"):
        cifar.load_cifar10(root, reader="torchvision")
    with pytest.raises(DataError, match="download=true needs torchvision"):
        cifar.load_cifar10(root, reader="auto", download=True)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_reader_refuses_pickles_that_run_code(cifar_root):
    root, _ = cifar_root
    _dump(root / cifar.BATCH_DIR / "data_batch_3", {b"data": _Exploit(), b"labels": [0]})
    with pytest.raises(DataError, match="not allowed"):
        cifar.read_pickle_split(root, train=True)


@pytest.mark.parametrize(
    "model",
    [
        ["model=mlp"],
        [
            "model=resnet_probe",
            "model.arch=tiny",
            "model.pretrained=false",
            "model.image_size=null",
        ],
    ],
)
def test_fig1_9_cifar_models_train_on_the_fixture(cifar_root, tmp_path, model):
    root, _ = cifar_root
    cfg = compose_config(
        [
            "experiment=fig1_9_cifar",
            *model,
            f"data.root={root}",
            "data.reader=pickle",
            "data.n_train=40",
            "data.rho_train=0.25",
            "trainer.max_epochs=2",
            "logger=csv",
        ],
        output_dir=tmp_path,
    )
    assert cfg.hydra.sweeper.params["seed"] == "range(0,10)"
    instantiate(cfg.data)  # composes into the real DataModule
    run(cfg)
    results = json.loads((tmp_path / "results.json").read_text())
    for key in ("test/balanced_accuracy", "test/roc_auc", "test_intrinsic/roc_auc"):
        assert 0.0 <= results[key] <= 1.0
    assert results["rho_train"] == 0.25
