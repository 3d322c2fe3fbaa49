import math

import numpy as np
import pytest
import xarray as xr

from soilbench.analysis import scores


def test_perfect_model_scores_one():
    assert scores.bias_score(5.0, 5.0, 2.0) == 1.0
    assert scores.taylor_score(1.0, 1.0) == pytest.approx(1.0)
    assert scores.seasonal_cycle_score(0) == 1.0


def test_known_values():
    assert scores.bias_score(7.0, 5.0, 2.0) == pytest.approx(math.exp(-1))
    assert scores.bias_score(7.0, 5.0, 2.0, uncertainty=1.5) == pytest.approx(math.exp(-0.25))
    assert scores.bias_score(7.0, 5.0, 2.0, uncertainty=3.0) == 1.0
    assert scores.taylor_score(0.0, 2.0) == pytest.approx(4 * 1 / ((2 + 0.5) ** 2 * 2))
    assert scores.seasonal_cycle_score(365 / 2) == pytest.approx(0.0)


def test_area_weighted_mean_and_overall():
    s = xr.DataArray([[1.0, 0.0, np.nan]], dims=("lat", "lon"))
    a = xr.DataArray([[3.0, 1.0, 100.0]], dims=("lat", "lon"))
    assert scores.area_weighted_mean(s, a) == pytest.approx(0.75)
    assert scores.overall_score({"a": 1.0, "b": 0.0, "c": float("nan")}, {"a": 3}) == pytest.approx(0.75)
    assert math.isnan(scores.overall_score({"a": float("nan")}))


def test_uniform_model_scores_zero_without_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scores.taylor_score(0.5, 0.0) == 0.0
        assert scores.taylor_score(np.array([0.5]), np.array([0.0]))[0] == 0.0


def test_taylor_2001_eq5_punishes_an_uncorrelated_pattern():
    # ILAMB's eq. 4 gives a pattern of the right variance and no correlation 0.5; eq. 5 gives 1/16
    assert scores.taylor_score(0.0, 1.0) == pytest.approx(0.5)
    assert scores.taylor_score(0.0, 1.0, power=scores.TAYLOR_POWER) == pytest.approx(1 / 16)
    assert scores.taylor_score(1.0, 1.0, power=4) == pytest.approx(1.0)
    with np.errstate(all="raise"):
        assert scores.taylor_score(float("nan"), 0.0, power=4) == 0.0  # uniform model: no correlation, score 0


def test_ratio_score():
    assert scores.ratio_score(110.0, 100.0) == pytest.approx(100 / 110)
    assert scores.ratio_score(200.0, 100.0) == pytest.approx(0.5) == scores.ratio_score(50.0, 100.0)
    assert scores.ratio_score(0.0, 100.0) == 0.0 and scores.ratio_score(0.0, 0.0) == 1.0
    assert scores.ratio_score(-5.0, 100.0) == 0.0
    assert math.isnan(scores.ratio_score(float("nan"), 100.0))
    m = xr.DataArray([110.0, 0.0, np.nan])
    np.testing.assert_allclose(scores.ratio_score(m, xr.DataArray([100.0, 100.0, 100.0])), [100 / 110, 0.0, np.nan])


def test_overall_counting_missing_components():
    value, missing = scores.overall_score_counting_missing({"a": 1.0, "b": float("nan")}, {"a": 3})
    assert value == pytest.approx(0.75) and missing == ["b"]
    assert scores.overall_score_counting_missing({"a": 0.8}) == (pytest.approx(0.8), [])
    assert math.isnan(scores.overall_score_counting_missing({})[0])


def test_profile_log_score():
    r = np.array([100.0, 400.0, 800.0, 200.0])
    w = np.array([1.0, 2.0, 1.0, 1.0])
    contrast = math.sqrt(np.cov(np.log(r), aweights=w, ddof=0))
    score, each = scores.profile_log_score(1.3 * r, r, w)
    assert score == pytest.approx(math.exp(-math.log(1.3) / contrast))
    np.testing.assert_allclose(each, math.exp(-math.log(1.3) / contrast))
    # any uniform profile scores at most e^-1, a profile without flux (nearly) 0
    for level in (50.0, 300.0, 900.0):
        assert scores.profile_log_score(np.full(4, level), r, w)[0] <= math.exp(-1) + 1e-12
    assert scores.profile_log_score(np.zeros(4), r, w)[0] < 0.01
    # one band without flux costs at most a factor 100, not the whole score
    dented = r.copy()
    dented[0] = 0.0
    assert scores.profile_log_score(dented, r, np.array([0.001, 2.0, 1.0, 1.0]))[0] > 0.8
