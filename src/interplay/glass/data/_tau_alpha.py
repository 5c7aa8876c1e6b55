"""The structural relaxation time τα of a dataset, named by the dataset's own time index.

Why: the thesis reads every headline number at t ≈ τα (§2.4.3, Table 2.1, Fig. 2.17), so each
dataset must say which of its time indices that is, and every caller (``time_indices=tau_alpha``,
the models' ``test/pearson_A``, the sweeps' ``optimized_metric``) must get the same answer.
Each reader knows its rule (:meth:`interplay.glass.data.formats.Reader.tau_alpha`):

* ka3d (``interplay-simulate``): the median of the ``tau_alpha`` that the simulation stored in
  each configuration's ``.json`` (F_s(k, τα) = 1/e, docs/ka_data.md); the grid time closest in
  log time is the τα index.
* GlassBench at T = 0.44: t = 4120 (Jung et al. roadmap grid; DESIGN.md).
* Shiba / BOTAN: ``tc07`` (the GlassBench time 4120 at T = 0.44).
* Bapst et al.: the time index whose ``is_values`` (F_s at that index) is 1/e; when none is,
  log t is interpolated linearly in F_s between the two indices that bracket 1/e, and the index
  closest in log time to that τα is taken.

A model reports at the τα index when it is among the selected timescales; otherwise (a
uni-variate run at another index) at the selected index closest in log time
(:func:`tau_alpha_column`), and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: F_s(k, τα) = 1/e defines τα (thesis §2.4.1).
FS_AT_TAU_ALPHA = math.exp(-1.0)


@dataclass(frozen=True)
class TauAlpha:
    """τα of a dataset: its time ``index``, the ``time`` of that index (LJ units, NaN where the
    grid does not say), the ``estimate`` of τα itself (NaN where only the index is known) and
    the ``rule`` that found it (for logs)."""

    index: int
    time: float
    estimate: float
    rule: str


def nearest_in_log_time(
    times: Sequence[float], target: float, indices: Sequence[int] = (), target_index: int = 0
) -> int:
    """Position in ``times`` closest to ``target`` in log time; by index distance to
    ``target_index`` among ``indices`` when times or target are unknown (NaN / not positive)."""
    t = np.asarray(times, dtype=np.float64)
    ok = np.isfinite(t) & (t > 0)
    if ok.any() and np.isfinite(target) and target > 0:
        dist = np.where(ok, np.abs(np.log(np.where(ok, t, 1.0)) - math.log(target)), np.inf)
        return int(np.argmin(dist))
    if len(indices) != len(t):
        raise ValueError("nearest_in_log_time: times unknown and no indices to compare")
    return int(np.argmin(np.abs(np.asarray(indices) - target_index)))


def tau_alpha_from_time(
    time_indices: Sequence[int], times: Sequence[float], estimate: float, rule: str
) -> TauAlpha:
    """The dataset index closest in log time to a τα ``estimate`` (LJ units)."""
    k = nearest_in_log_time(times, estimate)
    return TauAlpha(int(time_indices[k]), float(times[k]), float(estimate), rule)


def tau_alpha_from_fs(
    time_indices: Sequence[int], times: Sequence[float], fs: Sequence[float]
) -> TauAlpha | None:
    """τα where F_s (``fs``, one value per time index) crosses 1/e (the Bapst rule, module doc);
    ``None`` when F_s never crosses 1/e on the grid."""
    fs = np.asarray(fs, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    if fs.size != t.size or fs.size == 0:
        return None
    exact = np.flatnonzero(np.abs(fs - FS_AT_TAU_ALPHA) < 1e-6)
    if exact.size:
        k = int(exact[0])
        rule = "F_s(is_values) = 1/e at this index"
        return TauAlpha(int(time_indices[k]), float(t[k]), float(t[k]), rule)
    order = np.argsort(t)
    f, ts = fs[order], t[order]
    for a, b in zip(range(len(f) - 1), range(1, len(f)), strict=True):
        if f[a] >= FS_AT_TAU_ALPHA > f[b]:
            w = (f[a] - FS_AT_TAU_ALPHA) / (f[a] - f[b])
            tau = float(np.exp((1 - w) * np.log(ts[a]) + w * np.log(ts[b])))
            rule = "F_s(is_values) = 1/e, log t interpolated between the bracketing indices"
            return tau_alpha_from_time(time_indices, t, tau, rule)
    return None


def tau_alpha_column(
    time_indices: Sequence[int],
    tau_alpha_index: int | None,
    times: Sequence[float] | None = None,
    tau_alpha: float = float("nan"),
) -> tuple[int, bool]:
    """``(column, selected)``: the column of ``time_indices`` (the selected timescales) that
    stands for τα. ``selected`` is False when τα is not among them: then the column closest in
    log time to ``tau_alpha`` (by index distance where times are unknown); column 0 when the
    dataset does not know its τα (``tau_alpha_index`` None)."""
    idx = [int(t) for t in time_indices]
    if tau_alpha_index is None:
        return 0, False
    if int(tau_alpha_index) in idx:
        return idx.index(int(tau_alpha_index)), True
    t = list(times) if times is not None and len(times) == len(idx) else [math.nan] * len(idx)
    return nearest_in_log_time(t, tau_alpha, idx, int(tau_alpha_index)), False
