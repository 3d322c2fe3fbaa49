"""Turnover against climate (soilbench.analysis.turnover_climate): oracle tests on known answers."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import turnover_climate as climate


def test_q10_of_an_exponential_turnover_time_is_its_q10_at_every_temperature():
    # τ = τ0 · Q10^(−T/10): the decomposition rate 1/τ has exactly this Q10 everywhere
    t = np.linspace(-20.0, 30.0, 200)
    for q10 in (1.5, 2.0, 3.0):
        fit = climate.turnover_q10(t, 40.0 * q10 ** (-t / 10.0))
        for temperature in climate.Q10_TEMPERATURES_DEGC:
            assert fit[f"Q10 at {temperature:+g} degC"] == pytest.approx(q10, rel=1e-9)
        assert fit["residual sd log10"] == pytest.approx(0.0, abs=1e-9)
        assert fit["n"] == 200 and fit["T min"] == -20.0 and fit["T max"] == 30.0


def test_q10_is_ilambs_derivative_of_the_quadratic():
    # log10 τ = a T² + b T + c: ILAMB's Q10(T) = 10^(−10 (2aT + b)), higher in the cold when a > 0
    a, b, c = 4e-4, -0.025, 1.6
    t = np.linspace(-22.0, 30.0, 60)
    fit = climate.turnover_q10(t, 10 ** (a * t**2 + b * t + c))
    for temperature in (-10.0, 10.0, 25.0):
        assert fit[f"Q10 at {temperature:+g} degC"] == pytest.approx(10 ** (-10 * (2 * a * temperature + b)), rel=1e-8)
    assert fit["Q10 at -10 degC"] > fit["Q10 at +10 degC"] > fit["Q10 at +25 degC"]


def test_q10_without_enough_cells_is_nan_not_an_error():
    fit = climate.turnover_q10(np.array([1.0, 2.0, np.nan]), np.array([10.0, 0.0, 5.0]))
    assert np.isnan(fit["Q10 at +10 degC"]) and fit["n"] == 1


def test_binned_turnover_is_the_geometric_mean_with_a_log_interval():
    t = np.array([0.5, 0.6, 1.5, 1.6, 1.7, 5.0])
    values = np.array([10.0, 1000.0, 20.0, 20.0, 20.0, 0.0])  # 0: no turnover time, left out
    got = climate.binned_turnover(t, values, np.array([0.0, 1.0, 2.0]))
    assert list(got.columns) == climate.BINNED_TAU_COLUMNS
    assert got["mean"].tolist() == pytest.approx([100.0, 20.0])  # sqrt(10 · 1000)
    assert got["n"].tolist() == [2, 3]
    assert got["ci_lower"].iloc[0] < 100.0 < got["ci_upper"].iloc[0]
    assert got["ci_lower"].iloc[1] == pytest.approx(20.0) and got["sd_log10"].iloc[1] == pytest.approx(0.0)


def regions_frame(tau, area):
    return pd.DataFrame({"region": [f"r{i}" for i in range(len(tau))], "tau": tau, "area_m2": area})


def test_region_profile_reference_ladders_uniform_and_lost_regions():
    observed = regions_frame([10.0, 40.0, 100.0, 25.0], [3.0, 2.0, 1.0, 2.0])
    same, table = climate.region_profile(observed, observed, observed)
    assert same == pytest.approx(1.0) and table["score"].tolist() == pytest.approx([1.0] * 4)
    ladder = [climate.region_profile(regions_frame(k * observed["tau"], observed["area_m2"]), observed, observed)[0]
              for k in (1.1, 1.3, 2.0)]
    assert 1.0 > ladder[0] > ladder[1] > ladder[2] > 0.0
    down = [climate.region_profile(regions_frame(observed["tau"] / k, observed["area_m2"]), observed, observed)[0]
            for k in (1.1, 1.3, 2.0)]
    assert down == pytest.approx(ladder)  # log space: ÷k like ×k
    for level in (10.0, 30.0, 100.0):  # any uniform τ scores at most e⁻¹
        uniform = climate.region_profile(regions_frame([level] * 4, observed["area_m2"]), observed, observed)[0]
        assert uniform <= np.exp(-1) + 1e-12
    # a region the model leaves without τ where the observations have one costs a 100-fold error
    model = regions_frame([10.0, 40.0, 100.0, np.nan], [3.0, 2.0, 1.0, 0.0])
    common = regions_frame([10.0, 40.0, 100.0, np.nan], [3.0, 2.0, 1.0, 0.0])
    lost, table = climate.region_profile(model, common, observed)
    skipped = climate.region_profile(model.iloc[:3], common.iloc[:3], observed.iloc[:3])[0]
    assert skipped == pytest.approx(1.0) and lost < 0.5
    assert table["score"].iloc[3] < 0.05 and np.isnan(table["tau_model"].iloc[3])


def test_regional_turnover_is_a_ratio_of_totals_on_the_cells():
    coords = {"lat": [0.0, 1.0], "lon": [0.0, 1.0]}
    da = lambda v: xr.DataArray(np.array(v, float), coords=coords, dims=("lat", "lon"))  # noqa: E731
    csoil, rh, area = da([[10, 20], [30, 40]]), da([[1000, 1000], [500, 500]]), da([[1, 3], [1, 1]])
    masks = {"south": da([[1, 1], [0, 0]]) > 0, "north": da([[0, 0], [1, 1]]) > 0}
    cells = da([[1, 1], [1, 0]]) > 0
    got = climate.regional_turnover(csoil, rh, area, masks, cells).set_index("region")
    assert got.at["south", "tau"] == pytest.approx((10 + 60) / (1 + 3))
    assert got.at["north", "tau"] == pytest.approx(30 / 0.5) and got.at["north", "area_m2"] == 1.0


def test_temperature_edges():
    np.testing.assert_allclose(climate.temperature_edges([-22, 30], 2.0), np.arange(-22.0, 30.1, 2.0))
