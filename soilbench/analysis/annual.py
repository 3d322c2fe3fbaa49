"""Calendar-year means and totals of a canonical time series, each step its real length.

A canonical dataset (:mod:`soilbench.load`) carries ``step_days(time)``, each step's length in
days in the file's calendar; these functions weight by it, so a 360-day, a 365-day and a
366-day year each hold their own days.
"""

from __future__ import annotations

import xarray as xr

from soilbench.units import DAYS_PER_YEAR, total_units


def annual_mean(obj: xr.Dataset | xr.DataArray) -> xr.Dataset | xr.DataArray:
    """Mean rate per calendar year, each step weighted by its real length (``step_days``).

    Returns the object with a ``year`` dimension instead of ``time``; units unchanged.
    """
    weights = obj["step_days"]
    data = obj.drop_vars("step_days")
    timed = data[[v for v in data.data_vars if "time" in data[v].dims]] if isinstance(data, xr.Dataset) else data
    weighted = (timed * weights).groupby("time.year").sum("time", skipna=False, keep_attrs=True)
    out = weighted / weights.groupby("time.year").sum("time")
    return _copy_attrs(timed, out)


def annual_total(da: xr.DataArray) -> xr.DataArray:
    """Total of a canonical flux (g m-2 yr-1) over each calendar year, in g m-2.

    Σ rate · step_days / 365 over the steps of the year: a year of the file's calendar (360,
    365, 366 days...) with each step its real length. The 365 undoes the 365-day year in the
    canonical rate unit (:data:`soilbench.units.DAYS_PER_YEAR`).
    """
    weights = da["step_days"] / DAYS_PER_YEAR
    total = (da.drop_vars("step_days") * weights).groupby("time.year").sum("time", skipna=False)
    total.attrs = {**da.attrs, "units": total_units(da.attrs.get("units", ""))}
    total.name = da.name
    return total


def _copy_attrs(src, out):
    if isinstance(out, xr.Dataset):
        for v in out.data_vars:
            out[v].attrs = dict(src[v].attrs)
        out.attrs = dict(src.attrs)
    else:
        out.attrs = dict(src.attrs)
        out.name = src.name
    return out
