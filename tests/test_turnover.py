"""Turnover time τ = csoil / rh: pure functions and the ``turnover`` confrontation on synthetic data."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import turnover as tau
from soilbench.analysis import twobox
from soilbench.confrontations import confrontation_class
from soilbench.results import load_result

R_EARTH_M = 6371229.0


def grid(step_deg):
    lat = np.arange(-90 + step_deg / 2, 90, step_deg)
    lon = np.arange(-180 + step_deg / 2, 180, step_deg)
    rad = np.deg2rad
    band = np.sin(rad(lat + step_deg / 2)) - np.sin(rad(lat - step_deg / 2))
    area = R_EARTH_M**2 * rad(step_deg) * band[:, None] * np.ones(lon.size)
    return lat, lon, xr.DataArray(area, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                                  attrs={"units": "m2"})


def canonical(fields, step_deg, name):
    lat, lon, area = grid(step_deg)
    data = {k: xr.DataArray(v, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                            attrs={"units": "kg m-2" if k in ("csoil", "cveg") else "g m-2 yr-1"})
            for k, v in fields.items()}
    valid = np.any([np.isfinite(v) for v in fields.values()], axis=0).astype(float)
    ds = xr.Dataset({**data, "cell_area": area,
                     "land_fraction": (("lat", "lon"), valid)}, attrs={"model": name, "source_files": name})
    return ds


def observed_fields(step_deg=10.0):
    """Smooth synthetic products: τ rises with latitude, as observed; ocean south of 60° S."""
    lat, lon, _ = grid(step_deg)
    lat2 = lat[:, None] * np.ones(lon.size)
    lon2 = np.ones(lat.size)[:, None] * lon
    land = lat2 > -60
    rh = np.where(land, 600.0 - 5.0 * np.abs(lat2) + 0.5 * np.cos(np.deg2rad(lon2)) * 50, np.nan)
    csoil = np.where(land, 8.0 + 0.25 * np.abs(lat2), np.nan)
    return csoil, rh


def observed_mat(step_deg=10.0):
    """Mean annual temperature falling with latitude (°C), on the land of :func:`observed_fields`."""
    lat, lon, _ = grid(step_deg)
    lat2 = lat[:, None] * np.ones(lon.size)
    return np.where(lat2 > -60, 28.0 - 0.5 * np.abs(lat2), np.nan)


def koppen_classes(step_deg=10.0):
    """Köppen classes by latitude (every climate group present), as regions.load_koppen_classes gives them."""
    lat, lon, _ = grid(step_deg)
    a = np.abs(lat[:, None] * np.ones(lon.size))
    west = (np.ones(lat.size)[:, None] * lon) < 0
    codes = np.select([a < 20, a < 30, (a < 45) & west, a < 45, a < 65], ["Af", "BWh", "Csa", "Cfb", "Dfb"], "ET")
    return xr.DataArray(codes.astype(object), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))


@pytest.fixture
def fake_references(monkeypatch):
    csoil, rh = observed_fields()
    products = {
        "merged-soilc": canonical({"csoil": csoil}, 10.0, "merged-soilc"),
        "other-soilc": canonical({"csoil": csoil * 0.8}, 10.0, "other-soilc"),
        "some-rh": canonical({"rh": rh}, 10.0, "some-rh"),
        "root-contribution": canonical({"mat": observed_mat()}, 10.0, "root-contribution"),
    }
    monkeypatch.setattr("soilbench.load.load_reference", lambda ref_id, data_dir=None: products[ref_id])
    monkeypatch.setattr("soilbench.regions.load_koppen_classes", lambda data_dir=None, dataset_id="koppen": koppen_classes())
    return products


def make_confrontation(**options):
    cls = confrontation_class("turnover")
    return cls("soil-turnover", ["merged-soilc", "other-soilc", "some-rh"], options, 1.0, None, "test.yaml")


# -- pure functions ------------------------------------------------------------------------------

def test_turnover_time_masks_negligible_rh_and_implausible_values():
    csoil = xr.DataArray([10.0, 10.0, 10.0, 0.001, 200.0, np.nan])
    rh = xr.DataArray([500.0, 10.0, 5.0, 500.0, 11.0, 500.0])
    got = tau.soil_turnover_time(csoil, rh)
    # 10 kg / 0.5 kg yr-1 = 20 yr; rh ≤ 10 g masked; 0.002 yr < 1 masked; 200/0.011 > 10⁴ masked
    np.testing.assert_allclose(got.values, [20.0, np.nan, np.nan, np.nan, np.nan, np.nan])
    assert got.attrs["units"] == "yr"
    loose = tau.soil_turnover_time(csoil, rh, rh_threshold_g_m2_yr=1.0, tau_range_yr=(0.0, 1e6))
    np.testing.assert_allclose(loose.values[:5], [20.0, 1000.0, 2000.0, 0.002, 200 / 0.011])


def test_global_turnover_is_area_weighted():
    csoil = xr.DataArray([[10.0, 40.0]], dims=("lat", "lon"))
    rh = xr.DataArray([[1000.0, 500.0]], dims=("lat", "lon"))
    area = xr.DataArray([[3.0, 1.0]], dims=("lat", "lon"))
    # Σ C·A / Σ R·A = (30 + 40) / (3 + 0.5) = 20; without areas it would be 50/1.5 = 33.3
    assert tau.global_turnover_time(csoil, rh, area) == pytest.approx(20.0)
    assert tau.global_turnover_time(csoil, rh, area, mask=xr.DataArray([[False, True]], dims=("lat", "lon"))) \
        == pytest.approx(80.0)
    # a cell missing one field is left out of both sums
    assert tau.global_turnover_time(csoil.where(csoil < 20), rh, area) == pytest.approx(10.0)


def test_zonal_turnover_uses_band_totals_and_counts_the_pole():
    lat = np.array([-90.0, -87.0, 2.0, 4.0, 90.0])
    csoil = xr.DataArray(np.array([[1.0], [3.0], [10.0], [20.0], [7.0]]), coords={"lat": lat, "lon": [0.0]},
                         dims=("lat", "lon"))
    rh = xr.DataArray(np.full((5, 1), 1000.0), coords=csoil.coords, dims=csoil.dims)
    area = xr.DataArray(np.array([[1.0], [1.0], [1.0], [3.0], [1.0]]), coords=csoil.coords, dims=csoil.dims)
    zonal = tau.zonal_turnover_time(csoil, rh, area)
    assert zonal.sizes["lat_band"] == 36
    assert float(zonal.sel(lat_band=-87.5)) == pytest.approx(2.0)
    assert float(zonal.sel(lat_band=2.5)) == pytest.approx((10 + 60) / 4)
    assert float(zonal.sel(lat_band=87.5)) == pytest.approx(7.0)
    assert np.isnan(float(zonal.sel(lat_band=42.5)))


def test_attribution_is_an_exact_split_with_the_larger_term_dominating():
    co = xr.DataArray([10.0, 10.0, 10.0, 10.0, 10.0])
    ro = xr.DataArray([400.0, 400.0, 400.0, 400.0, 400.0])
    cm = co * xr.DataArray([0.5, 2.0, 1.1, 0.9, 0.0])
    rm = ro * xr.DataArray([1.2, 0.9, 3.0, 0.25, 1.0])
    got = tau.attribute_bias(cm, rm, co, ro)
    tau_ratio = np.log(tau.soil_turnover_time(cm, rm) / tau.soil_turnover_time(co, ro))
    np.testing.assert_allclose(got["log_tau_ratio"].values[:4], tau_ratio.values[:4], rtol=1e-12)
    np.testing.assert_allclose(got["log_tau_ratio"], got["log_csoil_ratio"] - got["log_rh_ratio"])
    np.testing.assert_array_equal(got["attribution"].values[:4], [0, 1, 2, 3])
    assert np.isnan(got["attribution"].values[4])  # zero model stock: no log ratio
    area = xr.DataArray([1.0, 1.0, 2.0, 4.0, 100.0])
    assert tau.rh_dominated_share(got["attribution"], area) == pytest.approx(6 / 8)


def test_bias_score_is_the_ratio_of_turnover_times():
    # a factor either way costs the same; no tolerance band flattens a bias ladder
    assert tau.tau_bias_score(25.0, 25.0) == pytest.approx(1.0)
    assert tau.tau_bias_score(50.0, 25.0) == pytest.approx(0.5)
    assert tau.tau_bias_score(12.5, 25.0) == pytest.approx(0.5)
    ladder = [tau.tau_bias_score(25.0 * f, 25.0) for f in (1.0, 1.1, 1.3, 2.0)]
    assert all(a > b for a, b in zip(ladder, ladder[1:]))
    m = xr.DataArray([35.0, 10.0, np.nan])
    np.testing.assert_allclose(tau.tau_bias_score(m, xr.DataArray([25.0, 25.0, 25.0])), [25 / 35, 10 / 25, np.nan])


def test_observed_combinations_and_their_global_values():
    csoil, rh = observed_fields()
    lat, lon, area = grid(10.0)
    wrap = lambda a: xr.DataArray(a, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))  # noqa: E731
    obs = tau.observed_turnover({"a": wrap(csoil), "b": wrap(csoil * 0.8)}, {"r1": wrap(rh), "r2": wrap(rh * 2)})
    assert list(obs["combination"].values) == ["a / r1", "a / r2", "b / r1", "b / r2"]
    assert obs.attrs["central"] == "a / r1"
    values = tau.observed_global_turnover(obs, area)
    assert values["b / r2"] == pytest.approx(values["a / r1"] * 0.8 / 2)
    direct = float((wrap(csoil) * area).sum() / (wrap(rh) / 1000 * area).sum())
    assert values["a / r1"] == pytest.approx(direct)


# -- the confrontation ---------------------------------------------------------------------------

def scalar(result, name, region="global"):
    s = result.scalars
    row = s[(s["name"] == name) & (s["region"] == region)]
    assert len(row) == 1, name
    return float(row["value"].iloc[0])


def test_model_equal_to_central_observation_scores_one(fake_references):
    csoil, rh = observed_fields()
    model = canonical({"csoil": csoil, "rh": rh}, 10.0, "twin")
    result = make_confrontation().confront(model)
    assert scalar(result, "bias score") == pytest.approx(1.0)
    assert scalar(result, "spatial distribution score") == pytest.approx(1.0)
    assert scalar(result, "global tau score") == pytest.approx(1.0)
    assert scalar(result, "zonal tau score") == pytest.approx(1.0)
    assert scalar(result, "climate group tau score") == pytest.approx(1.0)
    assert scalar(result, "tau-MAT curve score") == pytest.approx(1.0)
    assert scalar(result, "overall score") == pytest.approx(1.0)
    assert scalar(result, "tau model (common cells)") == pytest.approx(scalar(result, "tau observed (common cells)"))
    # the second stock product is 0.8× the first: the observed range reaches 0.8 τ
    assert scalar(result, "tau observed lower") == pytest.approx(0.8 * scalar(result, "tau observed upper"))
    assert set(result.scalars["type"]) == {"score", "scalar"}
    assert any("2-box constraint not run" in n for n in result.notes)


def test_constructed_bias_is_attributed_to_the_right_term(fake_references):
    csoil, rh = observed_fields()
    lat, lon, area = grid(10.0)
    north = (lat[:, None] * np.ones(lon.size)) > 30
    # north: stock halved (τ too short, stock-dominated); elsewhere: Rh tripled (Rh-dominated)
    model = canonical({"csoil": np.where(north, 0.5 * csoil, csoil), "rh": np.where(north, rh, 3 * rh)}, 10.0, "biased")
    result = make_confrontation().confront(model)
    fields = result.fields
    valid = fields["tau_attribution"].notnull()
    codes = fields["tau_attribution"].where(valid)
    assert set(np.unique(codes.values[np.isfinite(codes.values)])) == {0.0, 2.0}
    land = np.isfinite(csoil)
    weights = area.values * land
    share = weights[land & ~north].sum() / weights[land].sum()
    assert scalar(result, "Rh-dominated area share") == pytest.approx(share, rel=1e-9)
    assert scalar(result, "Rh-dominated area share", "lat_60_90") == pytest.approx(0.0)
    np.testing.assert_allclose(fields["tau_log_ratio"].values[np.isfinite(csoil) & north], np.log(0.5))
    assert scalar(result, "bias score") < 1.0
    assert scalar(result, "overall score") < 1.0
    # the zonal curve follows the bands: τ halved north of 30° N, a third south of it; one value
    # per 5° band over `lat_band` (the cells centred at 75° and −25° fall in [75, 80) and [−25, −20))
    z_m, z_o = fields["tau_zonal_model"], fields["tau_zonal_observed"]
    assert z_m.dims == z_o.dims == ("lat_band",) and z_m.sizes["lat_band"] == 36
    assert float(z_m.sel(lat_band=77.5) / z_o.sel(lat_band=77.5)) == pytest.approx(0.5)
    assert float(z_m.sel(lat_band=-22.5) / z_o.sel(lat_band=-22.5)) == pytest.approx(1 / 3)
    assert np.isnan(float(z_m.sel(lat_band=72.5)))  # no cell centre in [70, 75): an empty band, not a step
    assert z_o.attrs["lower"] in fields and z_o.attrs["upper"] in fields
    assert fields[z_o.attrs["lower"]].dims == ("lat_band",)


def test_finer_model_is_regridded_to_the_coarser_observations(fake_references):
    csoil, rh = observed_fields()
    # the same fields on a 5° grid: every 10° cell split into 2×2 equal values
    fine = lambda a: np.repeat(np.repeat(a, 2, axis=0), 2, axis=1)  # noqa: E731
    model = canonical({"csoil": fine(csoil), "rh": fine(rh)}, 5.0, "fine twin")
    result = make_confrontation().confront(model)
    assert result.fields.sizes["lat"] == 18  # the observations' 10° grid
    assert scalar(result, "bias score") == pytest.approx(1.0, abs=1e-9)
    assert scalar(result, "global tau") == pytest.approx(scalar(result, "tau observed (common cells)"), rel=1e-9)


def test_plot_conventions_and_saved_layout(fake_references, tmp_path):
    csoil, rh = observed_fields()
    model = canonical({"csoil": 1.2 * csoil, "rh": rh}, 10.0, "wet")
    result = make_confrontation().confront(model)
    for var in ("tau_model", "tau_observed", "tau_log_ratio", "tau_attribution"):
        assert result.fields[var].attrs["plot"] == "map"
        assert result.fields[var].dims == ("lat", "lon")
    assert result.fields["tau_attribution"].attrs["colormap"] == "categorical"
    assert result.fields["tau_attribution"].attrs["categories"].startswith("0:")
    assert result.fields["tau_zonal_model"].attrs["plot"] == "zonal"
    assert result.table_meta["global_tau"]["plot"] == "bars"
    assert list(result.tables["global_tau"].columns) == ["label", "role", "value", "lower", "upper", "units"]
    assert result.table_meta["taylor_log_tau"]["plot"] == "taylor"
    assert {"correlation", "std_ratio", "crmse"} <= set(result.tables["taylor_log_tau"].columns)
    overall = result.scalars[result.scalars["analysis"] == "overall"]
    assert list(overall["name"]) == ["overall score"] and list(overall["region"]) == ["global"]
    result.save(tmp_path / "task", {"model": "wet"})
    meta, loaded = load_result(tmp_path / "task")
    assert meta["status"] == "ok" and "tau_model" in loaded.fields


def test_unknown_option_and_missing_reference_kind_are_config_errors(fake_references):
    from soilbench.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown option"):
        make_confrontation(bogus=1)
    cls = confrontation_class("turnover")
    with pytest.raises(ConfigError, match="heterotrophic respiration"):
        cls("t", ["merged-soilc"], {}, 1.0, None, "x.yaml").stage_data()


def annual_model(tau_soil_yr, start=1901, end=2018, step_deg=10.0):
    """A TRENDY-like annual model whose every land cell obeys the 2-box with the given τ_soil."""
    import cftime

    csoil_obs, rh_obs = observed_fields(step_deg)
    land = np.isfinite(csoil_obs)
    years = np.arange(start, end + 1)
    npp_series = 400.0 + 1.0 * (years - start)  # g m-2 yr-1
    cveg, csoil = twobox.run_two_box(npp_series, np.full(years.size, 8.0), np.full(years.size, tau_soil_yr))
    # g m-2 → kg m-2 for stocks
    shape = (years.size,) + land.shape
    cube = lambda s: np.where(land, s[:, None, None], np.nan) * np.ones(shape)  # noqa: E731
    lat, lon, area = grid(step_deg)
    times = [cftime.DatetimeNoLeap(y, 7, 2) for y in years]
    ds = xr.Dataset(
        {"npp": (("time", "lat", "lon"), cube(npp_series), {"units": "g m-2 yr-1"}),
         "rh": (("time", "lat", "lon"), cube(csoil / tau_soil_yr), {"units": "g m-2 yr-1"}),
         "cveg": (("time", "lat", "lon"), cube(cveg / 1000), {"units": "kg m-2"}),
         "csoil": (("time", "lat", "lon"), cube(csoil / 1000), {"units": "kg m-2"}),
         "cell_area": area, "land_fraction": (("lat", "lon"), land.astype(float))},
        coords={"time": times, "step_days": ("time", np.full(years.size, 365.0))},
        attrs={"model": f"boxes {tau_soil_yr}", "source_files": "synthetic", "calendar": "noleap"},
    )
    return ds, years, npp_series, cveg, csoil


def test_two_box_runs_for_annual_series_and_matches_the_pure_function(fake_references, tmp_path):
    conf = make_confrontation(twobox_draws=[20, 20])
    ds, years, npp, cveg, csoil = annual_model(20.0)
    result = conf.confront(ds)
    # τ over the years the model shares with the period option (2001-2010; the fake products are static)
    assert result.comparison["period"] == {"model": [1901, 2018], "references": {
        "merged-soilc": None, "other-soilc": None, "some-rh": None}, "requested": [2001, 2010],
        "compared": [2001, 2010], "fallback": None}
    assert result.comparison["quantity"] == "tau" and result.comparison["units"] == "yr"
    late = conf.confront(annual_model(20.0, start=2030, end=2040)[0])
    assert late.comparison["period"]["compared"] == [2030, 2040] and "shares no year" in late.comparison["period"][
        "fallback"]
    land_m2 = float((ds["cell_area"] * ds["land_fraction"]).sum())
    direct = twobox.constrain_model("x", years, npp * land_m2 / 1e15, csoil / 20.0 * land_m2 / 1e15,
                                    cveg * land_m2 / 1e15, csoil * land_m2 / 1e15, n_draws=(20, 20))
    assert scalar(result, "delta cTotal constrained") == pytest.approx(direct.change("cTotal", "constrained"),
                                                                       rel=1e-6)
    assert scalar(result, "delta cTotal emulated") == pytest.approx(scalar(result, "delta cTotal original"),
                                                                    rel=1e-6)
    # τ_soil of 20 yr is below the observed 38.3: the constraint raises the soil uptake
    assert scalar(result, "delta cSoil constrained") > scalar(result, "delta cSoil original")
    assert result.table_meta["twobox"]["plot"] == "bars"
    series = result.fields["ctotal_constrained"]
    assert series.attrs["plot"] == "series" and series.dims == ("year",)
    assert series.attrs["lower"] in result.fields

    # ensemble over saved results, as the runner does after all models
    out = tmp_path / "OUT"
    for tau_soil in (20.0, 30.0):
        ds, *_ = annual_model(tau_soil)
        r = conf.confront(ds)
        from soilbench.results import model_slug

        r.save(out / "soil-turnover" / model_slug(ds.attrs["model"]), {"model": ds.attrs["model"]})
    combined = type(conf).summarize_models(out, "soil-turnover")
    assert combined["emulation"]["n_models"].iloc[0] == 2
    saved = pd.read_csv(out / "soil-turnover" / "twobox_ensemble.csv")
    assert set(saved["variant"]) == {"original", "emulated", "constrained"}
    assert combined["emulation"]["slope"].iloc[0] == pytest.approx(1.0, rel=1e-6)


def test_two_box_ensemble_reads_only_the_given_task_dirs(fake_references, tmp_path):
    """A model dropped since an earlier run into the same OUT keeps its directory; the runner passes
    this run's task directories and only those join the ensemble."""
    from soilbench.results import model_slug

    conf = make_confrontation(twobox_draws=[20, 20])
    out = tmp_path / "OUT"
    dirs = {}
    for tau_soil in (20.0, 30.0, 60.0):
        ds, *_ = annual_model(tau_soil)
        dirs[tau_soil] = out / "soil-turnover" / model_slug(ds.attrs["model"])
        conf.confront(ds).save(dirs[tau_soil], {"model": ds.attrs["model"]})
    summarize = type(conf).summarize_models
    current = summarize(out, "soil-turnover", task_dirs=[dirs[20.0], dirs[30.0]])
    assert current["emulation"]["n_models"].iloc[0] == 2
    everything = summarize(out, "soil-turnover")  # without task_dirs: every directory, the stale one too
    assert everything["emulation"]["n_models"].iloc[0] == 3
    assert not current["changes"].equals(everything["changes"])
    summarize(out, "soil-turnover", task_dirs=[dirs[20.0], dirs[30.0]])
    saved = pd.read_csv(out / "soil-turnover" / "twobox_emulation.csv")
    assert saved["n_models"].iloc[0] == 2
    # no model with the 2-box this run: the earlier ensemble files go, they describe other models
    assert summarize(out, "soil-turnover", task_dirs=[]) is None
    assert not (out / "soil-turnover" / "twobox_ensemble.csv").exists()


def test_two_box_needs_the_correction_period(fake_references):
    ds, *_ = annual_model(20.0, start=1901, end=1950)
    result = make_confrontation().confront(ds)
    assert any("correction period" in n for n in result.notes)
    assert not (result.scalars["analysis"] == "two-box").any()


def test_references_against_each_other(fake_references):
    result = make_confrontation().confront_references()
    values = result.scalars[(result.scalars["region"] == "global")].set_index("reference")["value"]
    assert values["other-soilc / some-rh"] == pytest.approx(0.8 * values["merged-soilc / some-rh"])
    assert result.fields["tau_observed"].attrs["role"] == "reference"
    json.dumps(result.table_meta)


@pytest.mark.parametrize("option, value", [
    ("tau_range_yr", [10, 1]), ("tau_range_yr", 5), ("rh_threshold_g_m2_yr", -1), ("zonal_band_deg", 7),
    ("twobox_draws", [0, 100]), ("twobox_tau_soil_obs_yr", [-38.3, 11]), ("period", [2010, 2001]),
    ("twobox", "yes"), ("twobox_seed", 1.5), ("climate_map", 3), ("temperature_map", ""),
    ("mat_range_degC", [30, -22]), ("mat_bin_width_degC", 0), ("min_cells_per_bin", 1),
])
def test_bad_option_values_are_config_errors(option, value):
    from soilbench.errors import ConfigError

    with pytest.raises(ConfigError, match=option):
        make_confrontation(**{option: value})


def test_merged_stock_declares_the_files_it_reads():
    cls = confrontation_class("turnover")
    conf = cls("t", ["hwsd-ncscd-soilc", "cardamom-rh"], {}, 1.0, None, "x.yaml")
    # the merged stock is a catalog entry (loader merge_where_positive), not a built-in of the type
    assert "hwsd-ncscd-soilc" not in cls.builtin_references
    assert conf.auxiliary_data == ["hwsd-soilc", "ncscd-soilc"]


# -- turnover against climate (docs/turnover.md) ------------------------------------------------

def q10_model(q10=2.0, step_deg=10.0, quantity="tas"):
    """A model whose τ = 40 yr · Q10^(−(T − 10)/10) against its own temperature (°C), Rh observed."""
    _, rh = observed_fields(step_deg)
    lat, lon, _ = grid(step_deg)
    temperature = np.where(np.isfinite(rh), 25.0 - 0.6 * np.abs(lat[:, None]) + 0 * lon, np.nan)
    tau_yr = 40.0 * q10 ** (-(temperature - 10.0) / 10.0)
    ds = canonical({"csoil": rh * tau_yr / 1000.0, "rh": rh}, step_deg, f"q10 {q10}")
    return ds.assign({quantity: (("lat", "lon"), temperature, {"units": "degC"})})


@pytest.mark.parametrize("quantity", ["tas", "tsl"])
def test_a_model_with_a_known_q10_gets_it_back_at_every_temperature(fake_references, quantity):
    result = make_confrontation().confront(q10_model(2.0, quantity=quantity))
    for temperature in ("-10", "+10", "+25"):
        assert scalar(result, f"model Q10 at {temperature} degC (own {quantity})") == pytest.approx(2.0, rel=1e-6)
    q10 = result.tables["tau_q10"].set_index("curve")
    assert q10.loc[f"model τ vs its own {quantity}", "Q10 at +10 degC"] == pytest.approx(2.0, rel=1e-6)
    assert not q10["scored"].any()
    # shown, not scored: no score row for the model's own curve
    own = result.scalars[result.scalars["name"].str.contains("own")]
    assert len(own) == 3 and set(own["type"]) == {"scalar"}
    curves = result.tables["tau_climate"]
    assert result.table_meta["tau_climate"]["plot"] == "response"
    shown = curves[curves["group"].str.contains(f"own {quantity}")]
    assert len(shown) and not shown["scored"].any()


def test_a_model_without_temperature_has_the_extras_as_na_and_the_rest_runs(fake_references):
    csoil, rh = observed_fields()
    result = make_confrontation().confront(canonical({"csoil": 2 * csoil, "rh": rh}, 10.0, "no temperature"))
    assert any("n/a" in n and "neither near-surface air temperature (tas) nor soil temperature (tsl)" in n
               for n in result.notes)
    assert not result.scalars["name"].str.contains("own").any()
    assert len(result.tables["tau_q10"]) == 2  # the observed curve and the model's τ on the observed MAT
    # ×2 τ everywhere: the curve's level part says so, its shape part does not move
    assert scalar(result, "tau-MAT level score") == pytest.approx(np.exp(-1.0))
    assert scalar(result, "tau-MAT shape score") == pytest.approx(1.0)
    assert scalar(result, "climate group tau score") < 0.5 and scalar(result, "zonal tau score") < 0.5


def test_uniform_turnover_scores_at_most_e_minus_one_on_the_climate_scores(fake_references):
    csoil, rh = observed_fields()
    land = np.isfinite(csoil)
    lat, lon, area = grid(10.0)
    level = np.nansum(csoil * area.values) / np.nansum(rh / 1000 * area.values)  # the right global τ
    result = make_confrontation().confront(canonical({"csoil": np.where(land, rh * level / 1000, np.nan), "rh": rh},
                                                     10.0, "uniform"))
    for name in ("zonal tau score", "climate group tau score", "tau-MAT curve score"):
        assert scalar(result, name) <= np.exp(-1) + 1e-9, name
    assert scalar(result, "global tau score") > 0.95


def test_climate_groups_are_regions_of_every_turnover_row(fake_references):
    csoil, rh = observed_fields()
    result = make_confrontation().confront(canonical({"csoil": csoil, "rh": rh}, 10.0, "twin"))
    s = result.scalars
    groups = set(s.loc[s["name"] == "climate group score", "region"])
    assert groups == {"koppen_A", "koppen_B", "koppen_Cfw", "koppen_Cs", "koppen_D", "koppen_E"}
    for group in groups:
        assert scalar(result, "tau model (common cells)", group) == pytest.approx(
            scalar(result, "tau observed (common cells)", group))
        assert scalar(result, "bias score", group) == pytest.approx(1.0)
    assert "lat_65_70" in set(s.loc[s["name"] == "band score", "region"])
    table = result.tables["tau_by_climate_group"]
    assert list(table["region"]) == list(groups_in_order())
    assert table["score"].tolist() == pytest.approx([1.0] * 6)


def groups_in_order():
    from soilbench.regions import CLIMATE_GROUPS

    return CLIMATE_GROUPS


def test_the_climate_options_define_the_score_components_and_the_quantities_read(fake_references):
    conf = make_confrontation()
    assert {"tas", "tsl"} <= conf.model_quantities()
    assert conf.score_names()[-2:] == ("climate group tau score", "tau-MAT curve score")
    off = make_confrontation(climate_map=None, temperature_map=None)
    assert not {"tas", "tsl"} & off.model_quantities()
    csoil, rh = observed_fields()
    result = off.confront(canonical({"csoil": csoil, "rh": rh}, 10.0, "twin"))
    names = set(result.scalars["name"])
    assert "zonal tau score" in names and not {"climate group tau score", "tau-MAT curve score"} & names
    assert "koppen_A" not in set(result.scalars["region"])
    assert scalar(result, "overall score") == pytest.approx(1.0)


def test_the_model_temperature_is_read_in_the_one_pass(fake_references):
    ds, *_ = annual_model(20.0, start=1999, end=2012)
    ds = ds.assign(tas=(("time", "lat", "lon"), np.where(np.isfinite(ds["rh"].values), 5.0, np.nan),
                        {"units": "degC"}))
    conf = make_confrontation(twobox=False)
    keys = conf.model_reductions(ds)
    assert ("annual_step_sums", "tas", "tas", 2001, 2010) in keys
    reduced = {k: v.compute() for k, v in keys.items()}
    result = conf.confront(ds, reductions=reduced)
    assert any("own tas" in n for n in result.notes)
