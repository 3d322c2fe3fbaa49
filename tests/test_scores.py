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
