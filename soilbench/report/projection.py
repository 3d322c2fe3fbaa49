"""Maps on a projection without re-projecting anything per figure.

A map of a lat×lon field used to be a ``pcolormesh`` of every cell in PlateCarree that cartopy
re-projected (cell corners, then the quad mesh drawn twice because the PNG is cropped to what is
drawn), plus the coastlines re-projected at every draw: about 1 s per 0.5° map. Here the
projection is done once per grid and per process, and each map is an image:

- :func:`cell_edges` gives a grid's cell edges, from CF bounds when the saved field has them, else
  half-way between centres;
- :func:`raster_index` inverse-projects the centre of every pixel of a regular image in the map
  projection once, and finds the cell whose bounds contain it (``searchsorted`` on the edges):
  a map is then ``values[index]``, drawn with ``imshow`` in the projection's own coordinates;
- :func:`coastline_segments` projects the shipped coastlines once per projection.

Pixels are about half a display pixel wide (:data:`OVERSAMPLE`) and drawn with nearest-neighbour
sampling, so categories are never blended and every cell at least a pixel wide is visible.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import xarray as xr

from soilbench.report.coastlines import coastlines

#: image pixels per display pixel along each axis
OVERSAMPLE = 2
#: names of the bounds variable of a coordinate, after CF's ``bounds`` attribute
BOUNDS_NAMES = ("{}_bnds", "{}_bounds", "{}_bnd")


def projection(name: str) -> Any:
    """The cartopy projection of a map: ``robinson`` (default) or ``platecarree``."""
    import cartopy.crs as ccrs  # heavy import, only when a map is drawn

    return ccrs.Robinson() if name == "robinson" else ccrs.PlateCarree()


def _bounds(field: xr.DataArray, fields: xr.Dataset | None, dim: str) -> np.ndarray | None:
    """The (n, 2) bounds of coordinate ``dim`` saved in ``fields`` (named by the coordinate's CF
    ``bounds`` attribute, else ``lat_bnds``-style names), when they match the field's coordinate."""
    if fields is None:
        return None
    names = [fields[dim].attrs.get("bounds") if dim in fields.coords else None,
             field[dim].attrs.get("bounds") if dim in field.coords else None]
    names += [pattern.format(dim) for pattern in BOUNDS_NAMES]
    for name in dict.fromkeys(filter(None, names)):
        if name in fields.variables:
            values = np.asarray(fields[name].values, dtype=float)
            if values.shape == (field.sizes[dim], 2):
                return values
    return None


def cell_edges(field: xr.DataArray, dim: str, fields: xr.Dataset | None = None) -> np.ndarray:
    """The ``n + 1`` cell edges of a field along ``lat`` or ``lon``.

    From the CF bounds of the coordinate when ``fields``, the dataset the field was saved in, has
    them and they are contiguous; else half-way between centres, the outer edges half a
    spacing beyond the outer centres. Latitude edges are kept within ±90°.
    """
    centres = np.asarray(field[dim].values, dtype=float)
    bounds = _bounds(field, fields, dim)
    edges = None
    if bounds is not None:
        low, high = np.minimum(bounds[:, 0], bounds[:, 1]), np.maximum(bounds[:, 0], bounds[:, 1])
        if centres.size > 1 and centres[-1] < centres[0]:
            low, high = low[::-1], high[::-1]
        if np.allclose(high[:-1], low[1:], atol=1e-6):
            edges = np.concatenate([low, high[-1:]])
            if centres.size > 1 and centres[-1] < centres[0]:
                edges = edges[::-1]
    if edges is None:
        if centres.size == 1:
            half = 0.5 if dim == "lat" else 180.0
            edges = np.array([centres[0] - half, centres[0] + half])
        else:
            middle = (centres[:-1] + centres[1:]) / 2
            edges = np.concatenate([[centres[0] - (middle[0] - centres[0])], middle,
                                    [centres[-1] + (centres[-1] - middle[-1])]])
    if dim == "lat":
        edges = np.clip(edges, -90.0, 90.0)
    return edges


def _cells(points: np.ndarray, edges: np.ndarray, periodic: bool) -> np.ndarray:
    """Index of the cell (between consecutive ``edges``) containing each point; -1 outside."""
    ascending = edges[-1] >= edges[0]
    ordered = edges if ascending else edges[::-1]
    if periodic:  # a longitude east of the last edge may be the same place as one west of the first
        points = (points - ordered[0]) % 360.0 + ordered[0]
    index = np.searchsorted(ordered, points, side="right") - 1
    inside = np.isfinite(points) & (points >= ordered[0]) & (points <= ordered[-1])
    index = np.where(index == ordered.size - 1, ordered.size - 2, index)  # the last edge belongs to the last cell
    index = np.where(inside, index, -1)
    if not ascending:
        index = np.where(index >= 0, ordered.size - 2 - index, -1)
    return index


@functools.lru_cache(maxsize=16)
def _raster_index(name: str, lat_edges: tuple[float, ...], lon_edges: tuple[float, ...],
                  shape: tuple[int, int]) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    import cartopy.crs as ccrs

    target = projection(name)
    (x0, x1), (y0, y1) = target.x_limits, target.y_limits
    ny, nx = shape
    x = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    y = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    xx, yy = np.meshgrid(x, y)
    lonlat = ccrs.PlateCarree().transform_points(target, xx, yy)
    with np.errstate(invalid="ignore"):
        rows = _cells(lonlat[..., 1], np.asarray(lat_edges), periodic=False)
        cols = _cells(lonlat[..., 0], np.asarray(lon_edges), periodic=True)
    flat = np.where((rows >= 0) & (cols >= 0), rows * (len(lon_edges) - 1) + cols, -1)
    flat.setflags(write=False)
    return flat, (x0, x1, y0, y1)


def raster_index(name: str, lat_edges: np.ndarray, lon_edges: np.ndarray,
                 shape: tuple[int, int]) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """For an image of ``shape`` (rows, columns) covering projection ``name``: the flat index of the
    (lat, lon) cell under each pixel (-1 off the grid or off the globe) and the image's extent in
    projection coordinates. Computed once per grid, projection and shape in a process."""
    return _raster_index(name, tuple(map(float, lat_edges)), tuple(map(float, lon_edges)), tuple(shape))


def raster(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The (lat, lon) ``values`` sampled on a projected image: NaN where ``index`` is -1."""
    flat = np.asarray(values, dtype=float).ravel()
    return np.where(index >= 0, flat[np.clip(index, 0, None)], np.nan)


def image_shape(name: str, width_px: float, height_px: float) -> tuple[int, int]:
    """(rows, columns) of an image of the whole projection fitting ``width_px`` × ``height_px``
    display pixels (the globe keeps its aspect), :data:`OVERSAMPLE` times finer."""
    target = projection(name)
    (x0, x1), (y0, y1) = target.x_limits, target.y_limits
    aspect = (x1 - x0) / (y1 - y0)
    height = min(height_px, width_px / aspect)
    rows = max(2, int(round(height * OVERSAMPLE)))
    return rows, max(2, int(round(rows * aspect)))


@functools.lru_cache(maxsize=4)
def coastline_segments(name: str) -> tuple[np.ndarray, ...]:
    """The shipped coastlines projected once: one (n, 2) array of projection coordinates per line."""
    import cartopy.crs as ccrs

    projected = projection(name).project_geometry(coastlines(), ccrs.PlateCarree())
    lines = getattr(projected, "geoms", [projected])
    return tuple(np.asarray(line.coords)[:, :2] for line in lines if not line.is_empty)


def add_coastlines(ax: Any, name: str, color: str, linewidth: float) -> None:
    """Draw the projected coastlines on a map's axes (in its own coordinates: nothing is re-projected)."""
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection(coastline_segments(name), colors=color, linewidths=linewidth,
                                     transform=ax.transData, zorder=2),
                      autolim=False)
