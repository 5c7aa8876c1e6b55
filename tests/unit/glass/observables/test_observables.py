"""Observables of propensity fields (thesis §2.4.3) against independent implementations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from interplay.glass.observables import (
    chi4,
    evaluate_fields,
    g4,
    mobility_c,
    pearson,
    pearson_per_config,
)


def _fields(n_conf=4, n=60, n_t=3, seed=0):
    rng = np.random.default_rng(seed)
    preds, trues, types, pos, boxes = [], [], [], [], []
    for _ in range(n_conf):
        t = rng.gamma(2.0, 0.25, size=(n, n_t))
        trues.append(t)
        preds.append(0.7 * t + 0.2 * rng.normal(size=t.shape))
        ty = (rng.random(n) < 0.25).astype(int)
        ty[:2] = (0, 1)
        types.append(ty)
        box = np.full(3, 4.0)
        pos.append(rng.random((n, 3)) * box)
        boxes.append(box)
    return preds, trues, types, pos, boxes


def test_pearson_matches_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=200), rng.normal(size=200)
    y = y + x
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], rel=1e-12)
    assert np.isnan(pearson(np.ones(5), np.arange(5)))


def test_pearson_per_config_mean_and_pooled():
    preds, trues, types, _, _ = _fields()
    for k in (0, 1):
        res = pearson_per_config(preds, trues, types, particle_type=k)
        per = np.array(
            [
                [stats.pearsonr(p[ty == k, t], y[ty == k, t])[0] for t in range(3)]
                for p, y, ty in zip(preds, trues, types)
            ]
        )
        np.testing.assert_allclose(res["per_config"], per, rtol=1e-10)
        np.testing.assert_allclose(res["mean"], per.mean(0), rtol=1e-10)
        pp = np.concatenate([p[ty == k] for p, ty in zip(preds, types)])
        yy = np.concatenate([y[ty == k] for y, ty in zip(trues, types)])
        pooled = [stats.pearsonr(pp[:, t], yy[:, t])[0] for t in range(3)]
        np.testing.assert_allclose(res["pooled"], pooled, rtol=1e-10)


def test_mobility_c():
    m = np.array([0.0, 0.44, 10.0])
    np.testing.assert_allclose(mobility_c(m), [(np.tanh(-8.8) + 1) / 2, 0.5, 1.0])


def test_chi4_against_loops():
    _, trues, types, _, _ = _fields(n_conf=6)
    got = chi4(trues, types)
    for t in range(3):
        qs, na = [], []
        for y, ty in zip(trues, types):
            cs = [0.5 * (np.tanh(20 * (y[i, t] - 0.44)) + 1) for i in range(len(y)) if ty[i] == 0]
            qs.append(sum(cs) / len(cs))
            na.append(len(cs))
        qs = np.array(qs)
        ref = np.mean(na) * (np.mean(qs**2) - np.mean(qs) ** 2)
        assert got[t] == pytest.approx(ref, rel=1e-10)


def _g4_naive(positions, boxes, props, types, r_edges, normalization):
    cs = [mobility_c(p[ty == 0]) for p, ty in zip(props, types)]
    cbar = np.concatenate(cs).mean(0)
    out = np.zeros((len(r_edges) - 1, props[0].shape[1]))
    for x, box, ty, c in zip(positions, boxes, types, cs):
        xa = x[ty == 0]
        n_a, vol = len(xa), np.prod(box)
        acc = np.zeros_like(out)
        for i, j in itertools.permutations(range(n_a), 2):
            d = xa[j] - xa[i]
            d = d - box * np.round(d / box)
            r = np.linalg.norm(d)
            for b in range(len(r_edges) - 1):
                if r_edges[b] <= r < r_edges[b + 1]:
                    acc[b] += (c[i] - cbar) * (c[j] - cbar)
        shell = 4 / 3 * np.pi * (r_edges[1:] ** 3 - r_edges[:-1] ** 3)
        pref = vol / n_a if normalization == "thesis" else vol / n_a**2
        out += pref * acc / shell[:, None]
    return out / len(positions)


@pytest.mark.parametrize("normalization", ["thesis", "intensive"])
def test_g4_against_naive_double_loop(normalization):
    preds, trues, types, pos, boxes = _fields(n_conf=2, n=30)
    edges = np.linspace(0.3, 2.0, 6)
    got = g4(pos, boxes, trues, types, edges, normalization=normalization, chunk=7)
    ref = _g4_naive(pos, boxes, trues, types, edges, normalization)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_evaluate_fields_keys():
    preds, trues, types, pos, boxes = _fields()
    obs = evaluate_fields(preds, trues, types, pos, boxes, r_edges=np.linspace(0.5, 2.0, 5))
    for key in ("pearson_A", "pearson_pooled_B", "chi4_true", "chi4_pred", "g4_true", "g4_r"):
        assert key in obs
    assert obs["g4_pred"].shape == (4, 3)
    assert np.all(obs["pearson_A"] > 0.5)
