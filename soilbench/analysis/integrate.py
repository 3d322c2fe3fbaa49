"""Area and time integrals of canonical datasets: land area, global totals, annual totals.

Pure functions on the canonical dataset (``docs/architecture.md``). Units go through pint:
a flux in g m-2 yr-1 times an area in m² is converted to Pg yr-1, a stock in kg m-2 to Pg, an
annual total in g m-2 to Pg (carbon emitted in that year). A "yr" in soilbench's flux units is
365 days (see :mod:`soilbench.units`); annual totals of time series use each step's real
length in the file's calendar, so a 360_day model's year holds 360 days of flux.

**Land totals one way.** The area that counts is :func:`land_area_m2` (``cell_area ·
land_fraction``, an unknown land fraction counting as no land) and every total over cells is
:func:`area_sum`: a cell without a value adds nothing, and a total over no cell with a value is
NaN, never 0. ``global_total``, the runner's per-step totals
(:func:`soilbench.analysis.reductions.global_step_totals`), the 2-box series and the turnover
times all sum this way (``docs/gridded.md``, "Global and regional totals").

API (stable; the gridded analyses build on it)::

    land_area_m2(cell_area, land_fraction) -> DataArray (lat, lon) m2   # the area rule
    area_sum(da, area_m2, dims=("lat", "lon")) -> DataArray              # the NaN rule of totals
    land_area(ds) -> DataArray (lat, lon) m2
    global_total(da, area) -> DataArray          # sums over lat, lon; keeps time/year
    annual_totals(ds, var) -> DataArray (year)   # Pg yr-1 for fluxes, Pg for stocks (annual mean)
    period_mean(ds, var) -> DataArray (lat, lon) # time-weighted mean field (canonical units)
    period_total(ds, var) -> DataArray ()        # mean of complete years' totals, or the climatology's
    days_in_year(year, calendar) -> float        # a calendar year's length in days
    complete_years_mean(totals) -> (DataArray (), bool)  # mean of annual_totals over complete years
"""

from __future__ import annotations

import logging

import cftime
import numpy as np
import xarray as xr

from soilbench import units
from soilbench.analysis.annual import annual_mean, annual_total
from soilbench.units import ureg
from soilbench.quantities import FLUX_TOTAL_UNITS, STOCK_TOTAL_UNITS

log = logging.getLogger(__name__)

SPATIAL_DIMS = ("lat", "lon")


def land_area_m2(cell_area: xr.DataArray, land_fraction: xr.DataArray) -> xr.DataArray:
    """The area that counts for land totals and land-weighted means (m²): ``cell_area ·
    land_fraction``, an unknown (NaN) land fraction counting as no land. (A canonical dataset's
    land fraction is never NaN, :mod:`soilbench.load`; other inputs get the same answer.)"""
    return cell_area * land_fraction.fillna(0.0)


def area_sum(da: xr.DataArray, area_m2: xr.DataArray, dims: tuple[str, ...] = SPATIAL_DIMS) -> xr.DataArray:
    """Σ ``da`` · ``area_m2`` over ``dims``: the one NaN rule of land totals. A cell where the
    value (or the area) is unknown adds nothing; a total over no known cell is NaN, not 0.
    Units are those of ``da`` times those of the area (no conversion)."""
    return (da * area_m2).sum(dims, skipna=True, min_count=1)


def land_area(ds: xr.Dataset) -> xr.DataArray:
    """Area that counts for totals (m²) of a canonical dataset: :func:`land_area_m2`."""
    area = land_area_m2(ds["cell_area"], ds["land_fraction"])
    area.attrs = {"units": "m2", "long_name": "land area of the grid cell"}
    return area.rename("land_area")


def _total_units_for(units_text: str) -> str:
    """Pg yr-1 for a rate per area, Pg for a mass per area (``units_text`` times m²)."""
    per_area = ureg.Unit(units.pint_spelling(units_text))
    if per_area.dimensionality == ureg.get_dimensionality("[mass] / [length] ** 2 / [time]"):
        return FLUX_TOTAL_UNITS
    if per_area.dimensionality == ureg.get_dimensionality("[mass] / [length] ** 2"):
        return STOCK_TOTAL_UNITS
    raise ValueError(f"global_total needs mass per area or mass per area per time, got '{units_text}'")


def global_total(da: xr.DataArray, area: xr.DataArray) -> xr.DataArray:
    """Σ ``da`` · ``area`` over lat and lon, skipping NaN cells, in Pg yr-1 or Pg.

    Parameters
    ----------
    da
        Field per unit area with ``attrs["units"]`` (g m-2 yr-1, kg m-2, g m-2, ...); may
        carry ``time`` or ``year``, which are kept.
    area
        Area per cell with ``attrs["units"]`` (m² from :func:`land_area`).

    Returns
    -------
    xarray.DataArray
        Totals with ``attrs["units"]`` ``"Pg yr-1"`` (rates) or ``"Pg"`` (stocks, annual totals).
        All-NaN slices give NaN, not 0.
    """
    target = _total_units_for(da.attrs["units"])
    product = ureg.Quantity(1.0, units.pint_spelling(da.attrs["units"])) * ureg.Quantity(
        1.0, units.pint_spelling(area.attrs.get("units", "m2")))
    scale = float(product.to(units.pint_spelling(target)).magnitude)
    extra = [c for c in ("step_days",) if c in da.coords]
    total = area_sum(da.drop_vars(extra), area) * scale
    total.attrs = {"units": target, "long_name": f"global total of {da.attrs.get('long_name', da.name)}"}
    return total.rename(da.name)


def _is_flux(da: xr.DataArray) -> bool:
    return _total_units_for(da.attrs["units"]) == FLUX_TOTAL_UNITS


def days_in_year(year: int, calendar: str) -> float:
    """Length of calendar year ``year`` in days in the CF ``calendar`` (365, 366, 360...)."""
    start = cftime.datetime(year, 1, 1, calendar=calendar)
    return (cftime.datetime(year + 1, 1, 1, calendar=calendar) - start).total_seconds() / 86400.0


def annual_totals(ds: xr.Dataset, var: str) -> xr.DataArray:
    """Global total per calendar year (coordinate ``year``).

    Fluxes: carbon emitted in each year, Σ over steps of rate · step length (Pg; labelled
    ``Pg yr-1``); stocks: the annual-mean stock (Pg). Coordinates ``days_covered`` and
    ``days_in_year`` tell incomplete years apart.

    Raises
    ------
    ValueError
        When ``ds`` is a climatology (no time axis); use :func:`period_total`.
    """
    if "time" not in ds[var].dims:
        raise ValueError(f"{var} has no time axis (a climatology); use period_total")
    da = ds[var]
    area = land_area(ds)
    if _is_flux(da):
        per_year = annual_total(da)
        totals = global_total(per_year, area)
        totals.attrs["units"] = FLUX_TOTAL_UNITS  # the year's emission, per that year
    else:
        totals = global_total(annual_mean(da), area)
    covered = ds["step_days"].groupby("time.year").sum("time")
    return with_year_lengths(totals, covered.values, ds)


def with_year_lengths(totals: xr.DataArray, days_covered: np.ndarray, ds: xr.Dataset) -> xr.DataArray:
    """``totals`` (over ``year``) with the coordinates ``days_covered`` (the days its steps cover)
    and ``days_in_year`` (the year's length in ``ds``'s calendar) that tell incomplete years apart."""
    calendar = ds.attrs.get("calendar") or ds["time"].values[0].calendar
    full = [days_in_year(int(y), calendar) for y in totals["year"].values]
    return totals.assign_coords(days_covered=("year", np.asarray(days_covered)), days_in_year=("year", np.array(full)))


def complete_years_mean(totals: xr.DataArray) -> tuple[xr.DataArray, bool]:
    """Mean of annual totals (:func:`annual_totals`) over the complete calendar years, and whether
    any year was complete (when none is, the mean is over all years)."""
    complete = totals["days_covered"] >= totals["days_in_year"] - 1e-6
    any_complete = bool(complete.any())
    if not any_complete:
        complete = xr.ones_like(complete, dtype=bool)
    result = totals.where(complete, drop=True).mean("year")
    result.attrs = dict(totals.attrs)
    return result, any_complete


def period_mean(ds: xr.Dataset, var: str) -> xr.DataArray:
    """Time-mean field of ``var`` weighting each step by its length (the field itself for climatologies)."""
    da = ds[var]
    if "time" not in da.dims:
        return da
    weights = ds["step_days"]
    mean = (da.drop_vars("step_days") * weights).sum("time", skipna=False) / weights.sum()
    mean.attrs = dict(da.attrs)
    return mean.rename(var)


def period_total(ds: xr.Dataset, var: str) -> xr.DataArray:
    """One global number for the period: Pg yr-1 (fluxes) or Pg (stocks).

    Time series: the mean of the annual totals of complete years (all years, with a warning,
    when none is complete). Climatologies: the global total of the field (a flux climatology's
    year is 365 days).
    """
    if "time" not in ds[var].dims:
        return global_total(ds[var], land_area(ds))
    result, any_complete = complete_years_mean(annual_totals(ds, var))
    if not any_complete:
        log.warning("%s: no complete calendar year in %s; averaging partial years", var, ds.attrs.get("period"))
    return result
