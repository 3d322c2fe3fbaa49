"""Put canonical fields on a common grid by conservative regridding (methods.md §3).

A comparison of two gridded fields happens on the coarser of the two grids. Regridding is
conservative (xarray-regrid's ``.regrid.conservative``) and carries the *valid land fraction*:
we regrid ``field × w`` and ``w`` separately, where ``w`` is the source land fraction on valid
cells, and divide. The result's ``land_fraction`` is the regridded ``w``, so that
``Σ field · cell_area · land_fraction`` on the target grid equals the same sum on the source grid
(xarray-regrid's weights are exact area overlaps on the sphere for regular latitude spacing).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
import xarray_regrid  # noqa: F401  (registers the .regrid accessor)


_LAT_UNPADDED = "lat_unpadded"


def median_cell_size_deg2(ds: xr.Dataset | xr.DataArray) -> float:
    """Median grid spacing in latitude times longitude (degrees²): larger means coarser."""
    dlat = float(np.median(np.abs(np.diff(ds["lat"].values)))) if ds.sizes["lat"] > 1 else 180.0
    dlon = float(np.median(np.abs(np.diff(ds["lon"].values)))) if ds.sizes["lon"] > 1 else 360.0
    return dlat * dlon


def coarsest(datasets: Sequence[xr.Dataset]) -> int:
    """Index of the dataset on the coarsest grid (the first one on ties)."""
    sizes = [median_cell_size_deg2(ds) for ds in datasets]
    return int(np.argmax(sizes))


def same_grid(a: xr.Dataset | xr.DataArray, b: xr.Dataset | xr.DataArray) -> bool:
    """True when both objects have the same ``lat`` and ``lon`` centres."""
    return (a.sizes["lat"] == b.sizes["lat"] and a.sizes["lon"] == b.sizes["lon"]
            and np.allclose(a["lat"].values, b["lat"].values) and np.allclose(a["lon"].values, b["lon"].values))


def regrid_field(ds: xr.Dataset, name: str, target: xr.Dataset) -> xr.Dataset:
    """Conservatively regrid variable ``name`` of a canonical dataset onto ``target``'s grid.

    Parameters
    ----------
    ds
        Canonical dataset with ``name`` (lat × lon, optionally time), ``cell_area`` and
        ``land_fraction``.
    name
        The variable to regrid (a rate or a stock per m² of land).
    target
        Canonical dataset whose ``lat``/``lon`` and ``cell_area`` define the target grid.

    Returns
    -------
    xr.Dataset
        Canonical dataset on the target grid with ``name``, the target's ``cell_area`` and
        ``land_fraction`` = fraction of each target cell covered by valid land of the source
        (per time step when ``name`` has a time axis). NaN where no valid source land overlaps.
    """
    if same_grid(ds, target):
        land = ds["land_fraction"].where(ds[name].notnull(), 0.0)
        out = xr.Dataset({name: ds[name], "cell_area": ds["cell_area"], "land_fraction": land}, attrs=ds.attrs)
        return out
    field = ds[name]
    # weight = land fraction on valid cells; invalid cells contribute to neither numerator nor
    # denominator, so the regridded value is the land-area-weighted mean of the valid source cells
    weight = ds["land_fraction"].fillna(0.0).where(field.notnull(), 0.0)
    grid = xr.Dataset(coords={"lat": target["lat"], "lon": target["lon"]})
    both = xr.Dataset({"numerator": field.fillna(0.0) * weight, "weight": weight})
    # xarray-regrid pads global grids with an extra row at each pole (the mean of the first
    # row), which shifts the edges of the polar rows and breaks conservation there; under
    # another name the latitude is not padded but still gets the spherical area correction.
    regridded = (both.rename(lat=_LAT_UNPADDED)
                 .regrid.conservative(grid.rename(lat=_LAT_UNPADDED), latitude_coord=_LAT_UNPADDED, skipna=False)
                 .rename({_LAT_UNPADDED: "lat"}))
    valid_fraction = regridded["weight"]
    value = (regridded["numerator"] / valid_fraction).where(valid_fraction > 0)
    value.attrs = dict(field.attrs)
    valid_fraction = valid_fraction.fillna(0.0)
    valid_fraction.attrs = {"units": "1", "long_name": "fraction of the cell covered by valid land of the source"}
    out = xr.Dataset(
        {name: value.transpose(*field.dims), "cell_area": target["cell_area"], "land_fraction": valid_fraction},
        attrs={**ds.attrs, "regridded": f"conservative to {target.sizes['lat']}x{target.sizes['lon']}"},
    )
    if "step_days" in ds.coords:
        out = out.assign_coords(step_days=ds["step_days"])
    return out
