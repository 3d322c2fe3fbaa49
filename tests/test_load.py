"""load_model on generated CMOR-style files: totals against a plain numpy calculation."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import netCDF4
import numpy as np
import pytest
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_gen as gen  # noqa: E402

from soilbench.analysis import integrate  # noqa: E402
from soilbench.errors import SoilbenchError  # noqa: E402
from soilbench.load import load_model  # noqa: E402
from soilbench.load.units import normalise_unit_string  # noqa: E402

R_EARTH_M = 6371229.0
MONTH_DAYS = {
    "noleap": [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    "all_leap": [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    "360_day": [30] * 12,
}


def days_in_months(calendar: str, year: int) -> list[int]:
    """Month lengths written out: the gregorian-like calendars all make 2000 a leap year."""
    if calendar in MONTH_DAYS:
        return MONTH_DAYS[calendar]
    leap = year % 4 == 0 and (calendar == "julian" or year % 100 != 0 or year % 400 == 0)
    return MONTH_DAYS["all_leap" if leap else "noleap"]


def step_lengths(calendar: str, frequency: str, years: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(year of each step, days of each step) for consecutive steps over ``years``."""
    year_of, days = [], []
    for y in years:
        months = days_in_months(calendar, y)
        if frequency == "annual":
            year_of.append(y), days.append(sum(months))
        elif frequency == "monthly":
            year_of += [y] * 12
            days += months
        else:
            year_of += [y] * sum(months)
            days += [1] * sum(months)
    return np.array(year_of), np.array(days, dtype=float)


def independent_annual_totals_pg(path: Path, calendar: str, frequency: str, years: list[int]) -> np.ndarray:
    """Σ rh · 86400 s · days · 1000 g/kg · area · land fraction per year, in Pg, with plain numpy."""
    with netCDF4.Dataset(path) as nc:
        rh = np.ma.filled(nc["rh"][:].astype(float), np.nan)  # kg m-2 s-1
        lat = nc["lat"][:].astype(float)
        lon = nc["lon"][:].astype(float)
        if "areacella" in nc.variables:
            area = nc["areacella"][:].astype(float)
        else:
            dlat, dlon = abs(lat[1] - lat[0]), abs(lon[1] - lon[0])
            band = np.sin(np.deg2rad(lat + dlat / 2)) - np.sin(np.deg2rad(lat - dlat / 2))
            area = R_EARTH_M**2 * np.deg2rad(dlon) * np.abs(band)[:, None] * np.ones(lon.size)
        fraction = np.ones_like(area)
        if "sftlf" in nc.variables:
            fraction = nc["sftlf"][:].astype(float) / (100.0 if nc["sftlf"].units == "%" else 1.0)
    year_of, days = step_lengths(calendar, frequency, years)
    assert rh.shape[0] == days.size
    grams = np.nansum(rh * 86400.0 * 1000.0 * days[:, None, None] * area * fraction, axis=(1, 2))
    return np.array([grams[year_of == y].sum() / 1e15 for y in years])


CASES = [(cal, freq, True, None) for cal in ["noleap", "360_day", "standard", "julian", "all_leap",
                                              "proleptic_gregorian"] for freq in ["annual", "monthly", "daily"]]
CASES += [("360_day", "monthly", False, None), ("noleap", "daily", False, "areacella"),
          ("standard", "monthly", False, "sftlf_percent"), ("julian", "annual", False, None),
          ("360_day", "annual", True, "areacella"), ("noleap", "monthly", True, "sftlf_percent"),
          ("all_leap", "daily", False, None), ("proleptic_gregorian", "monthly", True, "sftlf_fraction")]


@pytest.mark.parametrize("calendar,frequency,bounds,area", CASES)
def test_annual_totals_match_plain_calculation(tmp_path, calendar, frequency, bounds, area):
    n_years = 3 if frequency == "annual" else 2
    path = gen.write(gen.make_rh(calendar=calendar, frequency=frequency, time_bounds=bounds, area=area,
                                 n_years=n_years), tmp_path / "rh.nc")
    ds = load_model(path)
    years = [2000 + i for i in range(n_years)]
    expected = independent_annual_totals_pg(path, calendar, frequency, years)
    totals = integrate.annual_totals(ds, "rh")
    assert totals.attrs["units"] == "Pg yr-1"
    assert list(totals["year"].values) == years
    np.testing.assert_allclose(totals.values, expected, rtol=2e-5)
    np.testing.assert_allclose(float(integrate.period_total(ds, "rh")), expected.mean(), rtol=2e-5)
    assert ds.attrs["calendar"] == {"gregorian": "standard"}.get(calendar, calendar)
    assert ds.attrs["period"] == f"{years[0]}-{years[-1]}"


def test_step_days_in_360_day_and_noleap_calendars(tmp_path):
    ds360 = load_model(gen.write(gen.make_rh(calendar="360_day", time_bounds=False), tmp_path / "a.nc"))
    assert set(ds360["step_days"].values) == {30.0}
    noleap = load_model(gen.write(gen.make_rh(calendar="noleap", n_years=1), tmp_path / "b.nc"))
    assert list(noleap["step_days"].values) == MONTH_DAYS["noleap"]


def test_canonical_grid_orientation_and_values(tmp_path):
    path = gen.write(gen.make_rh(n_years=1, lon_0_360=True, lat_descending=True), tmp_path / "rh.nc")
    ds = load_model(path)
    assert ds["lat"].dims == ("lat",) and np.all(np.diff(ds["lat"]) > 0)
    assert np.all(np.diff(ds["lon"]) > 0) and ds["lon"].min() >= -180 and ds["lon"].max() <= 180
    assert ds["rh"].dims == ("time", "lat", "lon")
    with netCDF4.Dataset(path) as nc:
        raw = float(nc["rh"][0, 0, -1])  # first (northernmost) row, last (east of 180) column
        lat0, lon_last = float(nc["lat"][0]), float(nc["lon"][-1])
    expected_g_m2_yr = raw * 1000.0 * 86400.0 * 365.0  # a soilbench "yr" is 365 days
    value = float(ds["rh"].isel(time=0).sel(lat=lat0, lon=lon_last - 360.0))
    assert value == pytest.approx(expected_g_m2_yr, rel=1e-6)
    assert ds["rh"].attrs["units"] == "g m-2 yr-1" and ds["rh"].attrs["source"] == "rh [kg m-2 s-1]"


def test_load_is_lazy(tmp_path):
    ds = load_model(gen.write(gen.make_rh(frequency="daily"), tmp_path / "rh.nc"))
    assert ds["rh"].chunks is not None  # dask-backed, not read yet


def test_areacella_is_used_for_cell_area(tmp_path):
    ds = load_model(gen.write(gen.make_rh(area="areacella", n_years=1), tmp_path / "rh.nc"))
    total_area = float(ds["cell_area"].sum())
    assert total_area == pytest.approx(4 * np.pi * gen.AREACELLA_RADIUS_M**2, rel=1e-9)
    assert ds["cell_area"].attrs["source"] == "areacella"


@pytest.mark.parametrize("area,expected_source", [("sftlf_percent", "sftlf [%]"), ("sftlf_fraction", "sftlf [fraction]")])
def test_sftlf_percent_or_fraction_detected(tmp_path, area, expected_source):
    ds = load_model(gen.write(gen.make_rh(area=area, n_years=1), tmp_path / "rh.nc"))
    assert float(ds["land_fraction"].max()) <= 1.0 and float(ds["land_fraction"].max()) > 0.5
    assert ds["land_fraction"].attrs["source"] == expected_source


def test_period_selection_reports_overlap(tmp_path, caplog):
    path = gen.write(gen.make_rh(n_years=2), tmp_path / "rh.nc")
    # name the logger: an in-process `soilbench run` earlier in the session quiets soilbench.load
    with caplog.at_level("INFO", logger="soilbench.load"):
        ds = load_model(path, period=(2001, 2005))
    assert ds.attrs["period"] == "2001-2001"
    assert ds.attrs["period_requested"] == "2001-2005" and ds.attrs["period_overlap"] == "1 of 5 years"
    assert ds.sizes["time"] == 12 and "1 of 5 years" in caplog.text
    with pytest.raises(SoilbenchError, match="does not overlap the requested period 1950-1960"):
        load_model(path, period=(1950, 1960))


def _cmip6_piece(name: str, units: str, scale: float, seed: int, start_year: int = 2000) -> xr.Dataset:
    ds = gen.make_rh(n_years=1, seed=seed, start_year=start_year).rename({"rh": name})
    ds[name] = ds[name] * scale
    ds[name].attrs = {"units": units}
    return ds


def test_trendy_directory_and_derived_sums(tmp_path):
    """One file per variable; rs = rhSoil + raRoot; csoil = cSoil + cLitter."""
    model_dir = tmp_path / "MODEL"
    model_dir.mkdir()
    for name, units, scale in [("rhSoil", "kg m-2 s-1", 1.0), ("raRoot", "kg m-2 s-1", 0.5),
                               ("cSoil", "kg m-2", 1e9), ("cLitter", "kg m-2", 1e8)]:
        gen.write(_cmip6_piece(name, units, scale, seed=len(name)), model_dir / f"MODEL_S3_{name}.nc")
    ds = load_model(model_dir)
    assert ds.attrs["model"] == "MODEL"
    assert {"rh", "ra_root", "rs", "csoil"} <= set(ds.data_vars)
    xr.testing.assert_allclose(ds["rs"], ds["rh"] + ds["ra_root"])
    assert ds["rs"].attrs["source"] == "rhSoil [kg m-2 s-1] + raRoot [kg m-2 s-1]"
    assert ds["csoil"].attrs["includes_litter"] == 1
    with netCDF4.Dataset(model_dir / "MODEL_S3_cSoil.nc") as a, netCDF4.Dataset(model_dir / "MODEL_S3_cLitter.nc") as b:
        expected = float(a["cSoil"][0, 0, 0]) + float(b["cLitter"][0, 0, 0])
        lat0, lon0 = float(a["lat"][0]), float(a["lon"][0])
    got = float(ds["csoil"].isel(time=0).sel(lat=lat0, lon=lon0))
    assert got == pytest.approx(expected, rel=1e-6) or (np.isnan(got) and np.isnan(expected))


def test_files_split_in_time_are_concatenated(tmp_path):
    first = gen.write(gen.make_rh(n_years=1, start_year=2000), tmp_path / "rh_2000.nc")
    second = gen.write(gen.make_rh(n_years=1, start_year=2001, seed=1), tmp_path / "rh_2001.nc")
    ds = load_model([second, first], name="split")
    assert ds.sizes["time"] == 24 and ds.attrs["period"] == "2000-2001" and ds.attrs["model"] == "split"


def test_catalog_entry_like_object_and_one_period_climatology(tmp_path):
    ds = gen.make_rh(frequency="annual", n_years=1)
    ds["time_bnds"].values[:] = [[0.0, 11 * 365.0]]  # one step standing for 2000-2010
    path = gen.write(ds, tmp_path / "clim.nc")
    entry = SimpleNamespace(paths=lambda: [path], metadata={"model": "Clim-Model"})
    out = load_model(entry)
    assert "time" not in out.dims and out.attrs["climatology"] == 1
    assert out.attrs["period"] == "2000-2010" and out.attrs["model"] == "Clim-Model"
    entry.metadata = {"model": "Clim-Model", "period": "1990-1999"}
    assert load_model(entry).attrs["period"] == "1990-1999"


@pytest.mark.parametrize("found,expected", [
    ("gC m-2 day-1", "g m-2 day-1"), ("kg C m-2 s-1", "kg m-2 s-1"), ("Kg/m2", "kg/m2"),
    ("km^2", "km^2"), ("g C m-2 yr-1", "g m-2 common_year-1"), ("PgC/yr", "Pg/common_year"),
    ("degC", "degC"), ("fraction", "1"), ("%", "%"),
])
def test_unit_spellings_normalised_at_the_boundary(found, expected):
    assert normalise_unit_string(found) == expected


@pytest.mark.parametrize("calendar,frequency,unit", [("noleap", "monthly", "months"), ("standard", "annual", "years"),
                                                      ("julian", "monthly", "months")])
def test_months_and_years_since_units(tmp_path, calendar, frequency, unit):
    """TRENDY-style 'months since' / 'years since' give the same steps as 'days since'."""
    days = gen.make_rh(calendar=calendar, frequency=frequency, n_years=2)
    counted = days.copy()
    n = counted.sizes["time"]
    counted["time"] = ("time", np.arange(n) + 0.5, {**days["time"].attrs, "units": f"{unit} since 2000-01-01"})
    counted["time_bnds"] = (("time", "bnds"), np.column_stack([np.arange(n), np.arange(n) + 1.0]))
    a = load_model(gen.write(days, tmp_path / "days.nc"))
    b = load_model(gen.write(counted, tmp_path / "counted.nc"))
    np.testing.assert_array_equal(a["step_days"].values, b["step_days"].values)
    np.testing.assert_allclose(integrate.annual_totals(a, "rh").values, integrate.annual_totals(b, "rh").values)
    # the time attribute still names the dropped bounds: steps then come from the calendar
    without_bounds = load_model(gen.write(counted.drop_vars("time_bnds"), tmp_path / "nobnds.nc"))
    np.testing.assert_array_equal(without_bounds["step_days"].values, a["step_days"].values)
