"""Hostile NetCDF inputs: each is refused by ``soilbench inspect`` with one line naming the file,
the variable and the problem, and a non-zero exit (docs/loading.md, "Checks").

Every bad file is generated here, in ``tmp_path``; none is committed. Each case printed a wrong
number with exit 0, or a traceback, before these checks existed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cftime
import netCDF4
import numpy as np
import pytest
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_gen as gen  # noqa: E402

from soilbench import cli  # noqa: E402
from soilbench.errors import SoilbenchError  # noqa: E402
from soilbench.load import load_model  # noqa: E402

SECONDS_PER_YEAR = 365 * 86400.0


def _rh(**kw) -> xr.Dataset:
    kw.setdefault("n_years", 1)
    return gen.make_rh(**kw)


def _stock(name: str, units: str = "kg m-2", value: float = 10.0, **kw) -> xr.Dataset:
    """A stock variable on make_rh's grid and time axis (ocean cells NaN)."""
    ds = _rh(**kw)
    stock = np.where(np.isnan(ds["rh"].values), np.float32(np.nan), np.float32(value)).astype("float32")
    ds[name] = (ds["rh"].dims, stock, {"units": units})
    return ds.drop_vars("rh")


def _put(ds: xr.Dataset, name: str, value: float, where: str = "ocean", step: int | None = None) -> xr.Dataset:
    """``ds[name]`` with ``value`` written at the ocean cells (or one land cell), all or one step."""
    data = ds[name].values.copy()
    steps = slice(None) if step is None else slice(step, step + 1)
    if where == "ocean":
        mask = np.isnan(data[0])
        data[steps, mask] = value
    else:
        i, j = np.argwhere(~np.isnan(data[0]))[0]
        data[steps, i, j] = value
    ds[name] = ds[name].copy(data=data)
    return ds


def _write(ds: xr.Dataset, path: Path, **kw) -> Path:
    return gen.write(ds, path) if not kw else _write_format(ds, path, **kw)


def _write_format(ds: xr.Dataset, path: Path, fmt: str, unlimited: bool = True) -> Path:
    encoding = {v: {"_FillValue": None} for v in ds.variables if "bnds" in str(v) or v in ("lat", "lon", "time")}
    ds.to_netcdf(path, format=fmt, engine="netcdf4", unlimited_dims=["time"] if unlimited and "time" in ds.dims else None,
                 encoding=encoding)
    return path


def _cut(path: Path, keep: float | int) -> Path:
    data = path.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else len(data) - keep
    path.write_bytes(data[:n])
    return path


# --- truncated NetCDF3 ------------------------------------------------------------------------

def classic_half(tmp):
    return _cut(_write(_rh(), tmp / "rh.nc", fmt="NETCDF3_CLASSIC"), 0.5)


def classic_last_bytes(tmp):
    return _cut(_write(_rh(), tmp / "rh.nc", fmt="NETCDF3_CLASSIC"), 100)


def offset64_half(tmp):
    return _cut(_write(_rh(), tmp / "rh.nc", fmt="NETCDF3_64BIT"), 0.5)


def cdf5_half(tmp):
    return _cut(_write(_rh(), tmp / "rh.nc", fmt="NETCDF3_64BIT_DATA"), 0.5)


def classic_static_stock(tmp):
    ds = _stock("cSoil", n_years=1).isel(time=0, drop=True).drop_vars("time_bnds")
    ds.attrs["period"] = "2000-2000"
    return _cut(_write(ds, tmp / "cSoil_2000-2000.nc", fmt="NETCDF3_CLASSIC", unlimited=False), 0.6)


# --- mixed grids in one model directory ---------------------------------------------------------

def mixed_resolution(tmp):
    directory = tmp / "model"
    directory.mkdir()
    gen.write(_rh(nlat=18, nlon=36), directory / "rh.nc")
    gen.write(_stock("cSoil", nlat=36, nlon=72), directory / "cSoil.nc")
    return directory


def mixed_shifted(tmp):
    directory = tmp / "model"
    directory.mkdir()
    gen.write(_rh(), directory / "rh.nc")
    shifted = _stock("cSoil")
    shifted = shifted.assign_coords(lon=shifted["lon"] + 7.5, lon_bnds=shifted["lon_bnds"] + 7.5)
    gen.write(shifted, directory / "cSoil.nc")
    return directory


def mixed_time_pieces(tmp):
    directory = tmp / "model"
    directory.mkdir()
    gen.write(_rh(start_year=2000, nlat=12, nlon=24), directory / "rh_2000.nc")
    gen.write(_rh(start_year=2001, nlat=24, nlon=48), directory / "rh_2001.nc")
    return directory


# --- time axis --------------------------------------------------------------------------------

def duplicated_step(tmp):
    ds = _rh()
    ds = ds.isel(time=[0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11])  # a 13-month year
    return gen.write(ds, tmp / "rh.nc")


def duplicated_step_no_bounds(tmp):
    ds = _rh(time_bounds=False)
    return gen.write(ds.isel(time=[0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11]), tmp / "rh.nc")


def nan_time_stamp(tmp):
    ds = _rh(time_bounds=False)
    values = ds["time"].values.copy()
    values[5] = np.nan
    return gen.write(ds.assign_coords(time=("time", values, ds["time"].attrs)), tmp / "rh.nc")


def nan_first_time_stamp(tmp):
    ds = _rh()
    values = ds["time"].values.copy()
    values[0] = np.nan
    return gen.write(ds.assign_coords(time=("time", values, ds["time"].attrs)), tmp / "rh.nc")


def time_without_coordinate(tmp):
    ds = _rh(time_bounds=False).drop_vars("time")
    return gen.write(ds, tmp / "rh.nc")


def time_coordinate_not_dates(tmp):
    ds = _rh(time_bounds=False)
    ds["time"].attrs = {}
    return gen.write(ds, tmp / "rh.nc")


def zero_length_time(tmp):
    return gen.write(_rh(time_bounds=False).isel(time=slice(0, 0)), tmp / "rh.nc")


# --- impossible values ------------------------------------------------------------------------

NEG_RATE = -3e-8  # kg m-2 s-1: about −950 g m-2 yr-1


def negative_rh(tmp):
    ds = _rh()
    ds["rh"] = -ds["rh"]
    return gen.write(ds, tmp / "rh.nc")


def negative_rh_one_cell_late(tmp):
    """Only one value, at a step the load-time sample does not read: found in the pass."""
    return gen.write(_put(_rh(n_years=2), "rh", NEG_RATE, where="land", step=17), tmp / "rh.nc")


def all_nan_fill(tmp):
    ds = _rh()
    ds["rh"] = ds["rh"] * np.nan
    return gen.write(ds, tmp / "rh.nc")


def all_nan_no_fill(tmp):
    ds = _rh()
    ds["rh"] = ds["rh"] * np.nan
    path = tmp / "rh.nc"
    ds.to_netcdf(path, encoding={"rh": {"_FillValue": None}, "time": {"_FillValue": None},
                                 "lat": {"_FillValue": None}, "lon": {"_FillValue": None}})
    return path


def plus_inf(tmp):
    return gen.write(_put(_rh(), "rh", np.inf, where="land"), tmp / "rh.nc")


def minus_inf(tmp):
    return gen.write(_put(_rh(), "rh", -np.inf, where="land", step=3), tmp / "rh.nc")


def undeclared_fill_9999(tmp):
    return gen.write(_put(_rh(), "rh", -9999.0), tmp / "rh.nc")


def overflow_1e30(tmp):
    return gen.write(_put(_rh(), "rh", 1e30), tmp / "rh.nc")


def undeclared_fill_in_middle_step(tmp):
    return gen.write(_put(_rh(n_years=2), "rh", -9999.0, step=7), tmp / "rh.nc")


def csoil_fill_9999(tmp):
    return gen.write(_put(_stock("cSoil"), "cSoil", -9999.0), tmp / "cSoil.nc")


def csoil_negative(tmp):
    return gen.write(_stock("cSoil", value=-5.0), tmp / "cSoil.nc")


def cveg_overflow(tmp):
    return gen.write(_put(_stock("cVeg"), "cVeg", 1e30), tmp / "cVeg.nc")


def npp_overflow(tmp):
    ds = _rh().rename({"rh": "npp"})
    ds["npp"].attrs.pop("standard_name")
    return gen.write(_put(ds, "npp", 3e30), tmp / "npp.nc")


def npp_fill_9999(tmp):
    ds = _rh(units="g m-2 yr-1").rename({"rh": "npp"})
    ds["npp"] = ds["npp"] * 1e10
    ds["npp"].attrs = {"units": "g m-2 yr-1"}
    return gen.write(_put(ds, "npp", -9999.0), tmp / "npp.nc")


def rs_negative(tmp):
    ds = _rh().rename({"rh": "rs"})
    ds["rs"].attrs.pop("standard_name")
    ds["rs"] = -ds["rs"]
    return gen.write(ds, tmp / "rs.nc")


def climatology_fill(tmp):
    """A testbed-like one-step mean in g C m-2 day-1 with −9999 over the ocean."""
    ds = _rh(units="gC m-2 day-1").isel(time=[0])
    ds["rh"] = ds["rh"] * 1e8 / 100.0
    return gen.write(_put(ds.rename({"rh": "cresp"}), "cresp", -9999.0), tmp / "model_2000-2010_mean.nc")


def climatology_all_nan(tmp):
    ds = _rh(units="gC m-2 day-1").isel(time=[0]).rename({"rh": "cresp"})
    ds["cresp"] = ds["cresp"] * np.nan
    return gen.write(ds, tmp / "model_2000-2010_mean.nc")


# --- coordinates ------------------------------------------------------------------------------

def latitudes_0_180(tmp):
    ds = _rh()
    ds = ds.assign_coords(lat=ds["lat"] + 90.0, lat_bnds=ds["lat_bnds"] + 90.0)
    return gen.write(ds, tmp / "rh.nc")


def duplicated_latitude(tmp):
    ds = _rh()
    lat = ds["lat"].values.copy()
    lat[3] = lat[2]
    bounds = ds["lat_bnds"].values.copy()
    bounds[3] = bounds[2]
    return gen.write(ds.assign_coords(lat=("lat", lat, ds["lat"].attrs), lat_bnds=(("lat", "bnds"), bounds)),
                     tmp / "rh.nc")


def nan_longitude(tmp):
    ds = _rh()
    lon = ds["lon"].values.copy()
    lon[4] = np.nan
    return gen.write(ds.assign_coords(lon=("lon", lon, ds["lon"].attrs)), tmp / "rh.nc")


def nan_latitude(tmp):
    ds = _rh()
    lat = ds["lat"].values.copy()
    lat[0] = np.nan
    return gen.write(ds.assign_coords(lat=("lat", lat, ds["lat"].attrs)), tmp / "rh.nc")


def cyclic_longitude(tmp):
    """0…360 with the 0° column repeated at 360°: the same cells counted twice."""
    ds = _rh(nlon=24, lon_0_360=True)
    lon = ds["lon"].values - 7.5  # 0, 15, …, 345
    ds = ds.assign_coords(lon=("lon", lon, ds["lon"].attrs)).drop_vars("lon_bnds")
    ds["lon"].attrs.pop("bounds", None)
    wrapped = ds.isel(lon=[0]).assign_coords(lon=("lon", [360.0], ds["lon"].attrs))
    return gen.write(xr.concat([ds, wrapped], dim="lon", data_vars="minimal", coords="minimal",
                               compat="override"), tmp / "rh.nc")


def longitudes_beyond_360(tmp):
    ds = _rh()
    return gen.write(ds.assign_coords(lon=ds["lon"] + 400.0, lon_bnds=ds["lon_bnds"] + 400.0), tmp / "rh.nc")


def curvilinear(tmp):
    ds = _rh().drop_vars(["lat_bnds", "lon_bnds"])
    lat2, lon2 = np.meshgrid(ds["lat"].values, ds["lon"].values, indexing="ij")
    ds = ds.rename({"lat": "y", "lon": "x"}).drop_vars(["y", "x"])
    ds["lat"] = (("y", "x"), lat2, {"standard_name": "latitude", "units": "degrees_north"})
    ds["lon"] = (("y", "x"), lon2, {"standard_name": "longitude", "units": "degrees_east"})
    ds["rh"].attrs["coordinates"] = "lat lon"
    return gen.write(ds, tmp / "rh.nc")


def zero_length_latitude(tmp):
    return gen.write(_rh().isel(lat=slice(0, 0)), tmp / "rh.nc")


def zero_length_longitude(tmp):
    return gen.write(_rh().isel(lon=slice(0, 0)), tmp / "rh.nc")


def bounds_not_containing_centres(tmp):
    ds = _rh()
    return gen.write(ds.assign_coords(lat_bnds=ds["lat_bnds"] + 30.0), tmp / "rh.nc")


# case: (writer, variable named, words of the problem)
CASES = {
    "classic_half": (classic_half, "rh", ["truncated", "NetCDF3"]),
    "classic_last_bytes": (classic_last_bytes, "rh", ["truncated"]),
    "offset64_half": (offset64_half, "rh", ["truncated"]),
    "cdf5_half": (cdf5_half, "rh", ["truncated"]),
    "classic_static_stock": (classic_static_stock, "cSoil", ["truncated"]),
    "mixed_resolution": (mixed_resolution, "rh", ["18x36", "rh.nc", "'cSoil' is on a 36x72", "cSoil.nc", "one grid"]),
    "mixed_shifted": (mixed_shifted, "rh", ["12x24", "'cSoil'", "one grid"]),
    "mixed_time_pieces": (mixed_time_pieces, "rh", ["24x48", "12x24"]),
    "duplicated_step": (duplicated_step, "time", ["duplicated time step", "steps 5 and 6"]),
    "duplicated_step_no_bounds": (duplicated_step_no_bounds, "time", ["duplicated time step", "steps 4 and 5"]),
    "nan_time_stamp": (nan_time_stamp, "time", ["NaN time stamp", "step(s) 6"]),
    "nan_first_time_stamp": (nan_first_time_stamp, "time", ["NaN time stamp", "step(s) 1"]),
    "time_without_coordinate": (time_without_coordinate, "time", ["without a time coordinate"]),
    "time_coordinate_not_dates": (time_coordinate_not_dates, "time", ["not dates"]),
    "zero_length_time": (zero_length_time, "time", ["length 0"]),
    "negative_rh": (negative_rh, "rh", ["outside the physical range of rh", "[-10, 20000]"]),
    "negative_rh_one_cell_late": (negative_rh_one_cell_late, "rh", ["1 value(s) outside", "in time steps", "-946.1"]),
    "all_nan_fill": (all_nan_fill, "rh", ["no valid value"]),
    "all_nan_no_fill": (all_nan_no_fill, "rh", ["no valid value"]),
    "plus_inf": (plus_inf, "rh", ["infinite value"]),
    "minus_inf": (minus_inf, "rh", ["infinite value"]),
    "undeclared_fill_9999": (undeclared_fill_9999, "rh", ["outside the physical range", "_FillValue"]),
    "overflow_1e30": (overflow_1e30, "rh", ["infinite value(s)", "overflow"]),
    "undeclared_fill_in_middle_step": (undeclared_fill_in_middle_step, "rh", ["outside the physical range",
                                                                              "in time steps", "-3.153e+14"]),
    "csoil_fill_9999": (csoil_fill_9999, "cSoil", ["outside the physical range of csoil"]),
    "csoil_negative": (csoil_negative, "cSoil", ["outside the physical range of csoil", "-5"]),
    "cveg_overflow": (cveg_overflow, "cVeg", ["outside the physical range of cveg"]),
    "npp_overflow": (npp_overflow, "npp", ["infinite value(s)", "overflow"]),
    "npp_fill_9999": (npp_fill_9999, "npp", ["outside the physical range of npp"]),
    "rs_negative": (rs_negative, "rs", ["outside the physical range of rs"]),
    "climatology_fill": (climatology_fill, "cresp", ["outside the physical range of rh", "-3.65e+06"]),
    "climatology_all_nan": (climatology_all_nan, "cresp", ["no valid value"]),
    "latitudes_0_180": (latitudes_0_180, "lat", ["outside −90…90"]),
    "duplicated_latitude": (duplicated_latitude, "lat", ["more than once"]),
    "nan_longitude": (nan_longitude, "lon", ["NaN or infinite longitude"]),
    "nan_latitude": (nan_latitude, "lat", ["NaN or infinite latitude"]),
    "cyclic_longitude": (cyclic_longitude, "lon", ["longitude 0 more than once", "cyclic"]),
    "longitudes_beyond_360": (longitudes_beyond_360, "lon", ["outside −360…360"]),
    "curvilinear": (curvilinear, "lat", ["2-D (curvilinear)", "regrid"]),
    "zero_length_latitude": (zero_length_latitude, "lat", ["no latitudes", "length 0"]),
    "zero_length_longitude": (zero_length_longitude, "lon", ["no longitudes", "length 0"]),
    "bounds_not_containing_centres": (bounds_not_containing_centres, "lat", ["do not contain their centres"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_inspect_refuses_with_one_line(tmp_path, capsys, case):
    writer, variable, words = CASES[case]
    target = writer(tmp_path)
    code = cli.main(["inspect", str(target)])
    captured = capsys.readouterr()
    assert code != 0, f"{case}: accepted; printed\n{captured.out}"
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("soilbench: error: ")
    assert str(target) in err, err
    assert f"variable '{variable}'" in err, err
    for word in words:
        assert word in err, err


def test_corpus_is_large_enough():
    assert len(CASES) >= 35


# --- repaired, with the right numbers --------------------------------------------------------

def test_same_grid_in_two_longitude_conventions_is_one_grid(tmp_path):
    """rh in 0…360 and cSoil in −180…180 on the same cells: one grid, not the union of both."""
    directory = tmp_path / "model"
    directory.mkdir()
    rh = _rh(lon_0_360=True)
    gen.write(rh, directory / "rh.nc")
    stock = _stock("cSoil", lon_0_360=False)
    gen.write(stock, directory / "cSoil.nc")
    model = load_model(directory)
    assert model.sizes["lon"] == 24 and model.sizes["lat"] == 12
    alone = load_model(directory / "rh.nc")
    assert float(model["rh"].sum()) == pytest.approx(float(alone["rh"].sum()), rel=1e-9)


def test_float32_coordinates_of_the_same_grid_are_joined(tmp_path):
    directory = tmp_path / "model"
    directory.mkdir()
    gen.write(_rh(), directory / "rh.nc")
    stock = _stock("cSoil")
    stock = stock.assign_coords(lat=stock["lat"].astype("float32"), lon=stock["lon"].astype("float32"))
    gen.write(stock, directory / "cSoil.nc")
    model = load_model(directory)
    assert model.sizes["lat"] == 12 and model.sizes["lon"] == 24
    assert int(model["csoil"].isel(time=0).notnull().sum()) == int(model["rh"].isel(time=0).notnull().sum())


def test_small_negative_noise_is_accepted(tmp_path):
    """−1e-12 kg m-2 s-1 (3e-5 g m-2 yr-1) is numerical noise, not an impossible value."""
    path = gen.write(_put(_rh(), "rh", -1e-12, where="land"), tmp_path / "rh.nc")
    model = load_model(path)
    assert float(model["rh"].min()) == pytest.approx(-1e-12 * 1000 * SECONDS_PER_YEAR, rel=1e-3)


def test_guard_adds_no_read_and_keeps_values(tmp_path):
    """The chunk guard passes values through unchanged (same totals as the raw file)."""
    ds = _rh(n_years=2)
    path = gen.write(ds, tmp_path / "rh.nc")
    model = load_model(path)
    assert model["rh"].chunks is not None
    raw = xr.open_dataset(path)["rh"].values.astype(float) * 1000 * SECONDS_PER_YEAR
    assert float(model["rh"].sum()) == pytest.approx(float(np.nansum(raw)), rel=1e-6)


# --- references in canonical form ------------------------------------------------------------

def test_reference_with_undeclared_fill_is_refused(tmp_path, monkeypatch):
    """load_reference goes through the same checks (here: cardamom-rh with −9999 over the sea)."""
    from soilbench.load import load_reference

    ds = _rh(units="kg m-2 yr-1").isel(time=0, drop=True).drop_vars("time_bnds")
    ds["rh"] = ds["rh"].fillna(-9999.0)
    path = tmp_path / "cardamom.nc"
    ds.to_netcdf(path)
    from soilbench.catalogs import CatalogEntry

    # a reference is read through its catalog entry: point every entry at the corrupt file
    monkeypatch.setattr(CatalogEntry, "paths", lambda self, data_dir=None, **kwargs: [path])
    with pytest.raises(SoilbenchError) as info:
        load_reference("cardamom-rh")
    message = str(info.value)
    assert str(path) in message and "variable 'rh'" in message and "outside the physical range" in message


# --- a run: the failing model shows its reason, the others are scored --------------------------

RUN_BENCH = """
name: hostile-run
confrontations:
  - name: mean-rh
    type: test_mean_rh
    references: [test-target]
"""


def test_refused_models_fail_with_their_reason_on_the_scoreboard(tmp_path):
    """An all-NaN model and one with a negative value deep in its record (found in the run's
    pass, not at load) fail with the loader's one line; the good model is scored."""
    import pandas as pd

    import runner_support  # noqa: F401  (registers test_mean_rh)
    from soilbench.config import load_benchmark
    from soilbench.runner import RunOptions, run_benchmark
    from soilbench.runner.models import ModelSpec

    (tmp_path / "bench.yaml").write_text(RUN_BENCH)
    bench = load_benchmark(tmp_path / "bench.yaml")
    models = []
    for name, writer in (("all-nan", all_nan_fill), ("late-negative", negative_rh_one_cell_late),
                         ("good", lambda tmp: gen.write(_rh(), tmp / "rh.nc"))):
        folder = tmp_path / name
        folder.mkdir()
        models.append(ModelSpec(name, (str(writer(folder)),)))
    out = tmp_path / "out"
    run_benchmark(bench, models, RunOptions(out=out, workers=0, progress=False, report=True))
    status = pd.read_csv(out / "status.csv", keep_default_na=False).set_index("model")
    assert status.loc["good", "status"] == "ok"
    assert status.loc["all-nan", "status"] == "error"
    assert "no valid value" in status.loc["all-nan", "error"] and "variable 'rh'" in status.loc["all-nan", "error"]
    assert status.loc["late-negative", "status"] == "error"
    assert "outside the physical range of rh" in status.loc["late-negative", "error"]
    page = next(out.rglob("index.html")).read_text()
    assert "no valid value: every rh value is NaN" in page
    assert "outside the physical range of rh" in page


@pytest.mark.parametrize(("value", "accepted"), [(-5.0, True), (-20.0, False), (19_000.0, True), (25_000.0, False)])
def test_physical_bounds_of_rh_at_their_edges(tmp_path, value, accepted):
    """rh in g m-2 yr-1: −10 … 20,000 (soilbench.quantities.PHYSICAL_BOUNDS) is accepted as written."""
    ds = _rh(units="g m-2 yr-1")
    ds["rh"] = (ds["rh"] * 3e10).assign_attrs(units="g m-2 yr-1")
    path = gen.write(_put(ds, "rh", value, where="land"), tmp_path / "rh.nc")
    if accepted:
        assert float(abs(load_model(path)["rh"] - value).min()) == 0.0
    else:
        with pytest.raises(SoilbenchError, match="outside the physical range of rh"):
            load_model(path)
