"""Grid geometry on a sphere: the Earth's radius, cell edges from centres, cell areas.

Pure functions on coordinates, shared by loading (:mod:`soilbench.load.grid`, which attaches
areas to every canonical dataset) and the analyses (grid plausibility, synthetic grids).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: Earth radius (m) for cell areas computed from coordinates: every gridded reference product and
#: models without ``areacella``.
#: 6 371 229 m is the spherical Earth of GRIB2 (shape-of-the-earth code 6) and of the Met Office
#: Unified Model, so areas match those of model output written on that sphere. ILAMB uses
#: 6.371e6 m (areas 7.2e-5 smaller, far below any product's uncertainty);
#: tests/test_ilamb_oracle.py rescales by the squared ratio when comparing with ILAMB.
EARTH_RADIUS_M = 6371229.0


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
        if limit is None:
            # a longitude cell written across the seam ([358.75, 1.25]) is 2.5°, not 357.5° wide
            across = (upper - lower > 180.0) & (upper - lower < 360.0)
            lower, upper = np.where(across, upper, lower), np.where(across, lower + 360.0, upper)
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
