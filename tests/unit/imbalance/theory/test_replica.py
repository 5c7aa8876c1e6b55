"""Replica theory of the imbalanced teacher-student perceptron (interplay.imbalance.theory)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, compose_config, run_script
from scipy.integrate import dblquad, quad
from scipy.optimize import brentq
from scipy.special import log_ndtr, ndtr
from scipy.stats import multivariate_normal

from interplay.core import ConfigError, ConvergenceError
from interplay.imbalance.data import intrinsic_imbalance
from interplay.imbalance.solve import run
from interplay.imbalance.theory import (
    ControlParams,
    CurveSolver,
    RSFreeEnergy,
    bvn_cdf,
    curve_argmax,
    curve_root,
    gauss_average_nodes,
    generalization_metrics,
    solve_from,
    solve_grid,
    solve_saddle_point,
)

# ---------------------------------------------------------------------------------------------
# Integrals: the reduction to one dimension, the gradient, accuracy as R -> 1
# ---------------------------------------------------------------------------------------------


def _state(q, R):
    kappa = R / math.sqrt(q)
    return q, 1.0 - q, kappa, (1 - kappa) * (1 + kappa)


def test_energetic_term_equals_the_double_integral_of_eqs_1_78_1_79():
    p = ControlParams(alpha=1.1, T=0.5, b0=-0.6, rho_train=0.3)
    q, R, b = 0.5, 0.45, -0.4
    fe = RSFreeEnergy(p)
    beta, c_plus = 1.0 / p.T, intrinsic_imbalance(p.b0)

    def h_u(y, t):  # H(u), u = (t sqrt(q-R^2) - yR - b)/sqrt(1-q)
        return ndtr(-(t * math.sqrt(q - R * R) - y * R - b) / math.sqrt(1 - q))

    def dens(y, t):
        return math.exp(-0.5 * (y * y + t * t)) / (2 * math.pi)

    eb = math.exp(-beta)
    g_plus = dblquad(
        lambda t, y: dens(y, t) * math.log(eb + (1 - eb) * h_u(y, t)),
        -p.b0,
        12,
        -12,
        12,
        epsabs=1e-12,
        epsrel=1e-10,
    )[0]
    g_minus = dblquad(
        lambda t, y: dens(y, t) * math.log((eb - 1) * h_u(y, t) + 1),
        -12,
        -p.b0,
        -12,
        12,
        epsabs=1e-12,
        epsrel=1e-10,
    )[0]
    expected = p.alpha * (
        p.rho_train / c_plus * g_plus + (1 - p.rho_train) / (1 - c_plus) * g_minus
    )
    assert fe.energetic(*_state(q, R), b) == pytest.approx(expected, rel=1e-8, abs=1e-10)


def test_gradient_matches_finite_differences():
    p = ControlParams(alpha=2.0, T=0.3, b0=-0.8, rho_train=0.4)
    fe = RSFreeEnergy(p)
    q, R, b, h = 0.6, 0.5, -0.5, 1e-5

    def energy(qq, rr, bb):
        return fe.energetic(*_state(qq, rr), bb)

    t = fe.gradient_terms(*_state(q, R), b)
    assert t["dE_dq"] == pytest.approx(
        (energy(q + h, R, b) - energy(q - h, R, b)) / (2 * h), rel=1e-6
    )
    assert t["dE_dR"] == pytest.approx(
        (energy(q, R + h, b) - energy(q, R - h, b)) / (2 * h), rel=1e-6
    )
    assert t["dE_db"] == pytest.approx(
        (energy(q, R, b + h) - energy(q, R, b - h)) / (2 * h), rel=1e-6
    )


@pytest.mark.parametrize("one_minus_q", [1e-3, 1e-6, 1e-9])
def test_step_resolving_quadrature_matches_adaptive_quad_as_R_to_1(one_minus_q):
    """As R -> 1 the teacher and student steps sharpen; the panels follow them, a fixed
    Gauss-Hermite grid does not."""
    b0, b, T, rho = -0.6, -0.58, 0.2, 0.4
    p = ControlParams(alpha=5.0, T=T, b0=b0, rho_train=rho)
    fe = RSFreeEnergy(p)
    q = 1.0 - one_minus_q
    R = math.sqrt(q) * (1.0 - 0.3 * one_minus_q)  # q - R^2 ~ (1 - q): both steps sharp
    state = _state(q, R)
    kappa, omk2 = state[2], state[3]
    beta, eb = 1.0 / T, math.exp(-1.0 / T)

    def integrand(z):
        g = (b0 + kappa * z) / math.sqrt(omk2)
        a = (math.sqrt(q) * z + b) / math.sqrt(one_minus_q)
        lp = np.logaddexp(-beta, math.log1p(-eb) + log_ndtr(a))
        lm = np.logaddexp(-beta, math.log1p(-eb) + log_ndtr(-a))
        w = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return w * (fe.a_plus * ndtr(g) * lp + fe.a_minus * ndtr(-g) * lm)

    # adaptive quad on panels that bracket both steps at their own widths (quad given only
    # the two step locations misses them: it returns a wrong value with a tiny error estimate)
    zt, wt = -b0 / kappa, math.sqrt(omk2) / kappa
    zs, ws = -b / math.sqrt(q), math.sqrt(one_minus_q / q)
    edges = sorted(
        {
            -12.0,
            12.0,
            *(zt + wt * k for k in range(-30, 31)),
            *(zs + ws * k for k in range(-30, 31)),
        }
    )
    ref = sum(
        quad(integrand, lo, hi, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
        for lo, hi in zip(edges[:-1], edges[1:])
    )
    assert fe.energetic(*state, b) == pytest.approx(ref, rel=1e-9, abs=1e-12)
    if one_minus_q <= 1e-6:  # a fixed 100-node Gauss-Hermite rule is visibly wrong here
        x, w = np.polynomial.hermite_e.hermegauss(100)
        gh = float(
            np.dot(
                w / math.sqrt(2 * math.pi),
                [integrand(z) / (math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)) for z in x],
            )
        )
        assert abs(gh - ref) > 1e3 * abs(fe.energetic(*state, b) - ref)


def test_gauss_average_nodes_integrate_a_narrow_step():
    z, w = gauss_average_nodes([(0.3, 1e-10)])
    assert np.sum(w) == pytest.approx(1.0, abs=1e-14)
    assert np.dot(w, ndtr((z - 0.3) / 1e-10)) == pytest.approx(ndtr(-0.3), rel=1e-12)


def test_bivariate_normal_cdf_against_scipy_and_limits():
    rng = np.random.default_rng(0)
    h, k, r = rng.normal(size=20), rng.normal(size=20), rng.uniform(-0.95, 0.95, size=20)
    ours = bvn_cdf(h, k, r)
    ref = [multivariate_normal(cov=[[1, c], [c, 1]]).cdf([a, bb]) for a, bb, c in zip(h, k, r)]
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert bvn_cdf(0.0, 0.0, 0.3) == pytest.approx(0.25 + math.asin(0.3) / (2 * math.pi), abs=1e-15)
    # R -> 1: P(X < h, Y < k) -> Phi(min(h, k)), checked against quad
    rho = 1 - 1e-10
    for hh, kk in [(-0.6, -0.2), (0.4, -0.1)]:

        def integrand(y, kk=kk):
            return (
                math.exp(-y * y / 2)
                / math.sqrt(2 * math.pi)
                * ndtr((kk - rho * y) / math.sqrt(1 - rho * rho))
            )

        ref = quad(integrand, -12, hh, points=[kk], epsabs=1e-14, limit=200)[0]
        assert bvn_cdf(hh, kk, rho) == pytest.approx(ref, abs=1e-10)


# ---------------------------------------------------------------------------------------------
# Classic limits (7a) and symmetries
# ---------------------------------------------------------------------------------------------


def _version_space_R(alpha: float) -> float:
    """Zero-temperature Gibbs learning (Engel & Van den Broeck eq. 2.42, SST 1992):
    R / sqrt(1-R) = (alpha/pi) ∫Dt exp(-R t^2/2) / H(-sqrt(R) t), and q = R."""

    def f(R):
        g = lambda t: math.exp(-0.5 * t * t * (1 + R) - log_ndtr(math.sqrt(R) * t))  # noqa: E731
        integral = quad(g, -40, 40, points=[0.0], epsabs=1e-14, epsrel=1e-13, limit=400)[0]
        return R / math.sqrt(1 - R) - alpha / math.pi * integral / math.sqrt(2 * math.pi)

    return brentq(f, 1e-9, 1 - 1e-12, xtol=1e-15)


@pytest.mark.parametrize("alpha", [0.5, 1.1, 5.0, 20.0])
def test_zero_temperature_unbiased_limit_is_gibbs_learning(alpha):
    sp = solve_from(ControlParams(alpha=alpha, T=0.0, b0=0.0, rho_train=0.5, learn_bias=True))
    assert sp.converged
    assert abs(sp.b) < 1e-10  # b = 0 by symmetry
    assert sp.q == pytest.approx(sp.R, abs=1e-10)  # Nishimori: q = R
    assert sp.R == pytest.approx(_version_space_R(alpha), abs=1e-10)
    eps = generalization_metrics(sp.R, sp.b, 0.0, 0.5)["gen_error"]
    assert float(eps) == pytest.approx(math.acos(sp.R) / math.pi, abs=1e-12)
    assert sp.train_error == 0.0


@pytest.mark.parametrize("b0", [-1.0, 0.7])
def test_zero_temperature_at_the_intrinsic_imbalance_is_on_the_nishimori_line(b0):
    """T = 0 and rho_train = rho0: the student's posterior is the teacher's (Bayes-optimal
    Gibbs sampling), so q = R and the learned bias equals b0."""
    sp = solve_from(ControlParams(1.1, 0.0, b0, intrinsic_imbalance(b0), True))
    assert sp.converged
    assert sp.q == pytest.approx(sp.R, abs=1e-9)
    assert sp.b == pytest.approx(b0, abs=1e-8)


def test_large_alpha_generalization_error_approaches_0625_over_alpha():
    prev, values = None, {}
    for alpha in (20.0, 50.0, 100.0):
        prev = solve_from(ControlParams(alpha, 0.0, 0.0, 0.5), prev)
        assert prev.converged
        values[alpha] = alpha * math.acos(prev.R) / math.pi
    assert values[20.0] < values[50.0] < values[100.0]
    assert values[100.0] == pytest.approx(0.625, abs=1e-3)  # 0.62456 (0.62465 at alpha=500)


@pytest.mark.parametrize("learn_bias", [False, True])
def test_reflection_symmetry_at_zero_bias(learn_bias):
    for rho in (0.2, 0.35):
        a = solve_from(ControlParams(1.1, 0.5, 0.0, rho, learn_bias))
        b = solve_from(ControlParams(1.1, 0.5, 0.0, 1 - rho, learn_bias))
        assert a.converged and b.converged
        assert a.R == pytest.approx(b.R, abs=1e-9)
        assert a.q == pytest.approx(b.q, abs=1e-9)
        assert a.b == pytest.approx(-b.b, abs=1e-9)
    if not learn_bias:  # b = b0 = 0: both classes equally informative, R flat in rho
        flat = [solve_from(ControlParams(0.7, 0.5, 0.0, r, False)).R for r in (0.1, 0.5, 0.9)]
        assert np.ptp(flat) < 1e-9


def test_metric_identities():
    R, b, b0 = 0.55, -0.3, -0.6
    rows = {rt: generalization_metrics(R, b, b0, rt) for rt in (0.1, 0.5, intrinsic_imbalance(b0))}
    bal = {float(m["balanced_accuracy"]) for m in rows.values()}
    assert max(bal) - min(bal) < 1e-15  # balanced accuracy does not depend on rho_test
    for rt, m in rows.items():
        acc = rt * m["recall"] + (1 - rt) * m["specificity"]
        assert float(m["accuracy"]) == pytest.approx(float(acc), abs=1e-15)
        assert float(m["gen_error"]) == pytest.approx(1 - float(m["accuracy"]), abs=1e-15)
        p, r = float(m["precision"]), float(m["recall"])
        assert float(m["f1"]) == pytest.approx(2 * p * r / (p + r), abs=1e-14)
    # recall from the joint Gaussian (y, x) with correlation R, by brute force
    rng = np.random.default_rng(1)
    y = rng.normal(size=400_000)
    x = R * y + math.sqrt(1 - R * R) * rng.normal(size=y.size)
    pos = y + b0 > 0
    assert float(rows[0.5]["recall"]) == pytest.approx(np.mean(x[pos] + b > 0), abs=4e-3)
    assert float(rows[0.5]["specificity"]) == pytest.approx(np.mean(x[~pos] + b < 0), abs=3e-3)


# ---------------------------------------------------------------------------------------------
# Robustness: trivial phase, corners, non-convergence reported
# ---------------------------------------------------------------------------------------------


def test_trivial_phase_is_detected_and_absent_at_zero_temperature():
    sp = solve_saddle_point(ControlParams(1.1, 0.5, -0.6, 0.05))
    assert sp.converged and sp.extra["phase"] == "trivial"
    assert sp.b == -math.inf and sp.q == 0.0 and sp.R == 0.0
    assert sp.train_error == pytest.approx(0.05)
    m = generalization_metrics(sp.R, sp.b, -0.6, 0.5)
    assert float(m["recall"]) == 0.0 and float(m["specificity"]) == 1.0
    cold = solve_from(ControlParams(1.1, 0.0, -0.6, 0.05))  # version space: always learns
    assert cold.converged and math.isfinite(cold.b) and cold.R > 0.1


@pytest.mark.parametrize(
    "params",
    [
        (0.1, 1e-3, -2.0, 0.05, True),
        (20.0, 0.0, 2.0, 0.99, True),
        (20.0, 5.0, -2.0, 0.5, True),
        (0.1, 0.5, 2.0, 0.01, False),
        (20.0, 1e-3, -2.0, 0.99, False),
        (5.0, 0.1, -1.0, 0.999, True),
    ],
)
def test_corners_solve(params):
    sp = solve_from(ControlParams(*params))
    assert sp.converged, sp.message
    assert 0.0 <= sp.q < 1.0 and abs(sp.R) <= math.sqrt(sp.q) + 1e-12


def test_bad_parameters_fail_with_a_clear_message():
    with pytest.raises(ConfigError, match="rho_train"):
        ControlParams(1.0, 0.5, 0.0, 1.0)
    with pytest.raises(ConfigError, match="T"):
        ControlParams(1.0, -0.1, 0.0, 0.5)
    with pytest.raises(ConfigError, match="alpha"):
        ControlParams(0.0, 0.5, 0.0, 0.5)


def test_non_convergence_is_reported_not_passed_off(tmp_path):
    for learn_bias in (True, False):  # a budget of 2 residual evaluations cannot converge
        params = ControlParams(1.1, 0.5, -0.6, 0.3, learn_bias)
        sp = solve_saddle_point(params, (0.9, 0.1, 2.0), maxfev=2)
        assert not sp.converged and sp.residual > 1e-9 and math.isfinite(sp.residual)
        assert not solve_from(params, None, maxfev=2).converged
    overrides = ["alpha=[1.1]", "rho_train=[0.3,0.5]", "solver.maxfev=2"]
    with pytest.raises(ConvergenceError, match="allow_unconverged=true"):  # not passed off...
        run(compose_config(overrides, "solve"), tmp_path)
    assert (tmp_path / "results.csv").exists()  # ...but the table is kept for inspection
    out = run(compose_config([*overrides, "allow_unconverged=true"], "solve"), tmp_path)
    table = pd.read_csv(tmp_path / "results.csv")
    assert not table["converged"].any()
    assert table[["q", "R", "b", "balanced_accuracy"]].isna().all().all()
    assert (table["residual"] > 1e-9).all()
    assert out["optima"] is None or out["optima"].empty


# ---------------------------------------------------------------------------------------------
# Grids, optima, solve.py
# ---------------------------------------------------------------------------------------------


def test_grid_continuation_and_optima_are_refined():
    rhos = list(np.linspace(0.2, 0.8, 13))
    base = dict(alpha=[1.1], T=[0.5], b0=[-0.6], learn_bias=[True])
    pts = solve_grid({**base, "rho_train": rhos})
    assert all(p.converged for p in pts)
    curve = CurveSolver(pts[0].params, pts)
    star = curve_argmax(curve, lambda p: p.R, rhos)
    assert 0.5 < star["rho"] < 0.52 and not star["at_boundary"]  # rho(R*) != 1/2 (thesis)
    for d in (-2e-4, 2e-4):  # a true maximum, not a grid point
        assert curve(star["rho"] + d).R < star["value"]
    root = curve_root(curve, lambda p: p.b + 0.6, rhos)
    assert intrinsic_imbalance(-0.6) < root["rho"] < 0.5
    assert curve(root["rho"]).b == pytest.approx(-0.6, abs=1e-8)


def test_solve_py_writes_results_csv_with_the_documented_columns(tmp_path):
    run_script(
        [
            "solve.py",
            "alpha=[1,2]",
            "T=0.5",
            "b0=-0.6",
            "rho_train=[0.3,0.5,0.7]",
            "rho_test=[0.5,intrinsic]",
            f"hydra.run.dir={tmp_path}",
        ],
        cwd=ROOT,
        timeout=120,
    )
    table = pd.read_csv(tmp_path / "results.csv")
    assert list(table.columns) == (
        "alpha,T,b0,rho_train,rho_test,learn_bias,q,R,b,train_error,gen_error,recall,"
        "specificity,accuracy,balanced_accuracy,precision,f1,converged,residual"
    ).split(",")
    assert len(table) == 2 * 3 * 2 and table["converged"].all()
    assert set(np.round(table["rho_test"], 4)) == {0.5, round(intrinsic_imbalance(-0.6), 4)}
    optima = pd.read_csv(tmp_path / "optima.csv")
    assert {"R", "b=b0", "balanced_accuracy"} <= set(optima["quantity"])


def test_figure_config_writes_png_with_overlay(tmp_path):
    overlay = tmp_path / "summary.csv"
    pd.DataFrame(
        {
            "data.rho_train": [0.3, 0.5, 0.7],
            "R_mean": [0.3, 0.4, 0.35],
            "R_sem": [0.01] * 3,
            "balanced_accuracy_mean": [0.6, 0.64, 0.62],
            "balanced_accuracy_sem": [0.01] * 3,
        }
    ).to_csv(overlay, index=False)
    cfg = compose_config(
        [
            "experiment=theory_fig1_5",
            "figure.rho_train={start:0.2,stop:0.8,num:7}",
            "figure.b0=[0.0,-0.6]",
            f"overlay_csv={overlay}",
            "overlay_fixed={data.alpha:1.1,data.b0:-0.6}",
        ],
        "solve",
    )
    out = run(cfg, tmp_path)
    assert (tmp_path / "fig1_5.png").stat().st_size > 10_000
    opt = out["optima"]
    r_star = opt[(opt["quantity"] == "R") & (opt["b0"] == -0.6)]["rho_train_star"].item()
    assert 0.5 < r_star < 0.52


@pytest.mark.parametrize(
    "name",
    [
        "theory_fig1_3",
        "theory_fig1_5",
        "theory_fig1_6",
        "theory_fig1_7",
        "theory_fig1_8",
        "replica_vs_montecarlo",
    ],
)
def test_experiment_configs_compose(name):
    cfg = compose_config([f"experiment={name}"], "solve")
    assert cfg.task in ("figure", "montecarlo")
    assert (cfg.figure is not None) or (cfg.montecarlo is not None)
