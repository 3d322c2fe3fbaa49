"""The 2-box emergent constraint: exact discrete solutions and constructed ensembles."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import twobox as tb

YEARS = np.arange(1901, 2019)


def step_solution(n0, n1, tau_veg, tau_soil, t):
    """Closed form of the backward-Euler recurrence after NPP steps from n0 (year 0) to n1.

    cVeg(t) = a(cVeg(t−1) + n1), a = τv/(τv+1)  →  cVeg(t) = n1 τv + (n0 − n1) τv aᵗ
    cSoil(t) = b(cSoil(t−1) + cVeg(t)/τv), b = τs/(τs+1); with e(t) = cSoil(t) − n1 τs:
    e(t) = b e(t−1) + b (n0 − n1) aᵗ  →  e(t) = bᵗ e(0) + b (n0 − n1) a (bᵗ − aᵗ)/(b − a)
    """
    a, b = tau_veg / (tau_veg + 1), tau_soil / (tau_soil + 1)
    cveg = n1 * tau_veg + (n0 - n1) * tau_veg * a**t
    e0 = (n0 - n1) * tau_soil
    csoil = n1 * tau_soil + b**t * e0 + b * (n0 - n1) * a * (b**t - a**t) / (b - a)
    return cveg, csoil


def generated_model(npp, tau_veg, tau_soil):
    """A 'model' whose stocks obey the 2-box exactly, with Rh = cSoil/τ_soil."""
    cveg, csoil = tb.run_two_box(npp, tau_veg, tau_soil)
    return cveg, csoil, csoil / np.broadcast_to(tau_soil, csoil.shape)


def test_constant_npp_keeps_steady_state():
    npp = np.full(50, 60.0)
    cveg, csoil = tb.run_two_box(npp, np.full(50, 10.0), np.full(50, 30.0))
    np.testing.assert_allclose(cveg, 600.0, rtol=1e-12)
    np.testing.assert_allclose(csoil, 1800.0, rtol=1e-12)


def test_step_change_matches_closed_form():
    t = np.arange(200)
    npp = np.where(t == 0, 50.0, 65.0)
    cveg, csoil = tb.run_two_box(npp, np.full(t.size, 9.0), np.full(t.size, 40.0))
    want_veg, want_soil = step_solution(50.0, 65.0, 9.0, 40.0, t)
    np.testing.assert_allclose(cveg, want_veg, rtol=1e-12)
    np.testing.assert_allclose(csoil, want_soil, rtol=1e-12)
    # and both approach the new steady state
    assert cveg[-1] == pytest.approx(65 * 9, rel=1e-6)
    assert csoil[-1] == pytest.approx(65 * 40, rel=1e-2)


def test_monte_carlo_dimensions_broadcast_like_single_runs():
    npp = np.linspace(50, 60, 30)
    tau_veg = np.array([8.0, 12.0])[:, None, None] * np.ones(30)
    tau_soil = np.array([20.0, 30.0, 40.0])[None, :, None] * np.ones(30)
    cveg, csoil = tb.run_two_box(npp, tau_veg, tau_soil)
    assert cveg.shape == csoil.shape == (2, 3, 30)
    single_veg, single_soil = tb.run_two_box(npp, np.full(30, 12.0), np.full(30, 30.0))
    np.testing.assert_allclose(cveg[1, 1], single_veg)
    np.testing.assert_allclose(csoil[1, 1], single_soil)


def test_diagnosed_turnover_recovers_the_generating_one():
    rng = np.random.default_rng(3)
    npp = 50 + 0.15 * (YEARS - 1901) + rng.normal(0, 1, YEARS.size)
    tau_veg = 9 + 0.01 * (YEARS - 1901) + rng.normal(0, 0.3, YEARS.size)
    tau_veg[0] = tau_veg[1]  # the diagnosis cannot know year 0's τ_veg; it copies year 1
    tau_soil = 25 - 0.02 * (YEARS - 1901) + rng.normal(0, 0.5, YEARS.size)
    cveg, csoil, rh = generated_model(npp, tau_veg, tau_soil)
    got_veg, got_soil = tb.diagnose_turnover(npp, rh, cveg, csoil)
    np.testing.assert_allclose(got_veg, tau_veg, rtol=1e-10)
    np.testing.assert_allclose(got_soil, tau_soil, rtol=1e-10)
    _, mb_soil = tb.diagnose_turnover(npp, rh, cveg, csoil, tau_soil_outflux="mass_balance")
    np.testing.assert_allclose(mb_soil[1:], tau_soil[1:], rtol=1e-8)
    with pytest.raises(ValueError, match="tau_soil_outflux"):
        tb.diagnose_turnover(npp, rh, cveg, csoil, tau_soil_outflux="fire")


def test_correction_matches_period_mean_and_keeps_variation():
    tau = 20 + np.sin(YEARS / 3.0) + 0.05 * (YEARS - 1901)
    corrected = tb.correct_turnover(tau, YEARS, 38.3)
    period = (YEARS >= 1982) & (YEARS <= 2018)
    assert corrected[period].mean() == pytest.approx(38.3)
    np.testing.assert_allclose(np.diff(corrected), np.diff(tau))
    draws = tb.correct_turnover(tau, YEARS, np.array([10.0, -100.0]))
    assert draws.shape == (2, YEARS.size)
    assert draws[1].min() == tb.MIN_TAU_YR  # a draw deep in the tail is floored
    with pytest.raises(ValueError, match="correction period"):
        tb.correct_turnover(tau[:50], YEARS[:50], 38.3)


def step_npp():
    return np.where(YEARS == 1901, 50.0, 60.0)


def test_perfect_emulation_and_deterministic_constraint():
    npp = step_npp()
    cveg, csoil, rh = generated_model(npp, np.full(YEARS.size, 7.0), np.full(YEARS.size, 20.0))
    result = tb.constrain_model("m", YEARS, npp, rh, cveg, csoil,
                                tau_veg_obs_yr=(10.0, 0.0), tau_soil_obs_yr=(35.0, 0.0), n_draws=(4, 5))
    assert result.change("cTotal", "emulated") == pytest.approx(result.change("cTotal", "original"), rel=1e-10)
    t = YEARS.size - 1
    want_veg, want_soil = step_solution(50.0, 60.0, 10.0, 35.0, np.array([0, t]))
    assert result.change("cVeg", "constrained") == pytest.approx(want_veg[1] - want_veg[0], rel=1e-10)
    assert result.change("cSoil", "constrained") == pytest.approx(want_soil[1] - want_soil[0], rel=1e-10)
    sd = result.changes.set_index(["quantity", "variant"])["sd"]
    assert sd[("cTotal", "constrained")] == pytest.approx(0.0, abs=1e-9)
    assert result.n_draws == 20
    assert result.tau_veg_model_yr == pytest.approx(7.0)
    assert result.tau_soil_model_yr == pytest.approx(20.0)


def test_monte_carlo_mean_is_the_mean_over_the_seeded_draws():
    npp = step_npp()
    cveg, csoil, rh = generated_model(npp, np.full(YEARS.size, 8.0), np.full(YEARS.size, 25.0))
    result = tb.constrain_model("m", YEARS, npp, rh, cveg, csoil, n_draws=(30, 40), seed=11)
    rng = np.random.default_rng(11)
    veg_draws = np.maximum(rng.normal(10.3, 1.4, 30), tb.MIN_TAU_YR)
    soil_draws = np.maximum(rng.normal(38.3, 11.0, 40), tb.MIN_TAU_YR)
    t = np.array([0, YEARS.size - 1])
    cv, cs = step_solution(50.0, 60.0, veg_draws[:, None, None], soil_draws[None, :, None], t)
    cv = np.broadcast_to(cv, cs.shape)
    d_total = (cv[..., 1] + cs[..., 1] - cv[..., 0] - cs[..., 0]).ravel()
    assert result.change("cTotal", "constrained") == pytest.approx(d_total.mean(), rel=1e-9)
    sd = result.changes.set_index(["quantity", "variant"])["sd"]
    assert sd[("cTotal", "constrained")] == pytest.approx(d_total.std(), rel=1e-9)
    again = tb.constrain_model("m", YEARS, npp, rh, cveg, csoil, n_draws=(30, 40), seed=11)
    assert again.change("cTotal", "constrained") == result.change("cTotal", "constrained")
    other = tb.constrain_model("m", YEARS, npp, rh, cveg, csoil, n_draws=(30, 40), seed=12)
    assert other.change("cTotal", "constrained") != result.change("cTotal", "constrained")


def constructed_ensemble():
    """Models that obey the 2-box with constant, too-short τ: the constraint's effect is known."""
    npp = step_npp()
    results = []
    for i, (tau_veg, tau_soil) in enumerate([(6.0, 15.0), (8.0, 22.0), (9.0, 30.0)]):
        cveg, csoil, rh = generated_model(npp * (1 + 0.1 * i), np.full(YEARS.size, tau_veg),
                                          np.full(YEARS.size, tau_soil))
        results.append(tb.constrain_model(f"model {i}", YEARS, npp * (1 + 0.1 * i), rh, cveg, csoil,
                                          tau_veg_obs_yr=(10.3, 0.0), tau_soil_obs_yr=(38.3, 0.0), n_draws=(3, 3)))
    return results


def test_ensemble_of_constructed_models():
    results = constructed_ensemble()
    combined = tb.ensemble(results)
    emulation = combined["emulation"].iloc[0]
    assert emulation["slope"] == pytest.approx(1.0, rel=1e-10)
    assert emulation["r_squared"] == pytest.approx(1.0, rel=1e-10)
    assert emulation["n_models"] == 3
    t = np.array([0, YEARS.size - 1])
    want = []
    for i in range(3):
        cv, cs = step_solution(50.0 * (1 + 0.1 * i), 60.0 * (1 + 0.1 * i), 10.3, 38.3, t)
        want.append(cv[1] + cs[1] - cv[0] - cs[0])
    changes = combined["changes"].set_index(["quantity", "variant"])
    assert changes.loc[("cTotal", "constrained"), "value"] == pytest.approx(np.mean(want), rel=1e-10)
    assert changes.loc[("cTotal", "constrained"), "inter_model_sd"] == pytest.approx(np.std(want, ddof=1), rel=1e-9)
    original = [r.change("cTotal", "original") for r in results]
    assert emulation["constrained_minus_original"] == pytest.approx(np.mean(want) - np.mean(original), rel=1e-10)
    # every model's τ is too short, so the constraint raises the uptake
    assert emulation["constrained_over_original"] > 1.0


def test_ensemble_from_saved_tables_equals_ensemble_from_results(tmp_path):
    results = constructed_ensemble()
    paths = []
    for r in results:
        path = tmp_path / f"{r.model}.csv"
        r.table().to_csv(path, index=False)
        paths.append(path)
    from_tables = tb.ensemble([pd.read_csv(p) for p in paths])
    from_results = tb.ensemble(results)
    pd.testing.assert_frame_equal(from_tables["changes"], from_results["changes"])
    pd.testing.assert_frame_equal(from_tables["emulation"], from_results["emulation"])
    with pytest.raises(ValueError):
        tb.ensemble([])


def canonical_monthly(n_years=3, first_year=2000):
    """A canonical dataset with monthly steps on a 2×2 grid (noleap calendar)."""
    import cftime

    times = [cftime.DatetimeNoLeap(first_year + y, m, 15) for y in range(n_years) for m in range(1, 13)]
    month_days = np.tile([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], n_years).astype(float)
    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 90.0])
    shape = (len(times), 2, 2)
    year_index = np.repeat(np.arange(n_years), 12)
    npp = (500.0 + 10 * year_index)[:, None, None] * np.ones(shape)  # g m-2 yr-1
    npp[0] = 0.0  # a month of no growth changes the day-weighted annual mean
    ds = xr.Dataset(
        {
            "npp": (("time", "lat", "lon"), npp),
            "rh": (("time", "lat", "lon"), np.full(shape, 400.0)),
            "cveg": (("time", "lat", "lon"), np.full(shape, 5.0)),
            "csoil": (("time", "lat", "lon"), np.full(shape, 10.0)),
            "cell_area": (("lat", "lon"), np.full((2, 2), 1.0e12)),
            "land_fraction": (("lat", "lon"), np.array([[1.0, 0.5], [0.0, 1.0]])),
        },
        coords={"time": times, "lat": lat, "lon": lon, "step_days": ("time", month_days)},
    )
    ds["csoil"][:, 1, 1] = np.nan  # a missing cell counts as nothing
    return ds


def test_global_annual_series_weights_steps_by_length():
    series = tb.global_annual_series(canonical_monthly())
    land_m2 = 2.5e12
    assert list(series["year"]) == [2000, 2001, 2002]
    want_npp_2000 = 500.0 * (365 - 31) / 365 * land_m2 / 1e15
    assert series["npp_pg_yr"].iloc[0] == pytest.approx(want_npp_2000)
    assert series["npp_pg_yr"].iloc[2] == pytest.approx(520.0 * land_m2 / 1e15)
    assert series["rh_pg_yr"].iloc[1] == pytest.approx(400.0 * land_m2 / 1e15)
    assert series["cveg_pg"].iloc[1] == pytest.approx(5.0 * land_m2 / 1e12)
    assert series["csoil_pg"].iloc[1] == pytest.approx(10.0 * 1.5e12 / 1e12)


def test_unavailable_reasons():
    ds = canonical_monthly()
    assert tb.two_box_unavailable_reason(ds) is None
    assert "correction period" in tb.two_box_unavailable_reason(canonical_monthly(first_year=1950))
    assert "no cveg" in tb.two_box_unavailable_reason(ds.drop_vars("cveg"))
    assert "time axis" in tb.two_box_unavailable_reason(ds.isel(time=0, drop=True))
    assert "fewer than two years" in tb.two_box_unavailable_reason(canonical_monthly(n_years=1))
