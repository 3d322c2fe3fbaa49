"""Pure gridded analyses against values known exactly on small synthetic grids."""

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from soilbench.analysis import bias, integrate, regrid, spread, taylor, totals, zonal
from soilbench.regions import region_masks

EARTH_RADIUS_M = 6371229.0


def regular_grid(res_deg: float, lat_range=(-90.0, 90.0)) -> tuple[np.ndarray, np.ndarray]:
    lat = np.arange(lat_range[0] + res_deg / 2, lat_range[1], res_deg)
    lon = np.arange(-180 + res_deg / 2, 180, res_deg)
    return lat, lon


def sphere_area(lat: np.ndarray, lon: np.ndarray, res_deg: float) -> np.ndarray:
    band = np.sin(np.radians(lat + res_deg / 2)) - np.sin(np.radians(lat - res_deg / 2))
    return EARTH_RADIUS_M**2 * np.radians(res_deg) * np.outer(band, np.ones(lon.size))


def smooth_field(res_deg: float) -> np.ndarray:
    """An rh-like field: high in the tropics, low towards the poles, a zonal wave (g m-2 yr-1)."""
    lat, lon = regular_grid(res_deg)
    return 700 * np.cos(np.radians(lat))[:, None] ** 2 + 60 * np.sin(np.radians(2 * lon))[None, :] + 150


def canonical(field: np.ndarray, res_deg: float, name: str = "rh", land_fraction=None,
              lat_range=(-90.0, 90.0), times=None, step_days=None) -> xr.Dataset:
    """A small canonical dataset (docs/architecture.md) on a regular grid."""
    lat, lon = regular_grid(res_deg, lat_range)
    dims = ("lat", "lon") if field.ndim == 2 else ("time", "lat", "lon")
    coords = {"lat": lat, "lon": lon}
    if times is not None:
        coords["time"] = times
    ds = xr.Dataset(
        {
            name: (dims, field, {"units": "g m-2 yr-1", "long_name": name}),
            "cell_area": (("lat", "lon"), sphere_area(lat, lon, res_deg), {"units": "m2"}),
            "land_fraction": (("lat", "lon"), np.ones((lat.size, lon.size)) if land_fraction is None else land_fraction),
        },
        coords=coords,
        attrs={"model": "synthetic", "period": "2001-2010"},
    )
    if step_days is not None:
        ds = ds.assign_coords(step_days=("time", np.asarray(step_days, dtype=float)))
    return ds


# -- totals ---------------------------------------------------------------------------------

def test_total_of_four_cells_with_known_areas():
    # 2 x 2 cells of 90°x180°: each is a quarter of the sphere, area = π R²
    field = np.array([[100.0, 200.0], [300.0, np.nan]])
    land = np.array([[1.0, 0.5], [0.25, 1.0]])
    quarter = math.pi * EARTH_RADIUS_M**2
    ds = xr.Dataset(
        {"rh": (("lat", "lon"), field), "cell_area": (("lat", "lon"), np.full((2, 2), quarter)),
         "land_fraction": (("lat", "lon"), land)},
        coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]},
    )
    masks = region_masks(ds["lat"], ds["lon"], band_width_deg=90.0)
    got = totals.regional_rate_totals(ds["rh"], integrate.land_area(ds), masks)
    assert float(got.sel(region="global")) == pytest.approx((100 + 100 + 75) * quarter / 1e15, rel=1e-12)
    assert float(got.sel(region="lat_-90_0")) == pytest.approx(200 * quarter / 1e15, rel=1e-12)
    assert float(got.sel(region="lat_0_90")) == pytest.approx(75 * quarter / 1e15, rel=1e-12)


def test_total_score_lets_uncertainty_absorb_bias():
    assert totals.total_uncertainty_score(52.0, 50.0, 1.0, 2.0) == pytest.approx(math.exp(-0.5))
    assert totals.total_uncertainty_score(50.5, 50.0, 1.0, 2.0) == 1.0
    assert totals.estimate_spread([48.0, 50.0, 52.0], fallback=50.0) == pytest.approx(2.0)
    assert totals.estimate_spread([48.0, float("nan")], fallback=-50.0) == 50.0


def test_bl2004_conversion_inverts_the_published_relation():
    rs = xr.DataArray([500.0, 1000.0, -3.0])
    rh = totals.rs_from_rh_bl2004(np.exp(1.22 + 0.73 * np.log(rs.clip(min=1e-9))).where(rs > 0))
    np.testing.assert_allclose(rh.values[:2], [500.0, 1000.0])
    assert np.isnan(rh.values[2])


# -- regridding -----------------------------------------------------------------------------

@pytest.mark.parametrize("lat_range, rel", [((-60.0, 60.0), 1e-12), ((-90.0, 90.0), 1e-12)])
def test_conservative_regrid_1deg_to_2deg_conserves_the_total(lat_range, rel):
    rng = np.random.default_rng(1)
    lat, lon = regular_grid(1.0, lat_range)
    field = rng.uniform(0, 1000, (lat.size, lon.size))
    field[rng.random(field.shape) < 0.3] = np.nan
    land = rng.uniform(0.2, 1.0, field.shape)
    fine = canonical(field, 1.0, land_fraction=land, lat_range=lat_range)
    coarse = canonical(np.zeros((lat.size // 2, lon.size // 2)), 2.0, lat_range=lat_range)
    out = regrid.regrid_field(fine, "rh", coarse)
    before = float((fine["rh"] * integrate.land_area(fine)).sum())
    after = float((out["rh"] * integrate.land_area(out)).sum())
    assert after == pytest.approx(before, rel=rel)
    # each coarse cell is the land-weighted mean of its four fine cells
    block = fine.isel(lat=slice(0, 2), lon=slice(0, 2))
    w = (block["land_fraction"] * block["cell_area"]).where(block["rh"].notnull())
    expected = float((block["rh"] * w).sum() / w.sum())
    assert float(out["rh"][0, 0]) == pytest.approx(expected, rel=1e-9)


def test_regrid_on_the_same_grid_is_identity_and_coarsest_is_found():
    ds = canonical(np.arange(8.0).reshape(2, 4), 90.0)
    out = regrid.regrid_field(ds, "rh", ds)
    xr.testing.assert_identical(out["rh"], ds["rh"])
    fine = canonical(np.zeros((180, 360)), 1.0)
    assert regrid.coarsest([fine, ds, fine]) == 1


# -- Taylor -----------------------------------------------------------------------------------

def test_linear_transform_of_the_reference_gives_known_taylor_statistics():
    rng = np.random.default_rng(2)
    ds = canonical(rng.uniform(100, 900, (18, 36)), 10.0)
    ref = ds["rh"]
    area = integrate.land_area(ds)
    stats_pos = taylor.taylor_statistics(2.5 * ref + 40.0, ref, area)
    assert stats_pos["correlation"] == pytest.approx(1.0, abs=1e-12)
    assert stats_pos["std_ratio"] == pytest.approx(2.5, rel=1e-12)
    assert stats_pos["crmse_normalised"] == pytest.approx(1.5, rel=1e-12)
    assert stats_pos["score"] == pytest.approx(4 * 2 / ((2.5 + 0.4) ** 2 * 2))
    stats_neg = taylor.taylor_statistics(-0.5 * ref, ref, area)
    assert stats_neg["correlation"] == pytest.approx(-1.0, abs=1e-12)
    assert stats_neg["score"] == pytest.approx(0.0, abs=1e-12)
    assert taylor.taylor_statistics(ref, ref, area)["score"] == pytest.approx(1.0)


def test_taylor_relation_holds_with_area_weights_and_masks():
    rng = np.random.default_rng(3)
    ds = canonical(rng.normal(300, 80, (18, 36)), 10.0)
    model = ds["rh"] * 0.8 + rng.normal(0, 50, ds["rh"].shape)
    model[0:3] = np.nan
    s = taylor.taylor_statistics(model, ds["rh"], integrate.land_area(ds))
    lhs = s["crmse"] ** 2
    rhs = s["std_model"] ** 2 + s["std_reference"] ** 2 - 2 * s["std_model"] * s["std_reference"] * s["correlation"]
    assert lhs == pytest.approx(rhs, rel=1e-10)
    assert s["n_cells"] == 15 * 36
    # weights matter: unweighted statistics differ
    assert taylor.taylor_statistics(model, ds["rh"], 1.0)["std_model"] != pytest.approx(s["std_model"], rel=1e-6)


# -- zonal -------------------------------------------------------------------------------------

def test_zonal_band_mean_and_t_interval_match_scipy_for_equal_weights():
    rng = np.random.default_rng(4)
    field = rng.uniform(0, 500, (36, 72))  # 5° cells: one row per 5° band, equal areas per row
    ds = canonical(field, 5.0)
    z = zonal.zonal_statistics(ds["rh"], integrate.land_area(ds), 5.0, 0.95)
    row = field[20]
    lo, hi = stats.t.interval(0.95, row.size - 1, loc=row.mean(), scale=stats.sem(row))
    band = z.sel(lat_band=row_lat(ds, 20))
    assert float(band["mean"]) == pytest.approx(row.mean())
    assert float(band["lower"]) == pytest.approx(lo, rel=1e-10)
    assert float(band["upper"]) == pytest.approx(hi, rel=1e-10)
    assert float(band["total"]) == pytest.approx(float((ds["rh"][20] * ds["cell_area"][20]).sum()) / 1e15)
    assert dict(z.sizes) == {"lat_band": 36}


def row_lat(ds, i):
    return float(ds["lat"][i])


def test_zonal_averages_cells_within_a_band_and_uses_cells_valid_in_both():
    # 1° grid, 5° bands: band value is the area-weighted mean of its rows, not an interpolation
    lat, lon = regular_grid(1.0)
    field = np.broadcast_to(lat[:, None], (lat.size, lon.size)).copy()
    ds = canonical(field, 1.0)
    ref = ds["rh"].where(ds["lon"] < 0)  # reference only has the western hemisphere
    comp = zonal.zonal_comparison(ds["rh"] * 2, ref, integrate.land_area(ds), 5.0)
    rows = slice(0, 5)  # band −90…−85
    w = ds["cell_area"][rows, 0].values
    expected = float(np.sum(lat[rows] * w) / np.sum(w))
    assert float(comp["reference_mean"][0]) == pytest.approx(expected, rel=1e-12)
    assert float(comp["model_mean"][0]) == pytest.approx(2 * expected, rel=1e-12)
    assert float(comp["model_area"][0]) == pytest.approx(float(comp["reference_area"][0]))
    # a model equal to the reference scores 1 in every band
    same = zonal.zonal_comparison(ref, ref, integrate.land_area(ds), 5.0)
    assert zonal.zonal_score(same) == pytest.approx(1.0)
    assert 0 < zonal.zonal_score(comp) < 1


def test_zonal_band_score_is_not_absorbed_by_the_spread_of_cells_in_a_band():
    # a model 27 % above the reference in every band once scored 1 in bands whose cells vary a
    # lot: the t-interval of the band mean (spatial spread) was taken as the reference's uncertainty
    ds = canonical(smooth_field(10.0) * np.random.default_rng(5).lognormal(0.0, 1.0, (18, 36)), 10.0)
    comp = zonal.zonal_comparison(ds["rh"] * 1.27, ds["rh"], integrate.land_area(ds), 10.0)
    half = (comp["reference_upper"] - comp["reference_lower"]) / 2
    assert bool((half > 0.27 * comp["reference_mean"]).any())  # bands the old rule gave 1
    bands = comp["score"].dropna("lat_band")
    assert bool((bands < 0.9).all())
    log_r = np.log(comp["reference_mean"]).where(comp["reference_area"] > 0)
    w = comp["reference_area"].where(comp["reference_area"] > 0) / comp["reference_area"].sum()
    contrast = float(np.sqrt((w * (log_r - (w * log_r).sum()) ** 2).sum()))
    np.testing.assert_allclose(bands, math.exp(-math.log(1.27) / contrast))
    assert zonal.zonal_score(comp) == pytest.approx(math.exp(-math.log(1.27) / contrast))


def test_zonal_score_of_null_models():
    ds = canonical(smooth_field(5.0), 5.0)
    area = integrate.land_area(ds)
    ref = ds["rh"]
    constant = xr.full_like(ref, float((ref * area).sum() / area.where(ref.notnull()).sum())).where(ref.notnull())
    assert zonal.zonal_score(zonal.zonal_comparison(constant, ref, area, 5.0)) <= math.exp(-1) + 1e-12
    assert zonal.zonal_score(zonal.zonal_comparison(ref * 0.0, ref, area, 5.0)) < 0.01
    ladder = [zonal.zonal_score(zonal.zonal_comparison(ref * f, ref, area, 5.0)) for f in (1.0, 1.1, 1.3, 2.0)]
    assert ladder[0] == pytest.approx(1.0) and all(a > b for a, b in zip(ladder, ladder[1:]))


# -- bias and RMSE maps --------------------------------------------------------------------------

def test_bias_and_rmse_score_maps():
    ref = xr.DataArray([[100.0, 200.0]], dims=("lat", "lon"))
    model = xr.DataArray([[150.0, np.nan]], dims=("lat", "lon"))
    s = bias.bias_score_map(model, ref)
    assert float(s[0, 0]) == pytest.approx(100 / 150)  # single-time reference: min/max
    assert np.isnan(float(s[0, 1]))
    assert float(bias.ilamb_bias_score_map(model, ref)[0, 0]) == pytest.approx(math.exp(-0.5))
    # a model without the flux scores 0, not ILAMB's e^-1
    assert float(bias.bias_score_map(model * 0, ref)[0, 0]) == 0.0
    assert float(bias.ilamb_bias_score_map(model * 0, ref)[0, 0]) == pytest.approx(math.exp(-1))
    sigma = xr.DataArray([[10.0, 10.0]], dims=("lat", "lon"))
    assert float(bias.bias_score_map(model, ref, sigma, uncertainty=50.0)[0, 0]) == 1.0

    t = np.arange(4)
    r = xr.DataArray(np.array([1.0, -1.0, 1.0, -1.0])[:, None, None] * np.ones((4, 1, 2)) + 10,
                     dims=("time", "lat", "lon"), coords={"time": t, "step_days": ("time", [1.0] * 4)})
    m = 2 * (r - 10) + 50  # anomalies twice the reference's: crmse = σ_ref = 1
    crmse, score = bias.rmse_score_map(m, r)
    np.testing.assert_allclose(crmse.values, 1.0)
    np.testing.assert_allclose(score.values, math.exp(-1.0))


# -- spread -------------------------------------------------------------------------------------

def test_spread_table_counts_each_reference_once():
    rows = []
    for model, value in (("A", 40.0), ("B", 60.0)):
        rows += [{"label": model, "role": "model", "region": "global", "value": value},
                 {"label": "p1", "role": "reference", "region": "global", "value": 45.0},
                 {"label": "p2", "role": "reference", "region": "global", "value": 55.0}]
    table = spread.spread_table(pd.DataFrame(rows))
    row = table.set_index("region").loc["global"]
    assert row["n_models"] == 2 and row["n_products"] == 2
    assert row["cv_models"] == pytest.approx(np.std([40, 60], ddof=1) / 50)
    assert row["cv_products"] == pytest.approx(np.std([45, 55], ddof=1) / 50)
    assert row["cv_ratio"] == pytest.approx(2.0)


def test_cv_map_across_products():
    a = xr.DataArray([[1.0, 2.0, np.nan]], dims=("lat", "lon"))
    b = xr.DataArray([[3.0, 2.0, 5.0]], dims=("lat", "lon"))
    cv = spread.cv_map([a, b])
    assert float(cv[0, 0]) == pytest.approx(np.std([1, 3], ddof=1) / 2)
    assert float(cv[0, 1]) == 0.0
    assert np.isnan(float(cv[0, 2]))
