"""load_reference on the real gridded products (skipped without ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest

from soilbench.analysis import integrate
from soilbench.load import load_model, load_reference

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")]


def canonical_grid_ok(ds) -> bool:
    lat, lon = ds["lat"].values, ds["lon"].values
    return bool(np.all(np.diff(lat) > 0) and np.all(np.diff(lon) > 0) and lon.min() >= -180 and lon.max() <= 180)


def test_cardamom_is_a_2001_2010_rh_climatology():
    ds = load_reference("cardamom-rh")
    assert canonical_grid_ok(ds) and "time" not in ds.dims
    assert ds.attrs["period"] == "2001-2010" and ds.attrs["climatology"] == 1
    assert ds["rh"].attrs["units"] == "g m-2 yr-1"
    assert float(integrate.period_total(ds, "rh")) == pytest.approx(53.9, abs=0.1)


def test_ncscd_and_merged_soil_carbon():
    hwsd = load_reference("hwsd-soilc")
    ncscd = load_reference("ncscd-soilc")
    merged = load_reference("hwsd-ncscd-soilc")
    assert float(integrate.period_total(ncscd, "csoil")) == pytest.approx(475, abs=2)
    # where NCSCD > 0 the merged map is NCSCD, elsewhere HWSD
    use_ncscd = ncscd["csoil"] > 0
    np.testing.assert_array_equal(merged["csoil"].where(use_ncscd).values, ncscd["csoil"].where(use_ncscd).values)
    np.testing.assert_array_equal(merged["csoil"].where(~use_ncscd).values, hwsd["csoil"].where(~use_ncscd).values)
    assert float(merged["csoil"].min()) >= 0  # every fill value (-999, -3.4e38, -1) masked
    assert merged.attrs["period"] == "static"


def test_landfrac_flipped_and_wrapped():
    ds = load_reference("landfrac")
    assert canonical_grid_ok(ds) and ds.attrs["lat_order_found"] == "descending"
    assert ds.attrs["lon_convention_found"] == "0-360"
    with netCDF4.Dataset(SHARED_DATA / "landfrac" / "fractional_land.0.5-deg.nc") as nc:
        raw = nc["data"][0]  # scaled to 0-1 by netCDF4
        lat0, lon0 = float(nc["lat"][0]), float(nc["lon"][-1])  # 89.75 N, 359.75 E
        expected = float(raw[0, -1])
    assert float(ds["land_fraction"].sel(lat=lat0, lon=lon0 - 360)) == pytest.approx(expected, abs=1e-4)


def _root_contribution_value(variable: str, fraction: int) -> tuple[float, float, float]:
    """(lat, lon, value) of a valid cell of the root-contribution file, read with netCDF4 directly
    (its variables are ordered lon, lat): the cell 1/``fraction`` of the way through the valid ones."""
    with netCDF4.Dataset(SHARED_DATA / "root-contribution" / "global_Rt_contribution_to_Rs2.nc") as nc:
        values = np.ma.filled(nc[variable][:], np.nan)
        valid = np.argwhere(np.isfinite(values))
        i, j = valid[len(valid) // fraction]
        return float(nc["latitude"][j]), float(nc["longitude"][i]), float(values[i, j])


def test_root_contribution_lon_lat_order_and_coordinates():
    ds = load_reference("root-contribution")
    assert canonical_grid_ok(ds) and ds["rc"].dims == ("lat", "lon")
    lat, lon, expected = _root_contribution_value("RC", 2)
    assert float(ds["rc"].sel(lat=lat, lon=lon)) == pytest.approx(expected)
    assert 0.2 < float(ds["rc"].mean()) < 0.7


def test_root_contribution_carries_its_gridded_climate():
    """MAT and MAP of the same file, in °C and mm: the turnover confrontation bins τ on this MAT."""
    ds = load_reference("root-contribution")
    assert ds["mat"].attrs["units"] == "degC" and ds["map"].attrs["units"] == "mm yr-1"
    lat, lon, expected = _root_contribution_value("MAT", 3)
    assert float(ds["mat"].sel(lat=lat, lon=lon)) == pytest.approx(expected)
    assert -25 < float(ds["mat"].min()) and float(ds["mat"].max()) < 32
    # the climate covers the same cells as RC: the land fraction RC users read is unchanged
    assert bool((ds["mat"].notnull() == ds["rc"].notnull()).all())


def test_catalog_testbed_entry_and_cvg_npp():
    ds = load_model("testbed-casacnp")
    assert ds.attrs["climatology"] == 1 and ds.attrs["period"] == "2000-2010"
    assert {"rh", "csoil", "clitter", "cveg", "npp"} <= set(ds.data_vars)
    assert ds["csoil"].attrs["includes_litter"] == 1
    # cell_area * land_fraction reproduces the file's landarea (km²) on valid cells
    with netCDF4.Dataset(SHARED_DATA / "testbed" / "casaclm_pool_flux_2000-2010_mean.nc") as nc:
        nc.set_auto_mask(False)
        land_km2 = nc["landarea"][:].astype(float)
        lat0 = float(nc["lat"][48])
        lons = nc["lon"][:].astype(float)
    row = integrate.land_area(ds).sel(lat=lat0).values / 1e6
    expected = np.where(land_km2[48] < 1e30, land_km2[48], 0.0)
    order = np.argsort((lons + 180) % 360 - 180)
    np.testing.assert_allclose(row, expected[order], rtol=1e-5)
