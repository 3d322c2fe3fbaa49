"""Generators of small CMOR-style NetCDF files for the loading tests (no real data involved).

``make_rh`` builds a heterotrophic respiration field ``rh`` in kg m-2 s-1 with the traps model
output has: any CF calendar, 0–360 longitudes, descending latitudes, annual/monthly/daily steps,
with or without time bounds, with ``areacella`` (on a deliberately different Earth radius, so a
test can tell it was used), ``sftlf`` in % or as a fraction, or neither. Ocean cells are missing.
The bad-input writers produce one defect each.
"""

from __future__ import annotations

from pathlib import Path

import cftime
import numpy as np
import xarray as xr

#: Earth radius of the generated ``areacella`` (not soilbench's 6371.229 km)
AREACELLA_RADIUS_M = 6.0e6
FILL = 1.0e20


def step_edges(calendar: str, frequency: str, start_year: int, n_years: int) -> list[cftime.datetime]:
    """Edges of consecutive annual/monthly/daily steps in ``calendar`` (n_steps + 1 dates)."""
    first = cftime.datetime(start_year, 1, 1, calendar=calendar)
    end = cftime.datetime(start_year + n_years, 1, 1, calendar=calendar)
    if frequency == "annual":
        return [cftime.datetime(start_year + i, 1, 1, calendar=calendar) for i in range(n_years + 1)]
    if frequency == "monthly":
        return [cftime.datetime(start_year + i // 12, i % 12 + 1, 1, calendar=calendar) for i in range(12 * n_years + 1)]
    edges, day = [], first
    while day <= end:
        edges.append(day)
        day = day + cftime.timedelta(days=1) if hasattr(cftime, "timedelta") else day + _one_day()
    return edges


def _one_day():
    from datetime import timedelta

    return timedelta(days=1)


def make_rh(
    calendar: str = "noleap",
    frequency: str = "monthly",
    start_year: int = 2000,
    n_years: int = 2,
    nlat: int = 12,
    nlon: int = 24,
    lon_0_360: bool = True,
    lat_descending: bool = True,
    time_bounds: bool = True,
    area: str | None = None,
    seed: int = 0,
    units: str = "kg m-2 s-1",
    var_name: str = "rh",
) -> xr.Dataset:
    """A CMOR-style dataset with ``rh`` (kg m-2 s-1) and optional ``areacella``/``sftlf``.

    Parameters
    ----------
    area
        ``None``, ``"areacella"``, ``"sftlf_percent"`` or ``"sftlf_fraction"``.
    """
    rng = np.random.default_rng(seed)
    dlat, dlon = 180.0 / nlat, 360.0 / nlon
    lat = -90 + dlat * (np.arange(nlat) + 0.5)
    lon = dlon * (np.arange(nlon) + 0.5)
    if not lon_0_360:
        lon = lon - 180.0
    if lat_descending:
        lat = lat[::-1]
    edges = step_edges(calendar, frequency, start_year, n_years)
    units_time = f"days since {start_year}-01-01"
    edge_num = cftime.date2num(edges, units_time, calendar=calendar)
    mid = 0.5 * (edge_num[:-1] + edge_num[1:])
    ntime = mid.size

    # ~300 g m-2 yr-1 as kg m-2 s-1, varying in space and time; a third of the cells ocean
    rate = 1e-8 * (0.5 + rng.random((ntime, nlat, nlon)))
    ocean = rng.random((nlat, nlon)) < 0.33
    rate[:, ocean] = np.nan

    lat_attrs = {"standard_name": "latitude", "units": "degrees_north", "axis": "Y", "bounds": "lat_bnds"}
    lon_attrs = {"standard_name": "longitude", "units": "degrees_east", "axis": "X", "bounds": "lon_bnds"}
    time_attrs = {"standard_name": "time", "units": units_time, "calendar": calendar, "axis": "T"}
    ds = xr.Dataset(
        {
            var_name: (("time", "lat", "lon"), rate.astype("float32"),
                       {"units": units, "standard_name": "heterotrophic_respiration_carbon_flux",
                        "long_name": "Heterotrophic Respiration"}),
            "lat_bnds": (("lat", "bnds"), np.column_stack([lat - dlat / 2, lat + dlat / 2])),
            "lon_bnds": (("lon", "bnds"), np.column_stack([lon - dlon / 2, lon + dlon / 2])),
        },
        coords={"time": ("time", mid, time_attrs), "lat": ("lat", lat, lat_attrs), "lon": ("lon", lon, lon_attrs)},
        attrs={"Conventions": "CF-1.7", "frequency": {"annual": "yr", "monthly": "mon", "daily": "day"}[frequency]},
    )
    if time_bounds:
        ds["time_bnds"] = (("time", "bnds"), np.column_stack([edge_num[:-1], edge_num[1:]]))
        ds["time"].attrs["bounds"] = "time_bnds"
    if area == "areacella":
        band = np.abs(np.sin(np.deg2rad(lat + dlat / 2)) - np.sin(np.deg2rad(lat - dlat / 2)))
        cell = AREACELLA_RADIUS_M**2 * np.deg2rad(dlon) * band[:, None] * np.ones(nlon)
        ds["areacella"] = (("lat", "lon"), cell, {"standard_name": "cell_area", "units": "m2"})
        ds[var_name].attrs["cell_measures"] = "area: areacella"
    elif area in ("sftlf_percent", "sftlf_fraction"):
        fraction = np.where(ocean, 0.0, 0.2 + 0.8 * rng.random((nlat, nlon)))
        scale, unit = (100.0, "%") if area == "sftlf_percent" else (1.0, "1")
        ds["sftlf"] = (("lat", "lon"), fraction * scale, {"standard_name": "land_area_fraction", "units": unit})
    return ds


def write(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` as NetCDF with missing values as CMOR fill values; times left as numbers."""
    path = Path(path)
    encoding = {v: {"_FillValue": FILL} for v in ds.data_vars if ds[v].dtype.kind == "f" and "bnds" not in str(v)}
    for v in list(ds.variables):
        if "bnds" in str(v) or v in ("lat", "lon", "time"):
            encoding[v] = {"_FillValue": None}
    ds.to_netcdf(path, encoding=encoding)
    return path


# --- one defect each -------------------------------------------------------------------------

def write_wrong_units(path: str | Path, units: str = "g C m-2") -> Path:
    """``rh`` whose units are a stock, not a flux."""
    return write(make_rh(n_years=1, units=units), path)


def write_no_units(path: str | Path) -> Path:
    ds = make_rh(n_years=1)
    del ds["rh"].attrs["units"]
    return write(ds, path)


def write_unknown_units(path: str | Path) -> Path:
    return write(make_rh(n_years=1, units="bananas m-2 s-1"), path)


def write_no_quantity(path: str | Path) -> Path:
    """Only a precipitation field: nothing soilbench knows."""
    ds = make_rh(n_years=1).rename({"rh": "pr"})
    ds["pr"].attrs = {"units": "kg m-2 s-1", "standard_name": "precipitation_flux"}
    return write(ds, path)


def write_no_coordinates(path: str | Path) -> Path:
    """``rh`` on bare dimensions ``y``, ``x`` without latitude/longitude coordinates."""
    ds = make_rh(n_years=1).drop_vars(["lat_bnds", "lon_bnds"])
    ds = ds.rename({"lat": "y", "lon": "x"}).drop_vars(["y", "x"])
    return write(ds, path)


def write_bad_calendar(path: str | Path, calendar: str = "martian_sols") -> Path:
    ds = make_rh(n_years=1)
    ds["time"].attrs["calendar"] = calendar
    return write(ds, path)


def write_corrupt(path: str | Path) -> Path:
    """A valid file cut in half: the header promises data that is not there."""
    good = write(make_rh(n_years=1), Path(path).with_suffix(".full.nc"))
    data = good.read_bytes()
    Path(path).write_bytes(data[: len(data) // 3])
    good.unlink()
    return Path(path)
