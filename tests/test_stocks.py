"""Oracles for soilbench.analysis.stocks (log-SOC pattern correlation, [004])."""

import numpy as np
import pytest
import xarray as xr

from soilbench.analysis import stocks


def _grid(values):
    lat = np.linspace(-60, 60, values.shape[0])
    lon = np.linspace(-170, 170, values.shape[1])
    return xr.DataArray(values, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))


def test_power_law_fields_correlate_perfectly_in_log_space():
    rng = np.random.default_rng(0)
    base = np.exp(rng.normal(2.0, 1.0, (20, 30)))
    a, b = _grid(base), _grid(3.0 * base**0.5)  # ln b = ln 3 + 0.5 ln a
    matrix = stocks.log_pattern_correlations({"a": a, "b": b})
    assert matrix.loc["a", "b"] == pytest.approx(1.0, abs=1e-12)
    assert matrix.loc["b", "a"] == matrix.loc["a", "b"]
    # on a linear scale the same pair is far from 1: the reason for the logarithm
    linear = stocks.taylor_statistics(a, b, 1.0)["correlation"]
    assert linear < 0.95


def test_independent_fields_are_uncorrelated_and_anti_patterns_negative():
    rng = np.random.default_rng(1)
    a = _grid(np.exp(rng.normal(2.0, 1.0, (40, 50))))
    b = _grid(np.exp(rng.normal(2.0, 1.0, (40, 50))))
    matrix = stocks.log_pattern_correlations({"a": a, "b": b, "inverse": 1.0 / a})
    assert abs(matrix.loc["a", "b"]) < 0.1
    assert matrix.loc["a", "inverse"] == pytest.approx(-1.0, abs=1e-12)


def test_nonpositive_and_missing_cells_are_left_out():
    rng = np.random.default_rng(2)
    base = np.exp(rng.normal(2.0, 1.0, (10, 10)))
    other = 2 * base
    other[0, :] = 0.0  # no carbon: no logarithm, not a huge negative number
    other[1, :] = np.nan
    r = stocks.log_pattern_correlations({"a": _grid(base), "b": _grid(other)}).loc["a", "b"]
    assert r == pytest.approx(1.0, abs=1e-12)
