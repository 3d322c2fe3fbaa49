"""Horizontal grid: find latitude/longitude by CF metadata, orient them, compute cell areas.

The canonical grid has dimensions ``lat`` (ascending, degrees_north) and ``lon`` (−180…180,
ascending, degrees_east). Coordinates are found with cf-xarray (``standard_name``, ``axis``,
``units``), never by hard-coded names; cell areas are computed *before* the grid is reoriented so
that bounds never have to be rolled.
"""

from __future__ import annotations

from os import PathLike

import cf_xarray  # noqa: F401  (registers the .cf accessor)
import numpy as np
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.geometry import (  # noqa: F401 — shared with analysis; importable from here as before
    EARTH_RADIUS_M, _bounds_of, cell_bounds, grid_cell_area, sphere_cell_area,
)
from soilbench.load import checks



def find_lat_lon(ds: xr.Dataset, source: str | PathLike | None = None) -> tuple[str, str]:
    """Names of the latitude and longitude coordinates of ``ds``, found through CF metadata.

    Falls back to cf-xarray's ``guess_coord_axis`` (names like ``lat``/``latitude``) when the
    file has no standard names, axes or degree units.

    Raises
    ------
    SoilbenchError
        When either coordinate is missing.
    """
    names = []
    for key in ("latitude", "longitude"):
        found = _cf_coordinate(ds, key)
        if found is None:
            found = _cf_coordinate(ds.cf.guess_coord_axis(verbose=False), key)
        if found is None:
            curvilinear = _cf_coordinate(ds, key, ndim=2)
            if curvilinear is not None:
                raise SoilbenchError(
                    source, f"has a 2-D (curvilinear) {key} {ds[curvilinear].dims}: soilbench reads regular "
                    "latitude-longitude grids only; regrid the file first (e.g. cdo remapcon or xESMF, "
                    "conservatively)", curvilinear)
            present = ", ".join(sorted(map(str, ds.variables))) or "nothing"
            raise SoilbenchError(source, f"has no {key} coordinate (found: {present})", key)
        names.append(found)
    checks.check_horizontal(ds, names[0], names[1], source)
    return names[0], names[1]


def _cf_coordinate(ds: xr.Dataset, key: str, ndim: int = 1) -> str | None:
    candidates = [name for name in ds.cf.coordinates.get(key, []) if ds[name].ndim == ndim]
    if not candidates and ndim == 2:  # 2-D lat/lon stored as data variables (no "coordinates" attribute)
        units = {"latitude": "degrees_north", "longitude": "degrees_east"}[key]
        candidates = [str(n) for n, v in ds.variables.items()
                      if v.ndim == 2 and (v.attrs.get("standard_name") == key or v.attrs.get("units") == units)]
    return candidates[0] if candidates else None


def canonical_bounds(ds: xr.Dataset, lat: str, lon: str, source: str | PathLike | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's (lower, upper) edges, in the canonical order (lat ascending, lon −180…180).

    From the file's CF bounds when it has them (a sparse or subsampled grid keeps its real
    cells), else midpoints between centres (:func:`cell_bounds`). Longitude edges move with
    their wrapped centre, so a cell stays whole (an edge may pass ±180 by part of a cell).
    Bounds that do not contain their centres are refused.
    """
    lat_b = _bounds_of(ds, lat, 90.0)
    lon_b = _bounds_of(ds, lon, None)
    lat_c = np.asarray(ds[lat].values, dtype=float)
    lon_c = np.asarray(ds[lon].values, dtype=float)
    checks.check_bounds(lat_c, lat_b, lat, source)
    checks.check_bounds(lon_c, lon_b, lon, source, circular=True)
    wrapped = (lon_c + 180.0) % 360.0 - 180.0
    # edges follow their wrapped centre by whole turns (lower <= centre < lower + 360)
    lon_b = lon_b + (360.0 * np.floor((wrapped - lon_b[:, 0]) / 360.0))[:, None]
    # orient() sorts the (distinct, see checks.check_horizontal) centres: the same sort here
    return lat_b[np.argsort(lat_c, kind="stable")], lon_b[np.argsort(wrapped, kind="stable")]


def attach_bounds(ds: xr.Dataset, lat_bnds: np.ndarray, lon_bnds: np.ndarray) -> xr.Dataset:
    """Give an oriented dataset its cells' bounds (:func:`canonical_bounds`) as the CF
    coordinates ``lat_bnds(lat, bnds)`` and ``lon_bnds(lon, bnds)``."""
    ds = ds.assign_coords(lat_bnds=(("lat", "bnds"), lat_bnds, {"units": "degrees_north"}),
                          lon_bnds=(("lon", "bnds"), lon_bnds, {"units": "degrees_east"}))
    ds["lat"].attrs["bounds"] = "lat_bnds"
    ds["lon"].attrs["bounds"] = "lon_bnds"
    return ds


def cell_edges(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) edges of a canonical dataset's cells: its ``lat_bnds``/``lon_bnds``, or
    midpoints between centres for a dataset without them."""
    if "lat_bnds" in ds.coords and "lon_bnds" in ds.coords:
        return np.asarray(ds["lat_bnds"].values, float), np.asarray(ds["lon_bnds"].values, float)
    lat = cell_bounds(ds["lat"].values, 90.0)
    lon = cell_bounds(ds["lon"].values)
    return np.column_stack([lat[:-1], lat[1:]]), np.column_stack([lon[:-1], lon[1:]])


def describe_grid(ds: xr.Dataset, lat: str, lon: str) -> dict:
    """What the grid looked like in the file (for ``soilbench inspect``)."""
    lat_v = np.asarray(ds[lat].values, dtype=float)
    lon_v = np.asarray(ds[lon].values, dtype=float)
    return {
        "nlat": int(lat_v.size),
        "nlon": int(lon_v.size),
        "dlat": float(np.median(np.abs(np.diff(lat_v)))) if lat_v.size > 1 else float("nan"),
        "dlon": float(np.median(np.abs(np.diff(lon_v)))) if lon_v.size > 1 else float("nan"),
        "lat_order": "ascending" if lat_v.size < 2 or lat_v[-1] > lat_v[0] else "descending",
        "lon_convention": "0-360" if np.nanmax(lon_v) > 180 else "-180-180",
    }


def orient(ds: xr.Dataset, lat: str, lon: str) -> xr.Dataset:
    """Rename to ``lat``/``lon``, wrap longitudes to −180…180 and sort both ascending.

    The file's bounds variables of the two coordinates are dropped: they have done their job
    (:func:`grid_cell_area`) and would not follow the wrap; :func:`canonical_bounds` and
    :func:`attach_bounds` give the oriented grid its bounds.
    """
    drop = [ds[c].attrs.get("bounds") for c in (lat, lon)]
    ds = ds.drop_vars([b for b in drop if b in ds.variables])
    lat_dim, lon_dim = ds[lat].dims[0], ds[lon].dims[0]
    for name, dim in ((lat, lat_dim), (lon, lon_dim)):
        if name != dim:  # coordinate stored in a variable other than its dimension
            ds = ds.assign_coords({dim: np.asarray(ds[name].values)}).drop_vars(name)
    ds = ds.rename({lat_dim: "lat", lon_dim: "lon"}) if (lat_dim, lon_dim) != ("lat", "lon") else ds
    wrapped = (np.asarray(ds["lon"].values, dtype=float) + 180.0) % 360.0 - 180.0
    ds = ds.assign_coords(lon=wrapped, lat=np.asarray(ds["lat"].values, dtype=float))
    ds = ds.sortby(["lat", "lon"])
    ds["lat"].attrs = {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"}
    ds["lon"].attrs = {"standard_name": "longitude", "units": "degrees_east", "axis": "X"}
    return ds.transpose(*[d for d in ds.dims if d not in ("lat", "lon")], "lat", "lon")
