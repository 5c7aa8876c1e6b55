"""Ways of reaching a training class fraction rho: fresh data, under/over-sampling, reweighting.

The thesis varies rho_train by drawing a *fresh* training set with exactly ``round(rho*P)``
positives (``resample``, eq. 1.34). In practice one has *one* data set at its natural
imbalance rho0 (eq. 1.35) and either resamples it or reweights the loss; the thesis's
conclusion notes that under SGD these are not equivalent (issue 19, item 4). The methods here
start from one fixed set drawn at rho0:

* ``undersample``: drop randomly chosen samples of the class that is in excess w.r.t. rho
  (without replacement), keeping every sample of the other class (fewer samples, P' < P);
* ``oversample``: add copies of randomly chosen samples of the class that is short w.r.t. rho
  (with replacement), keeping every original sample (P' > P);
* ``reweight``: keep the data and give every positive the weight rho/rho_d and every negative
  (1 - rho)/(1 - rho_d), rho_d = n_+/P the set's own fraction; the weights average to 1, so the
  loss scale, and with it T_eff = lr/BS, is that of plain training.

**Effective rho**, the same definition for every method: the fraction of positives the loss
sees, in expectation over an epoch, ``sum_{i positive} w_i / sum_i w_i`` with ``w_i`` the
weight of sample i (1 for the resampled sets, duplicates counted once each). Resampled sets
reach ``round(...)`` counts, so their effective rho is the target up to 1/P'; reweighting hits
it exactly.
"""

from __future__ import annotations

import torch

from interplay.core import ConfigError, check_choice, check_open_unit

#: ``imbalance.method`` choices; ``resample`` (fresh data at rho_train) is the thesis's.
METHODS = ("resample", "undersample", "oversample", "reweight")


def check_method(name: str, method: str) -> str:
    """``method`` if it is one of :data:`METHODS`, else a ConfigError naming ``name``."""
    return str(check_choice(name, method, METHODS))


def _class_counts(labels: torch.Tensor) -> tuple[int, int]:
    n_pos = int(labels.sum())
    return n_pos, labels.shape[0] - n_pos


def _need_both(name: str, rho: float, n_pos: int, n_neg: int, method: str) -> None:
    if n_pos < 1 or n_neg < 1:
        raise ConfigError(
            f"{name}={rho:g} with method {method!r} leaves {n_pos} positives and {n_neg} "
            "negatives: the training set would hold one class only. Use a target nearer the "
            "data's own fraction, or more training samples (alpha * N)."
        )


def rebalance_indices(
    labels: torch.Tensor, rho: float, method: str, generator: torch.Generator
) -> torch.Tensor:
    """Indices into ``labels`` (0/1, one data set) of its under- or over-sampled version.

    ``undersample``: all samples of the short class plus ``round(...)`` of the excess class
    drawn without replacement; ``oversample``: every sample plus copies of the short class
    drawn with replacement, so that positives / total = rho up to rounding (the module
    docstring defines this effective rho). Returns sorted indices (SGD permutes anyway).
    """
    rho = check_open_unit("data.rho_train", rho)
    n_pos, n_neg = _class_counts(labels)
    pos, neg = labels.nonzero().squeeze(1), (labels == 0).nonzero().squeeze(1)
    more_pos = rho * (n_pos + n_neg) > n_pos  # the target has more positives than the data
    if method == "undersample":
        if more_pos:  # keep every positive, n_neg' = n_pos (1 - rho) / rho
            keep_pos, keep_neg = n_pos, round(n_pos * (1 - rho) / rho)
        else:
            keep_pos, keep_neg = round(n_neg * rho / (1 - rho)), n_neg
        _need_both("data.rho_train", rho, keep_pos, keep_neg, method)
        pick_pos = pos[torch.randperm(n_pos, generator=generator)[:keep_pos]]
        pick_neg = neg[torch.randperm(n_neg, generator=generator)[:keep_neg]]
        return torch.cat([pick_pos, pick_neg]).sort().values
    if method == "oversample":
        short, n_short, n_long, frac = (
            (pos, n_pos, n_neg, rho) if more_pos else (neg, n_neg, n_pos, 1 - rho)
        )
        extra = round(n_long * frac / (1 - frac)) - n_short
        _need_both("data.rho_train", rho, n_pos, n_neg, method)
        copies = short[torch.randint(n_short, (max(extra, 0),), generator=generator)]
        return torch.cat([torch.arange(labels.shape[0]), copies]).sort().values
    raise ConfigError(f"rebalance_indices: method {method!r} is not undersample or oversample.")


def class_weights(labels: torch.Tensor, rho: float) -> torch.Tensor:
    """Per-sample loss weights (float32) that make the effective class fraction ``rho``.

    Positives weigh rho/rho_d, negatives (1 - rho)/(1 - rho_d), rho_d = n_+/P: the weights
    average to 1 over the set, and rho = rho_d gives weights of exactly 1 (plain training).
    """
    rho = check_open_unit("data.rho_train", rho)
    n_pos, n_neg = _class_counts(labels)
    _need_both("data.rho_train", rho, n_pos, n_neg, "reweight")
    rho_data = n_pos / labels.shape[0]
    w_pos, w_neg = rho / rho_data, (1 - rho) / (1 - rho_data)
    return torch.where(labels.bool(), w_pos, w_neg).to(torch.float32)


def effective_rho(labels: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """The fraction of positives the loss sees, ``sum_pos w / sum w``, along the last axis."""
    if weights is None:
        return labels.double().mean(dim=-1)
    w = weights.double()
    return (w * labels.double()).sum(dim=-1) / w.sum(dim=-1)
