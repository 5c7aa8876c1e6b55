"""Train / validation / test split of the glass configurations (thesis §2.4.3).

400 train / 320 validation / 80 test of 800, proportionally for smaller sets; when the dataset
ships train/ and test/, the test set is test/ and the validation set is carved out of train/ in
the ratio 320:400. Used by :class:`interplay.glass.data.GlassDataModule`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interplay.core import ConfigError

THESIS_SPLIT = (400, 320, 80)


def split_counts(n: int, has_test_dir: bool, n_test_dir: int = 0) -> tuple[int, int, int]:
    """(train, val, test) sizes: the thesis 400/320/80 proportions, at least one each."""
    a, b, c = THESIS_SPLIT
    if has_test_dir:
        n_val = int(round(n * b / (a + b)))
        n_val = min(max(n_val, 1 if n >= 2 else 0), n - 1) if n >= 1 else 0
        return n - n_val, n_val, n_test_dir
    n_test = max(int(round(n * c / (a + b + c))), 1 if n >= 3 else 0)
    n_val = max(int(round(n * b / (a + b + c))), 1 if n >= 3 else 0)
    return n - n_val - n_test, n_val, n_test


def split_units(
    units: dict[str, list[list[Path]]],
    seed: int,
    max_configs: int | None = None,
    train_size: int | None = None,
    val_size: int | None = None,
) -> dict[str, list[list[Path]]]:
    """Split the discovered ``{"train": [unit...], "test": [...]}`` into train / val / test.

    ``seed`` draws the split; ``max_configs``, ``train_size`` and ``val_size`` are the options
    ``data.max_configs``, ``data.n_train`` and ``data.n_val`` of
    :class:`interplay.glass.data._datamodule.GlassDataModule`.
    """
    rng = np.random.default_rng(seed)
    train = list(units.get("train", []))
    test = list(units.get("test", []))
    if max_configs is not None:
        train = train[:max_configs]
        test = test[: max(1, max_configs // 4)] if test else test
    if test and train:
        pool, (n_tr, n_val, _) = train, split_counts(len(train), True, len(test))
    else:
        pool = train or test
        n_tr, n_val, _ = split_counts(len(pool), False)
    if val_size is not None:  # e.g. keep 1 of BOTAN's 10 training files for validation
        if val_size >= n_tr + n_val:
            raise ConfigError(
                f"data.n_val={val_size} leaves no training configuration "
                f"({n_tr + n_val} available for train + val)."
            )
        n_tr, n_val = n_tr + n_val - val_size, val_size
    perm = rng.permutation(len(pool))
    val = perm[n_tr : n_tr + n_val]
    held_out = perm[n_tr + n_val :]
    train_idx = perm[:n_tr]
    if train_size is not None:  # nested subsets (learning curve): same val / test sets
        if train_size > n_tr:
            raise ConfigError(
                f"data.n_train={train_size} exceeds the {n_tr} training configurations "
                "of this split; lower it (or data.n_val)."
            )
        train_idx = train_idx[:train_size]
    return {
        "train": [pool[i] for i in sorted(train_idx)],
        "val": [pool[i] for i in sorted(val)],
        "test": test if test and train else [pool[i] for i in sorted(held_out)],
    }
