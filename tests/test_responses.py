"""Oracles for soilbench.analysis.responses: data built so each answer is known."""

import numpy as np
import pandas as pd
import pytest

from soilbench.analysis import responses as rs


def test_binned_response_by_hand():
    driver = np.array([0.0, 0.5, 1.0, 1.5, 2.0, np.nan, 5.0])
    response = np.array([1.0, 3.0, 10.0, 20.0, 30.0, 99.0, 99.0])
    table = rs.binned_response(driver, response, [0, 1, 2])
    assert table["n"].tolist() == [2, 3]  # 2.0 falls in the last (closed) bin; NaN and 5.0 in none
    assert table["mean"].tolist() == [2.0, 20.0]
    from scipy import stats
    half = stats.t.ppf(0.975, 1) * np.sqrt(2.0) / np.sqrt(2)
    assert table.loc[0, "ci_upper"] - 2.0 == pytest.approx(half)
    assert table["bin_centre"].tolist() == [0.5, 1.5]


def test_binned_response_refuses_bad_edges():
    with pytest.raises(ValueError, match="increasing"):
        rs.binned_response([1.0], [1.0], [0, 0])


def test_q10_of_an_exact_exponential():
    t = np.linspace(-5, 25, 31)
    rate = 0.8 * 2.0 ** (t / 10)
    fit = rs.fit_q10(t, rate)
    assert fit.q10 == pytest.approx(2.0, rel=1e-12)
    assert fit.rate_at_0 == pytest.approx(0.8, rel=1e-12)
    assert fit.lower == pytest.approx(2.0, rel=1e-9) and fit.upper == pytest.approx(2.0, rel=1e-9)


def test_q10_interval_covers_the_truth_with_multiplicative_noise():
    rng = np.random.default_rng(7)
    t = rng.uniform(0, 25, 200)
    rate = 1.2 * 2.4 ** (t / 10) * np.exp(rng.normal(0, 0.3, t.size))
    fit = rs.fit_q10(t, rate)
    assert fit.lower < 2.4 < fit.upper and fit.upper / fit.lower < 1.3


def test_q10_counts_and_drops_nonpositive_rates():
    t = np.array([0.0, 10.0, 20.0, 30.0, 5.0])
    rate = np.array([1.0, 2.0, 4.0, 8.0, -1.0])
    fit = rs.fit_q10(t, rate)
    assert fit.q10 == pytest.approx(2.0) and fit.n == 4 and fit.n_dropped_nonpositive == 1


def test_q10_needs_a_temperature_range():
    assert np.isnan(rs.fit_q10([10.0, 10.0, 10.0], [1.0, 2.0, 3.0]).q10)


def test_q10_by_group_fits_each_study():
    t = np.tile(np.arange(0.0, 30.0, 5.0), 2)
    table = pd.DataFrame({"study": np.repeat([1, 2], 6), "tsoil": t,
                          "rh": np.r_[2.0 ** (t[:6] / 10), 3.0 ** (t[6:] / 10)]})
    fits = rs.q10_by_group(table, "study", "tsoil", "rh")
    assert fits["q10"].tolist() == pytest.approx([2.0, 3.0])


def test_turnover_curve_recovers_a_quadratic_and_its_q10():
    t = np.linspace(-15, 28, 44)
    log_tau = 0.001 * t**2 - 0.06 * t + 1.8
    curve = rs.fit_turnover_curve(t, 10**log_tau)
    assert curve.coefficients == pytest.approx((0.001, -0.06, 1.8), abs=1e-10)
    for temperature in (-10.0, 10.0, 25.0):
        centred = curve.tau_yr(temperature - 5) / curve.tau_yr(temperature + 5)  # k(T+5)/k(T-5)
        assert curve.q10_at(temperature) == pytest.approx(centred, rel=1e-12)
    assert curve.q10_at(-10.0) > curve.q10_at(25.0)  # sensitivity falls with temperature here


def _observed_curve():
    rng = np.random.default_rng(3)
    mat = rng.uniform(-5, 28, 600)
    rh = 150 * 2.0 ** (mat / 10) * np.exp(rng.normal(0, 0.25, mat.size))
    return mat, rh, np.arange(-5, 29, 3.0)


def test_response_score_identity_ladders_and_nulls():
    mat, rh, edges = _observed_curve()
    ref = rs.binned_response(mat, rh, edges)
    score = lambda model_rh: rs.response_scores(ref, rs.binned_response(mat, model_rh, edges))["score"]
    assert score(rh) == pytest.approx(1.0)
    up = [score(rh * k) for k in (1.1, 1.3, 2.0)]
    down = [score(rh / k) for k in (1.1, 1.3, 2.0)]
    assert up == sorted(up, reverse=True) and len(set(up)) == 3
    assert down == sorted(down, reverse=True) and len(set(down)) == 3
    assert up[0] >= 0.5
    assert score(np.zeros_like(rh)) <= 0.1
    assert score(np.full_like(rh, rh.mean())) <= 0.5  # right level, no response
    assert score(rh * 1.1) == pytest.approx(score(rh / 1.1))  # high and low alike


def test_response_score_only_on_bins_with_enough_observations():
    mat, rh, edges = _observed_curve()
    ref = rs.binned_response(mat, rh, edges)
    model = rs.binned_response(mat, rh, edges)
    sparse = ref["n"].to_numpy() < 55
    assert sparse.any() and (~sparse).sum() >= 2
    model.loc[sparse, "mean"] = 1e6  # wrong only where the observations are too few to count
    assert rs.response_scores(ref, model, min_count=55)["score"] == pytest.approx(1.0)
    assert rs.response_scores(ref, model, min_count=5)["score"] < 0.01


def test_response_score_refuses_different_bins():
    mat, rh, edges = _observed_curve()
    with pytest.raises(ValueError, match="same edges"):
        rs.response_scores(rs.binned_response(mat, rh, edges), rs.binned_response(mat, rh, edges + 1))
