"""Turn one opened (possibly merged) dataset into soilbench's canonical dataset.

The steps, in order: find lat/lon (CF); cell area and land fraction on the file's own grid;
quantities by the alias table, converted to canonical units and summed; cells flagged missing
set to NaN; the grid oriented (lat ascending, lon −180…180); the time axis given ``step_days``
and the requested period, or a one-step file turned into a climatology.
See ``docs/architecture.md`` ("The canonical dataset") for the contract.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from os import PathLike

import dask
import numpy as np
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.load import aliases, checks, grid, timeaxis, units
from soilbench.quantities import PHYSICAL_BOUNDS, QUANTITIES

log = logging.getLogger(__name__)

_PERIOD_TEXT = re.compile(r"(?<!\d)(1[5-9]\d\d|2[01]\d\d)\s*[-–_]\s*(1[5-9]\d\d|2[01]\d\d)(?!\d)")

#: ``attrs["period"]`` of time-invariant references (HWSD, NCSCD, RC map, land fraction)
STATIC_PERIOD = "static"

# Testbed convention: land area per cell (km²; ice and water 0) and a missing-data flag.
TESTBED_LAND_AREA = "landarea"
TESTBED_MISSING_FLAG = "cellMissing"


def canonicalise(
    raw: xr.Dataset,
    source: str,
    name: str,
    period: tuple[int, int] | None = None,
    metadata: Mapping | None = None,
) -> xr.Dataset:
    """Build the canonical dataset from ``raw`` (opened, times decoded).

    Parameters
    ----------
    raw
        The file(s) as opened by :func:`soilbench.load.sources.open_netcdf` and
        :func:`soilbench.load.timeaxis.decode_time`.
    source
        File name(s) for error messages and ``attrs["source_files"]``.
    name
        Display name of the model or reference (``attrs["model"]``).
    period
        Years ``(first, last)`` to keep; ``None`` keeps everything.
    metadata
        Catalog metadata: ``period`` ("2000-2010" or [2000, 2010]) for one-step files,
        ``static`` (True for time-invariant products: ``attrs["period"] = "static"``),
        ``quantities`` (quantity → variable name or list to sum) overriding the alias table.
        When the file has neither ``sftlf`` nor testbed ``landarea``, the land fraction is 1
        where any quantity has data at the first step, else 0 (:func:`valid_fraction`).
    """
    metadata = dict(metadata or {})
    lat, lon = grid.find_lat_lon(raw, source)
    cell_area, land_fraction = _area_and_fraction(raw, lat, lon, source)

    fields = _quantities(raw, lat, lon, source, metadata.get("quantities"))
    if not fields:
        bounds = {str(raw[c].attrs.get("bounds")) for c in raw.variables}
        present = ", ".join(sorted(str(v) for v in raw.data_vars if str(v) not in bounds)) or "none"
        raise SoilbenchError(source, f"has no variable soilbench knows (rh, rhSoil, cSoil, cresp, ...); found: {present}")
    if any("time" in da.dims for da in fields.values()):
        checks.check_time_coordinate(raw, source)
    missing = _missing_mask(raw, source)
    if missing is not None:
        fields = {k: v.where(~missing) for k, v in fields.items()}
    if land_fraction is None:
        land_fraction = valid_fraction(fields, "1 where data are valid (no land fraction in the file)")
    first_steps = _first_steps(raw, lat, lon, source, metadata.get("quantities"), fields, missing)
    return assemble(raw, lat, lon, fields, cell_area, land_fraction, source, name, period, metadata,
                    first_steps=first_steps)


def _first_steps(raw: xr.Dataset, lat: str, lon: str, source: str, overrides, fields: Mapping[str, xr.DataArray],
                 missing: xr.DataArray | None) -> dict[str, xr.DataArray]:
    """The first time step of each lazy, time-dependent quantity, for the load checks.

    Built from the file variables sliced to that step (a slice of the file's variable reads only
    that step; a slice of the converted field would read its whole chunk) and computed together,
    so each file variable's step is read once.
    """
    timed = [name for name, da in fields.items() if name in PHYSICAL_BOUNDS and checks.needs_first_step(da)]
    if not timed:
        return {}
    first = _quantities(raw.isel(time=slice(0, 1)), lat, lon, source, overrides)
    if missing is not None:
        first = {k: v.where(~missing) for k, v in first.items()}
    computed = dask.compute(*[first[name] for name in timed])
    return dict(zip(timed, computed))


def assemble(
    raw: xr.Dataset,
    lat: str,
    lon: str,
    fields: Mapping[str, xr.DataArray],
    cell_area: xr.DataArray,
    land_fraction: xr.DataArray,
    source: str,
    name: str,
    period: tuple[int, int] | None = None,
    metadata: Mapping | None = None,
    first_steps: Mapping[str, xr.DataArray] | None = None,
) -> xr.Dataset:
    """Put fields, cell area and land fraction (all on ``raw``'s grid) into canonical form.

    Checks the values of every quantity against its physical bounds (:mod:`soilbench.load.checks`:
    a sample now, the first step given in ``first_steps`` (quantity → that step) or the whole
    field without time; the rest lazily in the run's pass), orients the grid, keeps each cell's CF
    bounds as the coordinates ``lat_bnds``/``lon_bnds`` (from the file, else midpoints between
    centres), records what the file's grid looked like, and finishes the time axis
    (``step_days`` and period, or a climatology). Used for models and gridded references.
    """
    grid_found = grid.describe_grid(raw, lat, lon)
    lat_bnds, lon_bnds = grid.canonical_bounds(raw, lat, lon, source)
    first_steps = first_steps or {}
    fields = {name: checks.guard_values(da, name, source, first_step=first_steps.get(name))
              if name in PHYSICAL_BOUNDS else da for name, da in fields.items()}
    ds = xr.Dataset({**fields, "cell_area": cell_area, "land_fraction": land_fraction})
    if "time" in raw.coords and "time" in ds.dims:
        ds = ds.assign_coords(time=raw["time"])
        bounds = raw["time"].attrs.get("bounds")
        if bounds in raw.variables:
            ds[bounds] = raw[bounds]
            ds["time"].attrs["bounds"] = bounds
    checks.check_time_coordinate(ds, source)
    ds = grid.orient(ds, lat, lon)
    ds = grid.attach_bounds(ds, lat_bnds, lon_bnds)
    ds.attrs.update(
        model=name, source_files=source, grid_found=_grid_text(grid_found),
        lon_convention_found=grid_found["lon_convention"], lat_order_found=grid_found["lat_order"],
    )
    if "calendar" in raw.attrs:
        ds.attrs["calendar"] = raw.attrs["calendar"]
    return _finish_time(ds, raw, source, period, dict(metadata or {}))


def _grid_text(found: dict) -> str:
    return (f"{found['nlat']}x{found['nlon']} ({found['dlat']:.4g}° x {found['dlon']:.4g}°), "
            f"lat {found['lat_order']}, lon {found['lon_convention']}")


def _spatial_dims(raw: xr.Dataset, lat: str, lon: str) -> tuple[str, str]:
    return raw[lat].dims[0], raw[lon].dims[0]


def _area_and_fraction(raw: xr.Dataset, lat: str, lon: str, source: str) -> tuple[xr.DataArray, xr.DataArray | None]:
    """Cell area (m²) and land fraction (0–1, or None when the file says nothing)."""
    dims = _spatial_dims(raw, lat, lon)
    sphere = grid.grid_cell_area(raw, lat, lon)
    area_name = _cell_measure(raw) or aliases.find_auxiliary(raw, "cell_area")
    if area_name is not None:
        cell_area = units.convert(raw[area_name], "m2", "area", source, area_name).transpose(*dims).load()
        cell_area.attrs.update(long_name="grid cell area", source=area_name)
    else:
        cell_area = sphere
    fraction_name = aliases.find_auxiliary(raw, "land_fraction")
    if fraction_name is not None:
        return cell_area, _land_fraction_variable(raw[fraction_name], source, fraction_name, dims)
    if TESTBED_LAND_AREA in raw.data_vars:
        land_area = units.convert(raw[TESTBED_LAND_AREA], "m2", "area", source, TESTBED_LAND_AREA)
        land_area = _spatial_only(land_area, dims).load()
        fraction = (land_area / cell_area).fillna(0.0)
        fraction.attrs = {"units": "1", "long_name": "land fraction",
                          "source": f"{TESTBED_LAND_AREA} [{raw[TESTBED_LAND_AREA].attrs.get('units')}] / cell_area"}
        return cell_area, fraction
    return cell_area, None


def _cell_measure(raw: xr.Dataset) -> str | None:
    """The variable named by any ``cell_measures = "area: X"`` attribute, when present in the file."""
    for var in raw.data_vars.values():
        match = re.search(r"area:\s*(\S+)", str(var.attrs.get("cell_measures", "")))
        if match and match.group(1) in raw.variables:
            return match.group(1)
    return None


def _spatial_only(da: xr.DataArray, dims: tuple[str, str]) -> xr.DataArray:
    extra = [d for d in da.dims if d not in dims]
    return da.isel({d: 0 for d in extra}, drop=True).transpose(*dims) if extra else da.transpose(*dims)


def _land_fraction_variable(da: xr.DataArray, source: str, name: str, dims: tuple[str, str]) -> xr.DataArray:
    """``sftlf`` as a 0–1 fraction: % when the units say so or any value exceeds 1."""
    da = _spatial_only(da, dims).load()
    text = str(da.attrs.get("units", "")).strip()
    if text not in ("", "%", "1") and units.normalise_unit_string(text) != "1":
        units.check_kind(units.parse_units(text, source, name), "fraction", text, source, name)
    percent = text == "%" or float(da.max(skipna=True)) > 1.0 + 1e-6
    fraction = (da / 100.0 if percent else da).clip(0.0, 1.0).fillna(0.0)
    fraction.attrs = {"units": "1", "long_name": "land fraction",
                      "source": f"{name} [{'%' if percent else 'fraction'}]"}
    return fraction


def _quantities(raw: xr.Dataset, lat: str, lon: str, source: str, overrides) -> dict[str, xr.DataArray]:
    """Every quantity the alias table finds in ``raw``, in canonical units, dims (time,) lat, lon."""
    dims = _spatial_dims(raw, lat, lon)
    fields = {}
    for quantity in aliases.quantity_names():
        recipe = aliases.resolve(raw, quantity, overrides)
        if recipe is None:
            continue
        parts, labels = [], []
        for variable in recipe.variables:
            da = raw[variable]
            extra = [d for d in da.dims if d not in (*dims, "time")]
            if len(extra) == 1 and QUANTITIES[quantity].kind == "temperature":
                da, extra = _top_layer(da, extra[0]), []
            if extra or not set(dims) <= set(da.dims):
                raise SoilbenchError(source, f"has dimensions {da.dims}; expected (time,) {dims[0]}, {dims[1]}", variable)
            parts.append(units.to_canonical(da, quantity, source, variable))
            labels.append(f"{variable} [{da.attrs.get('units')}]")
        units_found = parts[0].attrs.get("units_found", "")
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        qty = QUANTITIES[quantity]
        total.attrs = {"units": qty.units, "long_name": qty.long_name, "source": " + ".join(labels)}
        if len(parts) == 1:
            total.attrs["units_found"] = units_found
        held = [raw[v].attrs[timeaxis.HELD_ATTRIBUTE] for v in recipe.variables if timeaxis.HELD_ATTRIBUTE in raw[v].attrs]
        if held:
            total.attrs[timeaxis.HELD_ATTRIBUTE] = held[0]
        if quantity == "csoil":
            total.attrs["includes_litter"] = int(bool(recipe.includes_litter))
        total.name = quantity
        fields[quantity] = total.transpose(*[d for d in total.dims if d not in dims], *dims)
    return fields


def _top_layer(da: xr.DataArray, depth_dim: str) -> xr.DataArray:
    """The shallowest layer of a layered variable (CMOR ``tsl``): the smallest depth, else index 0."""
    depth = da[depth_dim] if depth_dim in da.coords else None
    first = int(np.abs(depth.values).argmin()) if depth is not None and depth.dtype.kind in "fi" else 0
    top = da.isel({depth_dim: first}, drop=True)
    top.attrs = dict(da.attrs)
    return top


def _missing_mask(raw: xr.Dataset, source: str) -> xr.DataArray | None:
    """True where the testbed flags a cell as missing (``cellMissing == 1``)."""
    if TESTBED_MISSING_FLAG not in raw.data_vars:
        return None
    return (raw[TESTBED_MISSING_FLAG] == 1).load()


def valid_fraction(fields: Mapping[str, xr.DataArray], note: str) -> xr.DataArray:
    """Land fraction 1 where any field has data (at the first time step), else 0; ``note`` is its source."""
    valid = None
    for da in fields.values():
        first = da.isel(time=0, drop=True) if "time" in da.dims else da
        ok = first.notnull()
        valid = ok if valid is None else (valid | ok)
    fraction = valid.astype(float).load()
    fraction.attrs = {"units": "1", "long_name": "land fraction", "source": note}
    return fraction


def _finish_time(ds: xr.Dataset, raw: xr.Dataset, source: str, period, metadata: Mapping) -> xr.Dataset:
    """Give a time axis ``step_days`` and select the period; make one-step files climatologies."""
    if "time" in ds.dims and ds.sizes["time"] > 1:
        checks.check_time_axis(ds["time"].values, "time", source)
        ds = ds.assign_coords(step_days=timeaxis.step_days(ds, source))
        ds = timeaxis.select_period(ds, period, source)
        bounds = ds["time"].attrs.get("bounds")
        if bounds in ds.variables:
            ds = ds.drop_vars(bounds)
        return ds
    if metadata.get("static"):
        # time-invariant products (soil carbon inventories, maps): no years to state
        ds.attrs.update(period=STATIC_PERIOD, climatology=1)
        return ds
    climate_period = _climatology_period(ds, raw, source, metadata)
    if "time" in ds.dims:
        bounds = ds["time"].attrs.get("bounds")
        ds = ds.drop_vars([b for b in [bounds] if b in ds.variables]).isel(time=0, drop=True)
    ds.attrs.update(period=climate_period, climatology=1)
    if period is not None:
        y0, y1 = (int(p) for p in climate_period.split("-"))
        overlap = max(0, min(y1, int(period[1])) - max(y0, int(period[0])) + 1)
        ds.attrs.update(period_requested=f"{period[0]}-{period[1]}", period_overlap=f"{overlap} of {int(period[1]) - int(period[0]) + 1} years")
        log.info("%s: a %s climatology; period %s-%s requested (%d years overlap)", source, climate_period, period[0], period[1], overlap)
    return ds


def _climatology_period(ds: xr.Dataset, raw: xr.Dataset, source: str, metadata: Mapping) -> str:
    """The years a one-period mean stands for: catalog metadata, time bounds, or the file's text."""
    given = metadata.get("period")
    if given:
        years = given if isinstance(given, (list, tuple)) else _PERIOD_TEXT.search(str(given)).groups()
        return f"{int(years[0])}-{int(years[1])}"
    if "time" in ds.dims:
        bounds = ds["time"].attrs.get("bounds")
        if bounds in ds.variables:
            lo, hi = ds[bounds].values[0]
            if (hi - lo).days > 366:
                last = hi - timeaxis._days(1)  # bounds end at the start of the next year
                return f"{lo.year}-{last.year}"
    for text in (source, raw.attrs.get("title", ""), raw.attrs.get("history", ""), raw.attrs.get("comment", "")):
        match = _PERIOD_TEXT.search(str(text))
        if match:
            return f"{match.group(1)}-{match.group(2)}"
    if "time" in ds.dims:
        year = ds["time"].values[0].year
        return f"{year}-{year}"
    raise SoilbenchError(source, "is a one-period mean whose years are not stated (give the catalog entry a 'period')")
