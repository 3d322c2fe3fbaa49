"""Oracles for soilbench.analysis.timeseries: series built so the answer is known exactly."""

import numpy as np
import pandas as pd
import pytest

from soilbench.analysis import timeseries as ts

YEARS = np.arange(1980, 2011)


def _orthogonal_noise(years: np.ndarray, sd: float, seed: int = 1) -> np.ndarray:
    """Noise with exactly zero mean and zero trend over ``years`` and sample SD ``sd``."""
    noise = np.random.default_rng(seed).normal(size=years.size)
    design = np.column_stack([np.ones(years.size), years.astype(float)])
    noise -= design @ np.linalg.lstsq(design, noise, rcond=None)[0]
    return noise * sd / noise.std(ddof=1)


def test_exact_trend_has_zero_width_interval():
    series = pd.Series(50 + 0.11 * (YEARS - 1980), index=YEARS)
    fit = ts.linear_trend(series)
    assert fit.slope == pytest.approx(0.11, abs=1e-12)
    assert fit.lower == pytest.approx(0.11, abs=1e-9) and fit.upper == pytest.approx(0.11, abs=1e-9)
    assert fit.n == YEARS.size


def test_trend_interval_matches_closed_form():
    y = 50 + 0.11 * (YEARS - 1980) + _orthogonal_noise(YEARS, 0.8)
    fit = ts.linear_trend(pd.Series(y, index=YEARS))
    # noise orthogonal to the trend leaves the slope exact; the interval from first principles
    assert fit.slope == pytest.approx(0.11, abs=1e-12)
    sxx = ((YEARS - YEARS.mean()) ** 2).sum()
    se = np.sqrt((0.8**2 * (YEARS.size - 1)) / (YEARS.size - 2) / sxx)
    from scipy import stats
    half = stats.t.ppf(0.975, YEARS.size - 2) * se
    assert fit.upper - fit.slope == pytest.approx(half, rel=1e-10)


def test_trend_over_a_period_uses_only_its_years():
    y = np.where(YEARS <= 1995, 50.0, 50.0 + 2 * (YEARS - 1995))
    assert ts.linear_trend(pd.Series(y, index=YEARS), 1980, 1995).slope == pytest.approx(0, abs=1e-12)
    assert ts.linear_trend(pd.Series(y, index=YEARS), 1996, 2010).slope == pytest.approx(2, abs=1e-12)


def test_interannual_variability_ignores_the_trend():
    y = 50 + 0.3 * (YEARS - 1980) + _orthogonal_noise(YEARS, 0.7)
    assert ts.interannual_variability(pd.Series(y, index=YEARS)) == pytest.approx(0.7, rel=1e-12)
    # a plain SD would mix the trend in
    assert np.std(y, ddof=1) > 2


def test_anomaly_correlation_is_one_for_the_same_anomalies_on_another_trend():
    noise = _orthogonal_noise(YEARS, 1.0)
    ref = pd.Series(50 + 0.1 * (YEARS - 1980) + noise, index=YEARS)
    model = pd.Series(60 - 0.2 * (YEARS - 1980) + 2 * noise, index=YEARS)
    result = ts.anomaly_correlation(model, ref)
    assert result.r == pytest.approx(1.0, abs=1e-12) and result.n == YEARS.size
    assert ts.anomaly_correlation(-model, ref).r == pytest.approx(-1.0, abs=1e-12)


def test_anomaly_correlation_uses_shared_years_only():
    noise = _orthogonal_noise(YEARS, 1.0)
    ref = pd.Series(noise, index=YEARS).loc[1990:2005]
    model = pd.Series(noise, index=YEARS)
    assert ts.anomaly_correlation(model, ref).n == 16
    assert np.isnan(ts.anomaly_correlation(model.loc[1980:1981], ref).r)


def test_temperature_sensitivity_recovers_the_slope():
    temperature = pd.Series(14 + 0.02 * (YEARS - 1980) + _orthogonal_noise(YEARS, 0.2, seed=3), index=YEARS)
    flux = 3.5 * temperature + 20
    fit = ts.temperature_sensitivity(flux, temperature)
    assert fit.slope == pytest.approx(3.5, rel=1e-12) and fit.r_squared == pytest.approx(1.0)
    assert ts.temperature_sensitivity(flux, temperature, detrend=True).slope == pytest.approx(3.5, rel=1e-10)


def test_detrended_sensitivity_drops_a_shared_trend():
    wiggle = _orthogonal_noise(YEARS, 0.2, seed=4)
    temperature = pd.Series(14 + 0.03 * (YEARS - 1980) + wiggle, index=YEARS)
    flux = pd.Series(50 + 0.5 * (YEARS - 1980) + 2.0 * wiggle, index=YEARS)  # trend not from temperature
    assert ts.temperature_sensitivity(flux, temperature, detrend=True).slope == pytest.approx(2.0, rel=1e-10)
    assert ts.temperature_sensitivity(flux, temperature).slope > 5


def test_duplicate_years_are_refused():
    with pytest.raises(ValueError, match="1981"):
        ts.as_annual_series(pd.Series([1.0, 2.0, 3.0], index=[1980, 1981, 1981]))


def test_too_short_series_give_nan_not_a_number():
    fit = ts.linear_trend(pd.Series([1.0, 2.0], index=[2000, 2001]))
    assert np.isnan(fit.slope) and fit.n == 2
    assert np.isnan(ts.interannual_variability(pd.Series([1.0, 2.0], index=[2000, 2001])))


def test_seasonal_cycle_peak_and_trough():
    months = pd.date_range("2001-01-01", periods=120, freq="MS")
    # peak mid-July, trough mid-January, as [003] reports for global Rh
    values = 6.5 + 2.0 * np.cos(2 * np.pi * (months.month - 7) / 12)
    cycle = ts.mean_seasonal_cycle(pd.Series(values, index=months))
    assert cycle.peak_month == 7 and cycle.trough_month == 1
    assert cycle.amplitude == pytest.approx(4.0)


def test_seasonal_cycle_refuses_missing_months():
    months = pd.date_range("2001-01-01", periods=11, freq="MS")
    with pytest.raises(ValueError, match=r"\[12\]"):
        ts.mean_seasonal_cycle(pd.Series(np.arange(11.0), index=months))
