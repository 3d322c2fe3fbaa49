"""TRENDY layout: monthly rh beside annual cSoil, cLitter, cVeg and npp in one model directory.

Each quantity keeps its own step lengths: annual values are held over the monthly steps of
their year, so annual means, annual totals and period means equal the annual files' values.
"""

from __future__ import annotations

import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_gen as gen  # noqa: E402
from test_turnover import fake_references, make_confrontation, scalar  # noqa: E402,F401

from soilbench.analysis import integrate  # noqa: E402
from soilbench.load import annual_mean, load_model  # noqa: E402
from soilbench.load.timeaxis import HELD_ATTRIBUTE  # noqa: E402

MONTHLY_YEARS = (1998, 15)  # first year, number of years: 1998-2012
ANNUAL_YEARS = (1995, 18)  # 1995-2012: the stocks start earlier, as TRENDY's do
STOCKS = {"cSoil": 10.0, "cLitter": 1.0, "cVeg": 4.0}  # kg m-2, roughly


def _annual(name: str, units: str, scale: float, seed: int) -> "xr.Dataset":  # noqa: F821
    ds = gen.make_rh(frequency="annual", start_year=ANNUAL_YEARS[0], n_years=ANNUAL_YEARS[1], nlat=18, nlon=36,
                     seed=seed, var_name=name, units=units)
    ds[name] = ds[name] * scale
    ds[name].attrs["units"] = units
    return ds


def write_trendy_model(directory: Path) -> Path:
    """A TRENDY-like model directory: monthly rh (with sftlf), annual stocks and npp."""
    directory.mkdir()
    rh = gen.make_rh(frequency="monthly", start_year=MONTHLY_YEARS[0], n_years=MONTHLY_YEARS[1], nlat=18, nlon=36,
                     area="sftlf_percent", seed=1)
    gen.write(rh, directory / "MODEL_S3_rh.nc")
    for seed, (name, scale) in enumerate(STOCKS.items(), start=2):
        gen.write(_annual(name, "kg m-2", scale / 1e-8, seed), directory / f"MODEL_S3_{name}.nc")
    gen.write(_annual("npp", "kg m-2 s-1", 1.1, 9), directory / "MODEL_S3_npp.nc")
    return directory


def _file_values(path: Path, name: str) -> np.ndarray:
    with netCDF4.Dataset(path) as nc:
        return np.ma.filled(nc[name][:].astype(float), np.nan)


def test_monthly_flux_and_annual_stocks_keep_their_own_values(tmp_path):
    model_dir = write_trendy_model(tmp_path / "MODEL")
    ds = load_model(model_dir)

    first, n = MONTHLY_YEARS
    assert ds.sizes["time"] == 12 * n  # the finest axis is the model's time
    assert ds["step_days"].values.max() <= 31  # monthly step lengths, not annual ones
    assert ds.attrs["period"] == f"{first}-{first + n - 1}"
    assert HELD_ATTRIBUTE not in ds["rh"].attrs
    assert "annual" in ds["csoil"].attrs[HELD_ATTRIBUTE]

    # annual means of the held stocks are the annual files' values (lat/lon reoriented by the loader)
    expected = sum(_file_values(model_dir / f"MODEL_S3_{v}.nc", v) for v in ("cSoil", "cLitter"))
    expected = expected[first - ANNUAL_YEARS[0]:][:, ::-1, :]  # years of the monthly axis; lat ascending
    expected = np.concatenate([expected[:, :, 18:], expected[:, :, :18]], axis=2)  # lon 0-360 → -180-180
    got = annual_mean(ds[["csoil"]].assign_coords(step_days=ds["step_days"]))["csoil"].values
    np.testing.assert_allclose(got, expected, rtol=1e-6)

    # a held annual flux keeps its annual total: rate × 365 days / 365 in the noleap calendar
    npp_file = _file_values(model_dir / "MODEL_S3_npp.nc", "npp")[first - ANNUAL_YEARS[0]:]
    g_per_kg_s_to_g_per_yr = 1e3 * 365 * 86400
    lf = load_model(model_dir, quantities={"npp"})
    per_cell = npp_file * g_per_kg_s_to_g_per_yr  # g m-2 yr-1, file orientation
    land = (lf["cell_area"] * lf["land_fraction"]).values
    land_file = np.concatenate([land[:, 18:], land[:, :18]], axis=1)[::-1, :]
    expected_pg = np.nansum(per_cell * land_file[None], axis=(1, 2)) / 1e15
    np.testing.assert_allclose(integrate.annual_totals(lf, "npp").values, expected_pg, rtol=1e-5)


def test_quantities_keeps_only_what_is_asked_and_lists_the_rest(tmp_path):
    ds = load_model(write_trendy_model(tmp_path / "MODEL"), quantities={"rh"})
    assert [v for v in ds.data_vars if v not in ("cell_area", "land_fraction")] == ["rh"]
    assert set(ds.attrs["quantities_available"].split()) == {"rh", "npp", "csoil", "clitter", "cveg"}


def test_annual_stocks_without_monthly_years_are_missing_not_invented(tmp_path):
    """Monthly steps whose year has no annual stock are NaN."""
    model_dir = tmp_path / "MODEL"
    model_dir.mkdir()
    gen.write(gen.make_rh(frequency="monthly", start_year=2000, n_years=3, nlat=18, nlon=36, seed=1),
              model_dir / "rh.nc")
    stock = gen.make_rh(frequency="annual", start_year=2001, n_years=5, nlat=18, nlon=36, seed=2, var_name="cSoil",
                        units="kg m-2")
    gen.write(stock, model_dir / "cSoil.nc")
    ds = load_model(model_dir)
    years = ds["time"].dt.year.values
    assert ds.sizes["time"] == 36
    assert bool(ds["csoil"].isel(time=np.flatnonzero(years == 2000)).isnull().all())
    assert int(ds["csoil"].isel(time=np.flatnonzero(years == 2001)).notnull().sum()) > 0


def test_turnover_confrontation_on_a_trendy_directory(tmp_path, fake_references):  # noqa: F811
    model_dir = write_trendy_model(tmp_path / "MODEL")
    ds = load_model(model_dir)
    result = make_confrontation(twobox_draws=[10, 10]).confront(ds)

    # global τ on the model's grid: period means over 2001-2010 of the annual stock and the monthly rh
    years = ds["time"].dt.year
    inside = ds.isel(time=np.flatnonzero(((years >= 2001) & (years <= 2010)).values))
    csoil = annual_mean(inside[["csoil"]].assign_coords(step_days=inside["step_days"]))["csoil"].mean("year")
    rh = integrate.period_mean(inside, "rh")
    area = integrate.land_area(ds)
    valid = csoil.notnull() & rh.notnull() & (area > 0)
    expected = float((csoil * area).where(valid).sum()) / float((rh / 1e3 * area).where(valid).sum())
    assert scalar(result, "global tau") == pytest.approx(expected, rel=1e-6)

    # the 2-box constraint ran on the annual stocks and npp (no "not run" note)
    assert not [n for n in result.notes if "2-box constraint not run" in n]
    assert np.isfinite(scalar(result, "delta cTotal original"))
