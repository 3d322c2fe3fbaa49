"""Time axis: calendars, each step's real length, period selection and annual aggregation.

Times are always decoded to cftime objects (``use_cftime=True``) so that every CF calendar
behaves the same way, including 360_day and all_leap, and years outside pandas' range work.
Each step's length in days in the file's calendar is the coordinate ``step_days(time)``: from
the time bounds when the file has them, else from the calendar and the step frequency
(annual, monthly, daily) inferred from the spacing of the time stamps.
"""

from __future__ import annotations

import logging
import re
from os import PathLike

import cf_xarray  # noqa: F401
import cftime
import numpy as np
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.load import checks
from soilbench.analysis.annual import annual_mean, annual_total  # noqa: F401 — importable from here as before
from soilbench.load.units import DAYS_PER_YEAR  # noqa: F401 — importable from here as before
from soilbench.units import total_units as _total_units  # noqa: F401 — the former private name

log = logging.getLogger(__name__)

#: CF calendars soilbench understands (cftime names; aliases map onto these)
SUPPORTED_CALENDARS = {
    "standard": "standard", "gregorian": "standard", "proleptic_gregorian": "proleptic_gregorian",
    "noleap": "noleap", "365_day": "noleap", "all_leap": "all_leap", "366_day": "all_leap",
    "360_day": "360_day", "julian": "julian",
}

# Accepted spacing of consecutive time stamps (days) per frequency, with its step builder.
_FREQUENCIES = {"daily": (0.9, 1.1), "monthly": (27.5, 31.5), "annual": (359.0, 367.0)}

_CALENDAR_UNITS = re.compile(r"^\s*(months?|years?)\s+since\s+(.+?)\s*$")
_ABSOLUTE_TIME = re.compile(r"^\s*day\s+as\s+%Y%m%d(\.%f)?\s*$")  # CDO's "day as %Y%m%d.%f"


def find_time(ds: xr.Dataset) -> str | None:
    """Name of the time coordinate (CF axis T / standard_name time / "since" units), or None."""
    names = [n for n in ds.cf.axes.get("T", []) if ds[n].ndim == 1]
    if not names:
        names = [n for n, v in ds.variables.items()
                 if v.ndim == 1 and (v.attrs.get("standard_name") == "time" or "since" in str(v.attrs.get("units", "")))]
    return names[0] if names else None


def calendar_of(ds: xr.Dataset, time: str, source: str | PathLike | None = None) -> str:
    """The file's calendar, normalised to a cftime name; unsupported calendars are an error."""
    var = ds[time]
    found = str(var.attrs.get("calendar", var.encoding.get("calendar", "standard"))).strip().lower()
    if found not in SUPPORTED_CALENDARS:
        supported = ", ".join(sorted(SUPPORTED_CALENDARS))
        raise SoilbenchError(source, f"has unsupported calendar '{found}' (supported: {supported})", time)
    return SUPPORTED_CALENDARS[found]


def decode_time(ds: xr.Dataset, source: str | PathLike | None = None) -> xr.Dataset:
    """Decode the time axis of a dataset opened with ``decode_times=False``.

    Returns the dataset with cftime times (and bounds) and ``attrs["calendar"]``. A single time
    stamp that cannot be decoded (the testbed's ``"day as %Y%m%d.%f"`` with value 0) is
    dropped, the file then being a one-period mean; several undecodable stamps are an error.
    """
    time = find_time(ds)
    if time is None:
        return ds
    checks.check_time_numbers(ds[time].values, time, source)
    calendar = calendar_of(ds, time, source)
    units = str(ds[time].attrs.get("units", ""))
    if _ABSOLUTE_TIME.match(units):
        decoded = _decode_absolute(ds[time].values, calendar)
        if decoded is None:
            if ds.sizes[ds[time].dims[0]] == 1:
                log.debug("%s: undecodable single time stamp (%s); treated as a one-period mean", source, units)
                ds = _drop_time(ds, time)
                ds.attrs["calendar"] = calendar
                return ds
            raise SoilbenchError(source, f"has time values that are not dates in '{units}'", time)
        ds = ds.assign_coords({time: (ds[time].dims, decoded, {"calendar": calendar})})
        bounds = ds[time].attrs.get("bounds")
        ds = ds.drop_vars([b for b in [bounds] if b and b in ds.variables])
    elif _CALENDAR_UNITS.match(units):
        ds = _decode_calendar_units(ds, time, units, calendar, source)
    else:
        if "since" not in units:
            raise SoilbenchError(source, f"has time units '{units}', expected '<unit> since <date>'", time)
        ds[time].attrs["calendar"] = calendar
        bounds = ds[time].attrs.get("bounds")
        if bounds in ds.variables:
            ds[bounds].attrs.update(units=units, calendar=calendar)
        try:
            ds = xr.decode_cf(ds, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True), mask_and_scale=False,
                              decode_coords=False, decode_timedelta=False)
        except (ValueError, OverflowError, TypeError) as err:
            raise SoilbenchError(source, f"has undecodable times ({err})", time) from None
    ds = ds.rename({time: "time"}) if time != "time" else ds
    checks.check_time_axis(ds["time"].values, time, source)
    ds.attrs["calendar"] = calendar
    return ds


def _decode_calendar_units(ds: xr.Dataset, time: str, units: str, calendar: str,
                           source: str | PathLike | None) -> xr.Dataset:
    """Decode ``months since``/``years since`` (TRENDY), which cftime only knows for 360_day.

    A value v counts calendar months (years) from the reference date; its fraction is the
    fraction of that month (year) in the file's calendar. Hand-written: no library does this for
    every calendar.
    """
    step, ref_text = _CALENDAR_UNITS.match(units).groups()
    try:
        ref = cftime.num2date(0, f"days since {ref_text}", calendar=calendar)
    except ValueError:
        raise SoilbenchError(source, f"has time units '{units}' with an unreadable reference date", time) from None
    months_per_step = 12 if step.startswith("year") else 1

    def to_date(value: float) -> cftime.datetime:
        whole = int(np.floor(value))
        index = ref.year * 12 + (ref.month - 1) + whole * months_per_step
        start = cftime.datetime(index // 12, index % 12 + 1, 1, calendar=calendar)
        nxt = index + months_per_step
        end = cftime.datetime(nxt // 12, nxt % 12 + 1, 1, calendar=calendar)
        return start + (end - start) * float(value - whole)

    names = [time] + [b for b in [ds[time].attrs.get("bounds")] if b in ds.variables]
    for name in names:
        values = np.asarray(ds[name].values, dtype=float)
        decoded = np.vectorize(to_date, otypes=[object])(values)
        attrs = {k: v for k, v in ds[name].attrs.items() if k not in ("units", "calendar")}
        ds = ds.assign_coords({name: (ds[name].dims, decoded, attrs)}) if name == time else ds.assign(
            {name: (ds[name].dims, decoded, attrs)})
    ds[time].attrs["calendar"] = calendar
    return ds


def _decode_absolute(values: np.ndarray, calendar: str) -> np.ndarray | None:
    """Dates from ``YYYYMMDD.fraction`` numbers, or None when any is not a date."""
    out = []
    for value in np.atleast_1d(values):
        day_number = int(np.floor(value))
        year, month, day = day_number // 10000, (day_number // 100) % 100, day_number % 100
        try:
            date = cftime.datetime(year, month, day, calendar=calendar) + _days(value - day_number)
        except ValueError:
            return None
        out.append(date)
    return np.array(out, dtype=object)


def _days(n: float):
    from datetime import timedelta

    return timedelta(days=float(n))


def _drop_time(ds: xr.Dataset, time: str) -> xr.Dataset:
    bounds = ds[time].attrs.get("bounds")
    ds = ds.drop_vars([b for b in [bounds] if b and b in ds.variables])
    dim = ds[time].dims[0]
    return ds.isel({dim: 0}, drop=True)


def infer_frequency(times: np.ndarray, source: str | PathLike | None = None) -> str:
    """``"daily"``, ``"monthly"`` or ``"annual"`` from the median spacing of the time stamps."""
    if len(times) < 2:
        raise SoilbenchError(source, "has one time step and no time bounds; cannot tell its length", "time")
    spacing = np.median([(b - a).total_seconds() / 86400.0 for a, b in zip(times[:-1], times[1:])])
    for name, (low, high) in _FREQUENCIES.items():
        if low <= spacing <= high:
            return name
    raise SoilbenchError(
        source, f"has time steps of {spacing:g} days; without time bounds only daily, monthly and annual steps are understood",
        "time",
    )


def _step_edges(t: cftime.datetime, frequency: str) -> tuple[cftime.datetime, cftime.datetime]:
    """Start and end of the step containing ``t`` in ``t``'s own calendar."""
    make = lambda y, m, d: cftime.datetime(y, m, d, calendar=t.calendar)  # noqa: E731
    if frequency == "annual":
        return make(t.year, 1, 1), make(t.year + 1, 1, 1)
    if frequency == "monthly":
        start = make(t.year, t.month, 1)
        return start, make(t.year + (t.month == 12), t.month % 12 + 1, 1)
    start = make(t.year, t.month, t.day)
    return start, start + _days(1)


#: typical step length of each frequency (days), to tell the finer of two time axes
NOMINAL_STEP_DAYS = {"daily": 1.0, "monthly": 30.4, "annual": 365.0}

#: attribute of a variable held from a coarser time axis (kept by the canonical assembly)
HELD_ATTRIBUTE = "time_axis_found"


def _step_intervals(ds: xr.Dataset, frequency: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each step of ``ds``'s time axis: its CF bounds, else calendar steps."""
    bounds = ds["time"].attrs.get("bounds")
    if bounds in ds.variables:
        b = ds[bounds].values
        if all(hi > lo for lo, hi in b):
            return b[:, 0], b[:, 1]
    edges = [_step_edges(t, frequency) for t in ds["time"].values]
    return np.array([e[0] for e in edges], dtype=object), np.array([e[1] for e in edges], dtype=object)


def hold_on_axis(coarse: xr.Dataset, fine_time: xr.DataArray, frequency: str, fine_frequency: str,
                 source: str | PathLike | None = None) -> xr.Dataset:
    """Put the variables of a coarser time axis (e.g. annual stocks) on a finer one (monthly).

    Each fine step takes the value of the coarse step that contains its time stamp; steps no
    coarse step covers are NaN. An annual value is a mean over its year (a stock's mean state,
    a flux's mean rate), so holding it over the year's steps keeps it exact: the step-length
    weighted mean over those steps, hence :func:`annual_mean`, :func:`annual_total` and period
    means, give back the file's own values. No sub-annual variation is invented: the held
    variables are labelled with :data:`HELD_ATTRIBUTE`.

    Returns
    -------
    xarray.Dataset
        ``coarse``'s time-dependent variables (lazy) on ``fine_time``; its time bounds dropped.
    """
    starts, ends = _step_intervals(coarse, frequency)
    order = np.argsort(starts)
    starts, ends = starts[order], ends[order]
    stamps = fine_time.values
    position = np.searchsorted(starts, stamps, side="right") - 1
    inside = (position >= 0) & np.array([p >= 0 and t < ends[p] for p, t in zip(position, stamps)], dtype=bool)
    index = order[np.where(inside, position, 0)]
    if not inside.any():
        raise SoilbenchError(source, f"its {frequency} and {fine_frequency} files share no period", "time")
    bounds = coarse["time"].attrs.get("bounds")
    timed = [v for v in coarse.data_vars if "time" in coarse[v].dims and v != bounds]
    held = coarse[timed].isel(time=index).assign_coords(time=fine_time)
    if not inside.all():
        held = held.where(xr.DataArray(inside, dims="time", coords={"time": fine_time}))
    for name in timed:
        held[name].attrs = {**coarse[name].attrs,
                            HELD_ATTRIBUTE: f"{frequency}, each value held over the {fine_frequency} steps it covers"}
        held[name].encoding = {}
    return held


def step_days(ds: xr.Dataset, source: str | PathLike | None = None) -> xr.DataArray:
    """Length of each time step in days, in the file's calendar.

    From the CF time bounds when present (and all positive), otherwise from the calendar and
    the frequency inferred by :func:`infer_frequency`: calendar years, calendar months or days.
    """
    times = ds["time"].values
    bounds = ds["time"].attrs.get("bounds")
    lengths = None
    how = ""
    if bounds in ds.variables:
        b = ds[bounds].values
        lengths = np.array([(hi - lo).total_seconds() / 86400.0 for lo, hi in b])
        how = "time bounds"
        if not np.all(lengths > 0):
            log.warning("%s: time bounds are not increasing; step lengths inferred from the calendar instead", source)
            lengths = None
    if lengths is None:
        frequency = infer_frequency(times, source)
        edges = [_step_edges(t, frequency) for t in times]
        lengths = np.array([(hi - lo).total_seconds() / 86400.0 for lo, hi in edges])
        how = f"{frequency} steps in the {ds.attrs.get('calendar', times[0].calendar)} calendar"
    return xr.DataArray(lengths, dims=("time",), coords={"time": ds["time"]},
                        attrs={"units": "day", "long_name": "length of time step", "source": how})


def years_of(ds: xr.Dataset) -> tuple[int, int]:
    """First and last calendar year of the time axis."""
    years = ds["time"].dt.year.values
    return int(years.min()), int(years.max())


def select_period(ds: xr.Dataset, period: tuple[int, int] | None, source: str | PathLike | None = None) -> xr.Dataset:
    """Keep the steps whose year lies in ``period`` (inclusive); report the overlap.

    Sets ``attrs["period"]`` to the years actually kept, ``attrs["period_requested"]`` and
    ``attrs["period_overlap"]`` ("k of n years"), and logs the overlap. No overlap is an error.
    """
    first, last = years_of(ds)
    if period is None:
        ds.attrs["period"] = f"{first}-{last}"
        return ds
    from soilbench.analysis import periods  # the one period rule of the confrontations

    y0, y1 = int(period[0]), int(period[1])
    shared = periods.shared((first, last), (y0, y1))
    if shared is None:  # the user asked for these years: no fallback, an error
        raise SoilbenchError(source, f"covers {first}-{last}, which does not overlap the requested period {y0}-{y1}", "time")
    kept = periods.steps_in(ds, shared)
    k0, k1 = years_of(kept)
    overlap = f"{k1 - k0 + 1} of {y1 - y0 + 1} years"
    kept.attrs.update(period=f"{k0}-{k1}", period_requested=f"{y0}-{y1}", period_overlap=overlap)
    log.info("%s: period %d-%d requested, %d-%d available (%s)", source, y0, y1, k0, k1, overlap)
    return kept
