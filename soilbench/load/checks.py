"""Plausibility checks at the load boundary: coordinates, time stamps and physical values.

Every check refuses with a one-line :class:`~soilbench.errors.SoilbenchError` naming the file,
the variable and the problem; nothing is repaired silently. Models and gridded references go
through the same checks (:func:`soilbench.load.canonical.assemble` calls them).

Values are checked without an extra read of the data (``docs/loading.md``, "Checks"):

- **sample, at load time**: the first time step of each quantity (a small 2-D map, read from
  the sliced file variables so that only that step is read; the whole map of a climatology or
  a static product) is read and checked at once; a field with no valid value there is read in
  full only then, to tell an all-NaN field;
- **every other value, in the run's one pass**: each quantity is wrapped in a dask
  ``map_blocks`` guard that checks each chunk when the runner (or ``inspect``) computes its
  reductions, so the check rides on the read the run does anyway. A chunk with a value
  outside :data:`soilbench.quantities.PHYSICAL_BOUNDS` raises, the pass fails, and the tasks
  of that model fail with this message.
"""

from __future__ import annotations

from os import PathLike

import dask.array
import numpy as np
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.quantities import PHYSICAL_BOUNDS

#: how far apart two coordinate values may be and still be the same (degrees)
COORDINATE_TOLERANCE_DEG = 1.0e-6

# --------------------------------------------------------------------------------------------
# coordinates


def check_horizontal(ds: xr.Dataset, lat: str, lon: str, source: str | PathLike | None) -> None:
    """Refuse latitudes/longitudes no canonical grid can hold.

    Empty, NaN or infinite values; latitudes outside −90…90 (e.g. 0…180, a colatitude);
    longitudes outside −360…360; a latitude listed twice; two longitudes on the same meridian
    once wrapped to −180…180 (0 and 360: a cyclic column would be counted twice in totals).
    """
    for name, kind in ((lat, "latitude"), (lon, "longitude")):
        values = np.asarray(ds[name].values, dtype=float)
        if values.size == 0:
            raise SoilbenchError(source, f"has no {kind}s (dimension '{ds[name].dims[0]}' of length 0)", name)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise SoilbenchError(source, f"has {bad.size} NaN or infinite {kind}(s) (at index {_list(bad)})", name)
    lat_values = np.asarray(ds[lat].values, dtype=float)
    if lat_values.min() < -90.0 - COORDINATE_TOLERANCE_DEG or lat_values.max() > 90.0 + COORDINATE_TOLERANCE_DEG:
        raise SoilbenchError(source, f"has latitudes {lat_values.min():g}…{lat_values.max():g} outside −90…90 "
                             "(a colatitude or index axis?); give latitudes in degrees_north", lat)
    lon_values = np.asarray(ds[lon].values, dtype=float)
    if lon_values.min() < -360.0 or lon_values.max() > 360.0:
        raise SoilbenchError(source, f"has longitudes {lon_values.min():g}…{lon_values.max():g} outside "
                             "−360…360; give longitudes in degrees_east", lon)
    _no_duplicates(lat_values, lat, "latitude", source)
    _no_duplicates((lon_values + 180.0) % 360.0 - 180.0, lon, "longitude", source,
                   " once wrapped to −180…180 (a repeated cyclic column?)")


def _no_duplicates(values: np.ndarray, name: str, kind: str, source, why: str = "") -> None:
    order = np.sort(values)
    repeated = order[1:][np.diff(order) <= COORDINATE_TOLERANCE_DEG]
    if repeated.size:
        raise SoilbenchError(source, f"lists {kind} {_list(np.unique(repeated), '{:g}')} more than once{why}; "
                             "each cell must appear once", name)


def check_bounds(centres: np.ndarray, bounds: np.ndarray, name: str, source, circular: bool = False) -> None:
    """Refuse CF bounds (n, 2) that are not finite or do not contain their cell centres."""
    if not np.all(np.isfinite(bounds)):
        raise SoilbenchError(source, "has NaN or infinite cell bounds", name)
    lower, upper = bounds[:, 0], bounds[:, 1]
    if circular:
        outside = ((centres - lower) % 360.0) > (upper - lower) + COORDINATE_TOLERANCE_DEG
    else:
        outside = (centres < lower - COORDINATE_TOLERANCE_DEG) | (centres > upper + COORDINATE_TOLERANCE_DEG)
    bad = np.flatnonzero(outside | (upper - lower <= 0))
    if bad.size:
        raise SoilbenchError(source, f"has cell bounds that do not contain their centres or are empty "
                             f"(at index {_list(bad)})", name)


# --------------------------------------------------------------------------------------------
# time


def check_time_numbers(values: np.ndarray, name: str, source) -> None:
    """Refuse NaN time stamps before decoding (CF decoding turns NaN into the reference date)."""
    numbers = np.asarray(values)
    if numbers.dtype.kind in "fc":
        bad = np.flatnonzero(~np.isfinite(numbers))
        if bad.size:
            raise SoilbenchError(source, f"has {bad.size} NaN time stamp(s) at step(s) {_list(bad + 1)}; "
                                 "every step needs a date", name)


def check_time_axis(times: np.ndarray, name: str, source) -> None:
    """Refuse a decoded time axis with a date listed twice (a duplicated step adds a month)."""
    seen: dict = {}
    repeated = []
    for step, t in enumerate(times, start=1):
        if t in seen:
            repeated.append(f"{t} (steps {seen[t]} and {step})")
        else:
            seen[t] = step
    if repeated:
        shown = "; ".join(repeated[:3]) + ("; …" if len(repeated) > 3 else "")
        raise SoilbenchError(source, f"has {len(repeated)} duplicated time step(s): {shown}; "
                             "remove the duplicates", name)


def check_time_coordinate(ds: xr.Dataset, source) -> None:
    """Refuse a ``time`` dimension without dates (no coordinate variable, or not decodable)."""
    if "time" not in ds.dims:
        return
    if "time" not in ds.coords:
        raise SoilbenchError(source, "has a dimension 'time' without a time coordinate variable "
                             "(give it one with units '<unit> since <date>')", "time")
    values = ds["time"].values
    if ds.sizes["time"] == 0:
        raise SoilbenchError(source, "has a time dimension of length 0 (no data)", "time")
    if not hasattr(values[0], "calendar"):
        raise SoilbenchError(source, f"has a time coordinate that is not dates (units "
                             f"'{ds['time'].attrs.get('units', '')}'; expected '<unit> since <date>')", "time")


# --------------------------------------------------------------------------------------------
# values


def guard_values(da: xr.DataArray, quantity: str, source, variable: str | None = None,
                 first_step: xr.DataArray | None = None) -> xr.DataArray:
    """``da`` with its values checked against the physical bounds of ``quantity``.

    Checked now: a field without time (or of a few steps) whole, which is then kept in memory;
    else its first step, given as ``first_step`` (computed by the caller from the sliced file
    variables, so that only that step is read) or sliced here. The rest is checked chunk by
    chunk whenever the data are computed (a lazy ``map_blocks`` that adds no read). Refuses: no
    valid value at all; ±inf; any value outside :data:`PHYSICAL_BOUNDS` (undeclared fill values
    such as −9999 or 1e30, negative respiration beyond numerical noise).
    """
    variable = variable or _source_variables(da, quantity)
    bounds = PHYSICAL_BOUNDS.get(quantity)
    units = da.attrs.get("units", "")
    if not needs_first_step(da):
        da = da.load()  # a map (or a few steps): checked whole, and kept so it is not read twice
        sample = da
    else:
        sample = first_step if first_step is not None else da.isel(time=slice(0, 1))
        sample = sample.compute()
    _check_block(np.asarray(sample.values), bounds, quantity, units, source, variable, "")
    if not np.isfinite(np.asarray(sample.values, dtype=float)).any():
        # rare: only a field with nothing in its first step is read in full here
        if sample is da or not bool(da.notnull().any().compute()):
            raise SoilbenchError(source, f"has no valid value: every {quantity} value is NaN or a declared fill "
                                 "value", variable)
    if sample is da:
        return da
    time_axis = da.dims.index("time")

    def check(block: np.ndarray, block_info=None) -> np.ndarray:
        where = ""
        if block_info and None in block_info:
            first, last = block_info[None]["array-location"][time_axis]
            where = f" in time steps {first + 1}-{last}"
        _check_block(block, bounds, quantity, units, source, variable, where)
        return block

    return da.copy(data=da.data.map_blocks(check, dtype=da.dtype, meta=np.array((), dtype=da.dtype)))


def needs_first_step(da: xr.DataArray) -> bool:
    """Whether :func:`guard_values` checks ``da`` by its first step (a lazy field of many steps)."""
    return isinstance(da.data, dask.array.Array) and "time" in da.dims and da.sizes["time"] > 3


def _check_block(values: np.ndarray, bounds, quantity: str, units: str, source, variable: str, where: str) -> None:
    values = np.asarray(values)
    if values.dtype.kind not in "fiu" or values.size == 0:
        return
    infinite = np.isinf(values)
    n_inf = int(infinite.sum())
    if n_inf:
        raise SoilbenchError(source, f"has {n_inf:,} infinite value(s){where} (an overflow?); "
                             "NaN or a declared _FillValue marks missing data", variable)
    if bounds is None:
        return
    with np.errstate(invalid="ignore"):
        below = values < bounds.lower
        above = values > bounds.upper
    n_below, n_above = int(below.sum()), int(above.sum())
    if n_below or n_above:
        worst = float(values[below].min()) if n_below else float(values[above].max())
        raise SoilbenchError(
            source,
            f"has {n_below + n_above:,} value(s) outside the physical range of {quantity} "
            f"[{bounds.lower:g}, {bounds.upper:g}] {units}{where} (e.g. {worst:.4g}; {bounds.why}): an "
            "undeclared fill value (declare it as _FillValue or missing_value) or a broken model",
            variable,
        )


def _source_variables(da: xr.DataArray, quantity: str) -> str:
    """The file's variable name(s) behind a canonical field (its ``source`` attribute)."""
    text = str(da.attrs.get("source", ""))
    names = [part.split("[")[0].strip() for part in text.split(" + ") if part.strip()]
    return " + ".join(n for n in names if n) or quantity


def _list(values, fmt: str = "{}") -> str:
    shown = [fmt.format(v) for v in list(values)[:5]]
    return ", ".join(shown) + (", …" if len(values) > 5 else "")

