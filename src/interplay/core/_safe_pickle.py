"""Unpickling research data without running code from it.

``pickle.load`` calls whatever global a file names (``os.system``, ``builtins.exec`` ...), so a
crafted or tampered data file runs arbitrary code the moment it is read. Datasets distributed
as pickles (Bapst et al. 2020, the CIFAR-10 python batches) only need numpy arrays, numpy
dtypes / scalars and builtin containers; :class:`ArrayUnpickler` admits exactly those globals
and refuses every other one *before* it is called.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from interplay.core._errors import DataError

#: (module, name) of every global an array pickle needs: numpy 1.x and 2.x module paths.
ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # bytes pickled by Python 3 with protocol 2
    }
)


class ArrayUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays, dtypes, scalars and builtin containers."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"global {module}.{name} is not allowed (only numpy arrays and builtin containers "
            "are read from data pickles)"
        )


def load_array_pickle(path: str | Path, encoding: str = "ASCII") -> Any:
    """The object pickled in ``path``, rebuilt by :class:`ArrayUnpickler`.

    Any failure (disallowed global, truncated or foreign file) is a :class:`DataError` that
    names the file; nothing named by the file is ever called.
    """
    try:
        with open(path, "rb") as handle:
            return ArrayUnpickler(handle, encoding=encoding).load()
    except FileNotFoundError:
        raise
    except Exception as exc:  # disallowed global, truncated or foreign pickle
        raise DataError(f"{path}: cannot unpickle safely ({exc})") from exc
