"""CIFAR-10 readers: torchvision when installed, else the python-pickle batches read directly.

The official "CIFAR-10 python version" (https://www.cs.toronto.edu/~kriz/cifar.html) extracts
to ``<root>/cifar-10-batches-py/`` with ``data_batch_1`` ... ``data_batch_5`` (training split,
50000 images), ``test_batch`` (10000 images) and ``batches.meta``. Each batch is a pickled dict
with ``b"data"`` (uint8, shape (n, 3072): the 1024 red, then green, then blue pixels of a 32x32
image, row-major) and ``b"labels"`` (n ints in 0..9); ``batches.meta`` holds
``b"label_names"``. torchvision's ``CIFAR10`` reads exactly these files.

The built-in reader unpickles with an allow-list (numpy arrays and plain containers only), so a
tampered batch file cannot run code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interplay.core import DataError, check_choice, load_array_pickle

BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SHAPE = (3, 32, 32)
TRAIN_PER_CLASS = 5000  # the official training split is balanced: rho0 = 1/10 for any class
#: per-channel pixel mean / std of the official training split (pixels scaled to [0, 1])
PIXEL_MEAN = (0.4914, 0.4822, 0.4465)
PIXEL_STD = (0.2470, 0.2435, 0.2616)
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
READERS = ("auto", "torchvision", "pickle")


def torchvision_available() -> bool:
    """Whether torchvision is installed (an optional dependency: ``pip install -e '.[vision]'``).

    Lives with the data because the CIFAR reader is its lowest user; the ResNet builder of
    :mod:`interplay.imbalance.models` asks the same function.
    """
    try:
        import torchvision  # noqa: F401
    except ImportError:
        return False
    return True


def _missing_message(root: Path, missing: Path) -> str:
    return (
        f"CIFAR-10 not found: {missing} is missing (data.root={root}). Download the python "
        f"version {URL} and extract it into data.root (`tar -xzf cifar-10-python.tar.gz -C "
        f"{root}`, which creates {BATCH_DIR}/), or `pip install torchvision` and set "
        "data.download=true."
    )


def read_batch(path: Path) -> dict:
    """One pickled batch file as a dict with bytes keys (``b"data"``, ``b"labels"``, ...)."""
    try:
        batch = load_array_pickle(path, encoding="bytes")
    except DataError as err:  # truncated file, wrong format, disallowed global
        raise DataError(
            f"{path} is not a CIFAR-10 python batch ({err.__cause__}). "
            f"Re-extract {URL} into data.root."
        ) from err
    if not isinstance(batch, dict):
        raise DataError(f"{path} holds a {type(batch).__name__}, not a CIFAR-10 batch dict.")
    return batch


def _batch_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = read_batch(path)
    if b"data" not in batch or b"labels" not in batch:
        raise DataError(
            f"{path} lacks b'data' or b'labels' (keys: {sorted(batch)}): not a CIFAR-10 batch "
            "(CIFAR-100 files use b'fine_labels')."
        )
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != int(np.prod(IMAGE_SHAPE)):
        raise DataError(
            f"{path}: b'data' must be uint8 of shape (n, 3072), got {data.dtype} {data.shape}."
        )
    if labels.shape != (data.shape[0],) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise DataError(f"{path}: b'labels' must hold {data.shape[0]} ints in 0..9.")
    return data, labels


def read_pickle_split(root: str | Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 3072) uint8 (channel-first) and labels (n,) of one split, without torchvision."""
    root = Path(root)
    folder = root / BATCH_DIR
    files = TRAIN_BATCHES if train else (TEST_BATCH,)
    parts = []
    for name in files:
        path = folder / name
        if not path.is_file():
            raise DataError(_missing_message(root, path))
        parts.append(_batch_arrays(path))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def read_class_names(root: str | Path) -> tuple[str, ...]:
    """``label_names`` of ``batches.meta`` (the ten CIFAR-10 class names)."""
    root = Path(root)
    path = root / BATCH_DIR / META
    if not path.is_file():
        raise DataError(_missing_message(root, path))
    names = read_batch(path).get(b"label_names")
    if names is None:
        raise DataError(f"{path} lacks b'label_names'.")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def read_torchvision_split(
    root: str | Path, train: bool, download: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The same arrays through ``torchvision.datasets.CIFAR10`` (checks the files' md5)."""
    from torchvision.datasets import CIFAR10

    try:
        dataset = CIFAR10(str(root), train=train, download=download)
    except RuntimeError as err:  # "Dataset not found or corrupted"
        raise DataError(f"{err} {_missing_message(Path(root), Path(root) / BATCH_DIR)}") from err
    images = np.asarray(dataset.data, dtype=np.uint8)  # (n, 32, 32, 3) channel-last
    images = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return np.ascontiguousarray(images), np.asarray(dataset.targets, dtype=np.int64)


def load_cifar10(
    root: str | Path, reader: str = "auto", download: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)``: uint8 images (n, 3072) and int labels.

    ``reader``: ``auto`` (torchvision when installed, else the built-in pickle reader),
    ``torchvision`` or ``pickle``. ``download`` needs torchvision.
    """
    check_choice("data.reader", reader, READERS)
    has_torchvision = torchvision_available()
    if reader == "torchvision" and not has_torchvision:
        raise DataError(
            "data.reader=torchvision but torchvision is not installed: `pip install torchvision` "
            "(or `pip install -e '.[vision]'`), or set data.reader=pickle to read the python "
            f"batches of {URL} directly."
        )
    if download and not has_torchvision:
        raise DataError(
            "data.download=true needs torchvision (`pip install torchvision`). Without it, "
            f"download {URL} yourself and extract it into data.root={root}."
        )
    use_torchvision = reader == "torchvision" or (reader == "auto" and has_torchvision)
    if use_torchvision:
        return (
            *read_torchvision_split(root, True, download),
            *read_torchvision_split(root, False, False),
        )
    return (*read_pickle_split(root, True), *read_pickle_split(root, False))
