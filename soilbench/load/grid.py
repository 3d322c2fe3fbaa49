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

#: Earth radius (m) for cell areas computed from coordinates: every gridded reference product and
#: models without ``areacella``.
#: 6 371 229 m is the spherical Earth of GRIB2 (shape-of-the-earth code 6) and of the Met Office
#: Unified Model, so areas match those of model output written on that sphere. ILAMB uses
#: 6.371e6 m (areas 7.2e-5 smaller, far below any product's uncertainty);
#: tests/test_ilamb_oracle.py rescales by the squared ratio when comparing with ILAMB.
EARTH_RADIUS_M = 6371229.0


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
            present = ", ".join(sorted(map(str, ds.variables))) or "nothing"
            raise SoilbenchError(source, f"has no {key} coordinate (found: {present})", key)
        names.append(found)
    return names[0], names[1]


def _cf_coordinate(ds: xr.Dataset, key: str) -> str | None:
    candidates = [name for name in ds.cf.coordinates.get(key, []) if ds[name].ndim == 1]
    return candidates[0] if candidates else None


def cell_bounds(centres: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Cell edges (n+1) from 1-D cell centres: midpoints, end cells mirrored, clipped to ±limit.

    Hand-written because the grids here are regular or nearly so, and clipping at the poles
    (the testbed has cell centres *at* ±90°) has to be explicit.
    """
    centres = np.asarray(centres, dtype=float)
    if centres.size == 1:
        edges = np.array([centres[0] - 0.5, centres[0] + 0.5])
    else:
        mid = 0.5 * (centres[1:] + centres[:-1])
        edges = np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])
    if limit is not None:
        edges = np.clip(edges, -limit, limit)
    return edges


def _bounds_of(ds: xr.Dataset, name: str, limit: float | None) -> np.ndarray:
    """Edges of coordinate ``name`` from its CF bounds variable, else from its centres."""
    bounds_name = ds[name].attrs.get("bounds")
    if bounds_name in ds.variables and ds[bounds_name].ndim == 2:
        b = np.asarray(ds[bounds_name].values, dtype=float)
        lower, upper = np.minimum(b[:, 0], b[:, 1]), np.maximum(b[:, 0], b[:, 1])
        return np.column_stack([lower, upper]) if limit is None else np.clip(np.column_stack([lower, upper]), -limit, limit)
    edges = cell_bounds(ds[name].values, limit)
    lower, upper = np.minimum(edges[:-1], edges[1:]), np.maximum(edges[:-1], edges[1:])
    return np.column_stack([lower, upper])


def sphere_cell_area(lat_bounds: np.ndarray, lon_bounds: np.ndarray, radius_m: float = EARTH_RADIUS_M) -> np.ndarray:
    """Cell areas (m²) of a lat×lon grid on a sphere: R² · Δλ · (sin φ₂ − sin φ₁).

    Parameters
    ----------
    lat_bounds, lon_bounds
        Arrays of shape (n, 2) with each cell's lower and upper edge in degrees.
    """
    lat_b = np.deg2rad(np.asarray(lat_bounds, dtype=float))
    lon_b = np.deg2rad(np.asarray(lon_bounds, dtype=float))
    band = np.abs(np.sin(lat_b[:, 1]) - np.sin(lat_b[:, 0]))
    width = np.abs(lon_b[:, 1] - lon_b[:, 0])
    return radius_m**2 * band[:, None] * width[None, :]


def grid_cell_area(ds: xr.Dataset, lat: str, lon: str) -> xr.DataArray:
    """Cell area (m²) on ``ds``'s own (not yet reoriented) grid, from bounds or centres."""
    area = sphere_cell_area(_bounds_of(ds, lat, 90.0), _bounds_of(ds, lon, None))
    return xr.DataArray(
        area, dims=(ds[lat].dims[0], ds[lon].dims[0]), coords={lat: ds[lat], lon: ds[lon]},
        attrs={"units": "m2", "long_name": "grid cell area",
               "source": f"computed on a sphere of radius {EARTH_RADIUS_M / 1000:g} km"},
    )


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

    Bounds variables of the two coordinates are dropped: they have done their job
    (:func:`grid_cell_area`) and would not follow the wrap.
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
