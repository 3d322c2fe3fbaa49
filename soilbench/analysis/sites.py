"""Site comparisons: model values at sites and dates, site statistics, per-study tests, cycles.

Pure functions on numpy/pandas/xarray objects (methods.md §4). The model is a canonical dataset
variable (``rh`` or ``rs`` in g m-2 yr-1, dims ``lat``, ``lon`` and optionally ``time`` with a
``step_days`` coordinate). Daily observations are in g C m-2 day-1; a canonical year is 365
days (``soilbench.units``: pint's ``common_year``), so a model rate in g m-2 yr-1 is
divided by :data:`DAYS_PER_CANONICAL_YEAR` to give g m-2 day-1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cftime
import numpy as np
import pandas as pd
import xarray as xr
from scipy import spatial, stats

from soilbench.analysis import scores
from soilbench.analysis.wilcoxon import paired_signed_rank_test

#: days in the canonical "yr" of g m-2 yr-1 (see soilbench.units.DAYS_PER_YEAR)
DAYS_PER_CANONICAL_YEAR = 365.0
EARTH_RADIUS_KM = 6371.0
CLASSES = ("over", "under", "well")
CLASS_LABELS = {"over": "over-estimated", "under": "under-estimated", "well": "well estimated"}
#: reference time for day numbers in any CF calendar
_DAY_UNITS = "days since 0001-01-01 00:00:00"

# ---------------------------------------------------------------------------------------------
# where a site is on the model grid


def _unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine distance in km between points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def locate_sites(valid: xr.DataArray, site_lat: np.ndarray, site_lon: np.ndarray,
                 max_distance_km: float | None, lat_bounds: np.ndarray | None = None,
                 lon_bounds: np.ndarray | None = None) -> pd.DataFrame:
    """The model cell of each site: the cell whose bounds contain it, else a valid cell nearby.

    A site is matched to the cell whose CF bounds contain it (``lat_bounds``/``lon_bounds``; a
    canonical dataset carries them as ``lat_bnds``/``lon_bnds``, see
    :func:`soilbench.load.grid.cell_edges`). On a sparse or subsampled grid many sites lie in
    no cell at all: they are not given the cell with the nearest centre "at 0 km". When the
    containing cell is not valid (ocean, masked) or there is none, the nearest valid cell centre
    by great-circle distance substitutes for it, only within ``max_distance_km``; sites farther
    away are not located (``located`` False). ``distance_km`` is 0 for a site in its own cell,
    else the distance from the site to the substitute cell's centre.

    Parameters
    ----------
    valid
        Boolean (lat, lon): cells with model data on land.
    site_lat, site_lon
        Site coordinates in degrees (longitude −180…180 or 0…360).
    max_distance_km
        Largest accepted distance to a substitute cell; None accepts any.
    lat_bounds, lon_bounds
        (n, 2) lower and upper edges of the cells in degrees, in the order of ``valid``'s
        ``lat``/``lon``; None: midpoints between centres (a contiguous global grid), i.e. the
        cell with the nearest centre.

    Returns
    -------
    pandas.DataFrame
        ``ilat, ilon, cell_lat, cell_lon, distance_km, relocated, located`` per site, in order.
    """
    lat = np.asarray(valid["lat"].values, float)
    lon = np.asarray(valid["lon"].values, float)
    site_lat = np.asarray(site_lat, float)
    site_lon = np.asarray(site_lon, float)
    lat_bounds = _edges(lat, circular=False) if lat_bounds is None else np.asarray(lat_bounds, float)
    lon_bounds = _edges(lon, circular=True) if lon_bounds is None else np.asarray(lon_bounds, float)
    ilat, in_lat = _containing(site_lat, lat_bounds, circular=False)
    ilon, in_lon = _containing(site_lon, lon_bounds, circular=True)
    mask = valid.transpose("lat", "lon").to_numpy().astype(bool)
    inside_valid = in_lat & in_lon & mask[ilat, ilon]
    relocated = ~inside_valid
    distance = np.zeros(site_lat.size)
    located = inside_valid.copy()
    if relocated.any() and mask.any():
        vi, vj = np.nonzero(mask)
        tree = spatial.cKDTree(_unit_vectors(lat[vi], lon[vj]))
        _, nearest = tree.query(_unit_vectors(site_lat[relocated], site_lon[relocated]))
        ilat[relocated], ilon[relocated] = vi[nearest], vj[nearest]
        located[relocated] = True
        distance[relocated] = great_circle_km(site_lat[relocated], site_lon[relocated], lat[ilat[relocated]],
                                              lon[ilon[relocated]])
    if max_distance_km is not None:
        located &= distance <= max_distance_km
    return pd.DataFrame({"ilat": ilat, "ilon": ilon, "cell_lat": lat[ilat], "cell_lon": lon[ilon],
                         "distance_km": distance, "relocated": relocated, "located": located})


def _edges(centres: np.ndarray, circular: bool) -> np.ndarray:
    """(n, 2) cell edges halfway between sorted centres, for a grid given without bounds.

    The end cells reach the poles, and longitudes close the circle, so every site falls in the
    cell with the nearest centre (in latitude and, circularly, in longitude).
    """
    if circular:
        closed = np.concatenate([[centres[-1] - 360.0], centres, [centres[0] + 360.0]])
        mid = 0.5 * (closed[1:] + closed[:-1])
        return np.column_stack([mid[:-1], mid[1:]])
    mid = 0.5 * (centres[1:] + centres[:-1])
    edges = np.concatenate([[-90.0], mid, [90.0]])
    return np.column_stack([edges[:-1], edges[1:]])


def _containing(values: np.ndarray, bounds: np.ndarray, circular: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index of the cell (sorted by lower edge) containing each value, and whether one does.

    Longitudes (``circular``) are compared modulo 360 from the first cell's lower edge.
    """
    lower, upper = bounds[:, 0], bounds[:, 1]
    order = np.argsort(lower, kind="stable")
    lower, upper = lower[order], upper[order]
    if circular:
        values = lower[0] + (values - lower[0]) % 360.0
    # a value on an edge shared by two cells belongs to the lower (southern, western) one, as
    # with the nearest-centre rule of earlier versions; else to the cell starting at it
    last = len(lower) - 1
    below = np.clip(np.searchsorted(lower, values, side="left") - 1, 0, last)
    at_or_below = np.clip(np.searchsorted(lower, values, side="right") - 1, 0, last)
    in_below = (values >= lower[below]) & (values <= upper[below])
    position = np.where(in_below, below, at_or_below)
    inside = in_below | ((values >= lower[at_or_below]) & (values <= upper[at_or_below]))
    return order[position], inside


def valid_land_cells(da: xr.DataArray, land_fraction: xr.DataArray | None = None, *,
                     has_value: xr.DataArray | None = None) -> xr.DataArray:
    """Cells where the model has a value at some time step (and, if given, some land).

    ``has_value`` is that first part already computed (a boolean (lat, lon) map, e.g.
    :func:`soilbench.analysis.reductions.valid_cells`); then ``da`` is not read.
    """
    if has_value is None:
        valid = da.notnull()
        if "time" in valid.dims:
            valid = valid.any("time")
    else:
        valid = has_value
    if land_fraction is not None:
        valid = valid & (land_fraction.fillna(0) > 0)
    return valid


def has_cells(series: xr.DataArray, ilat: np.ndarray, ilon: np.ndarray) -> bool:
    """Whether a field extracted at cells (:func:`soilbench.analysis.reductions.series_at_cells`)
    holds every cell ``(ilat[k], ilon[k])``."""
    have = set(zip(series["ilat"].values.tolist(), series["ilon"].values.tolist()))
    return all(pair in have for pair in zip(np.asarray(ilat).tolist(), np.asarray(ilon).tolist()))


def _values_at_cells(da: xr.DataArray, ilat: np.ndarray, ilon: np.ndarray) -> np.ndarray:
    """(time, cell) or (cell,) array of the model at the given cell indices.

    ``da`` is a gridded field, or a field already extracted at cells (dimension ``cell`` with
    coordinates ``ilat``, ``ilon``; :func:`soilbench.analysis.reductions.series_at_cells`),
    which must hold every requested cell (:func:`has_cells`).
    """
    if "cell" in da.dims:
        column = {pair: k for k, pair in enumerate(zip(da["ilat"].values.tolist(), da["ilon"].values.tolist()))}
        index = [column[pair] for pair in zip(np.asarray(ilat).tolist(), np.asarray(ilon).tolist())]
        picked = da.isel(cell=np.asarray(index, dtype="int64"))
    else:
        picked = da.isel(lat=xr.DataArray(ilat, dims="cell"), lon=xr.DataArray(ilon, dims="cell"))
    if "time" in picked.dims:
        picked = picked.transpose("time", "cell")
    return np.asarray(picked.values, dtype=float)


# ---------------------------------------------------------------------------------------------
# model time axes in their own calendar


@dataclass
class ModelDays:
    """A model's record expanded to days of its own calendar, at a set of cells.

    Attributes
    ----------
    first_day
        Day number (days since 0001-01-01 in ``calendar``) of row 0 of ``values``.
    values
        (day, cell) model rate in g m-2 day-1: each day takes the step covering it.
    calendar
        CF calendar of the model.
    sub_annual
        Whether the model resolves time within a year (median step shorter than 300 days).
    """

    first_day: int
    values: np.ndarray
    calendar: str
    sub_annual: bool
    years: np.ndarray = field(default_factory=lambda: np.array([], int))


def _as_cftime(times: np.ndarray, calendar: str) -> list[cftime.datetime]:
    """Time coordinate values (numpy datetime64 or cftime) as cftime datetimes in ``calendar``."""
    out = []
    for t in times:
        if isinstance(t, cftime.datetime):
            out.append(cftime.datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, calendar=calendar))
        else:
            ts = pd.Timestamp(t)
            out.append(cftime.datetime(ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second, calendar=calendar))
    return out


def step_start_days(times: np.ndarray, step_days: np.ndarray, calendar: str) -> np.ndarray:
    """Day number at which each time step starts, in the model calendar.

    Time stamps are read by the step length, so that start-, middle- and end-of-day stamps all
    work: daily (or shorter) steps start at midnight of the stamp's date; steps of 27–32 days
    at the first of the stamp's month; steps of 359–367 days on 1 January of the stamp's year;
    any other length is taken to be stamped at its middle.
    """
    dates = _as_cftime(times, calendar)
    stamp = np.asarray(cftime.date2num(dates, _DAY_UNITS, calendar=calendar), float)
    step_days = np.asarray(step_days, float)
    start = np.empty_like(stamp)
    for i, (date, days) in enumerate(zip(dates, step_days)):
        if days <= 1.5:
            start[i] = math.floor(stamp[i])
        elif 27 <= days <= 32:
            start[i] = cftime.date2num(cftime.datetime(date.year, date.month, 1, calendar=calendar), _DAY_UNITS,
                                       calendar=calendar)
        elif 359 <= days <= 367:
            start[i] = cftime.date2num(cftime.datetime(date.year, 1, 1, calendar=calendar), _DAY_UNITS,
                                       calendar=calendar)
        else:
            start[i] = stamp[i] - days / 2
    return start


def model_days_at_cells(da: xr.DataArray, ilat: np.ndarray, ilon: np.ndarray) -> ModelDays:
    """Expand a model time series at some cells to one value per day of its calendar.

    Steps shorter than a day are averaged per day (weighted by length); longer steps give their
    value to every day they cover. Needs ``da`` with a ``time`` dimension and a ``step_days``
    coordinate.
    """
    calendar = str(da.attrs.get("calendar") or da["time"].attrs.get("calendar") or
                   da["time"].encoding.get("calendar") or "standard")
    if "step_days" in da.coords:
        step_days = np.asarray(da["step_days"].values, float)
    else:
        raise ValueError("the model time axis has no step_days coordinate (canonical datasets have one)")
    values = _values_at_cells(da, ilat, ilon) / DAYS_PER_CANONICAL_YEAR
    start = step_start_days(da["time"].values, step_days, calendar)
    end = start + step_days
    first_day = int(math.floor(start.min()))
    n_days = int(math.ceil(end.max())) - first_day
    daily_sum = np.zeros((n_days, values.shape[1]))
    daily_weight = np.zeros((n_days, values.shape[1]))
    for i in range(start.size):
        d0 = int(math.floor(start[i])) - first_day
        d1 = max(d0 + 1, int(math.ceil(end[i])) - first_day)
        weight = min(step_days[i], 1.0)  # sub-daily steps share their day by length
        finite = np.isfinite(values[i])
        daily_sum[d0:d1, finite] += weight * values[i, finite]
        daily_weight[d0:d1, finite] += weight
    with np.errstate(invalid="ignore", divide="ignore"):
        daily = np.where(daily_weight > 0, daily_sum / daily_weight, np.nan)
    day_numbers = np.arange(first_day, first_day + n_days)
    years = np.array([d.year for d in cftime.num2date(day_numbers[[0, -1]], _DAY_UNITS, calendar=calendar)])
    return ModelDays(first_day, daily, calendar, bool(np.median(step_days) < 300),
                     np.arange(years[0], years[1] + 1))


def model_calendar_date(year: np.ndarray, doy: np.ndarray, calendar: str) -> tuple[np.ndarray, np.ndarray]:
    """Month and day in the model calendar of real (Gregorian) dates given as year and day of year.

    - standard, gregorian, proleptic_gregorian, julian, all_leap/366_day: the same month and day;
    - noleap/365_day: the same month and day, 29 February becomes 28 February;
    - 360_day: the same fraction of the year, day ``floor((doy − 1) · 360 / days_in_year) + 1``
      (30-day months), so that seasons stay aligned (like xarray's ``align_on="year"``).
    """
    year = np.asarray(year, int)
    doy = np.asarray(doy, int)
    dates = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1})) + pd.to_timedelta(doy - 1, unit="D")
    month = dates.dt.month.to_numpy()
    day = dates.dt.day.to_numpy()
    if calendar in ("noleap", "365_day"):
        day = np.where((month == 2) & (day == 29), 28, day)
    elif calendar == "360_day":
        days_in_year = np.where(dates.dt.is_leap_year.to_numpy(), 366, 365)
        model_doy = np.floor((doy - 1) * 360 / days_in_year).astype(int) + 1
        month, day = (model_doy - 1) // 30 + 1, (model_doy - 1) % 30 + 1
    return month, day


def _day_number(year: int, month: int, day: int, calendar: str) -> int | None:
    try:
        return int(cftime.date2num(cftime.datetime(int(year), int(month), int(day), calendar=calendar), _DAY_UNITS,
                                   calendar=calendar))
    except ValueError:  # 29 February in a year without it (climatology over years)
        return None


def _running_mean(values: np.ndarray, half_width: int) -> np.ndarray:
    """Centred mean over ±half_width rows ignoring NaN (NaN where the window has no value)."""
    if half_width <= 0:
        return values
    finite = np.isfinite(values)
    padded_sum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(np.where(finite, values, 0.0), axis=0)])
    padded_n = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(finite, axis=0)])
    n = values.shape[0]
    lo = np.clip(np.arange(n) - half_width, 0, n)
    hi = np.clip(np.arange(n) + half_width + 1, 0, n)
    total = padded_sum[hi] - padded_sum[lo]
    count = padded_n[hi] - padded_n[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


LINK_IN_RECORD = "in record"
LINK_CLIMATOLOGY = "climatological window"
LINK_ANNUAL = "annual climatology"


def link_daily(da: xr.DataArray, cells: pd.DataFrame, year: np.ndarray, doy: np.ndarray, *,
               window_days: int = 0, climatology_window_days: int = 3) -> tuple[np.ndarray, np.ndarray, bool]:
    """Model daily rate (g m-2 day-1) for each observation, linked by place, year and day of year.

    - In the record: the model on that date in its calendar (:func:`model_calendar_date`), or
      the mean over ±``window_days`` days.
    - Outside the record: the mean over the record's years of the ±``climatology_window_days``
      window around the same calendar date (Jian et al. 2021 used ±3 days over 2000–2010).
    - A model without a time axis (a period mean): its annual mean rate / 365 for every date.

    Parameters
    ----------
    da
        Canonical model variable (g m-2 yr-1).
    cells
        :func:`locate_sites` output, one row per observation.
    year, doy
        Observation dates (Gregorian year and day of year).

    Returns
    -------
    (modelled, link, sub_annual)
        Model values (NaN where the cell is not located or the model has no value), how each
        was linked (:data:`LINK_IN_RECORD`, :data:`LINK_CLIMATOLOGY`, :data:`LINK_ANNUAL`) and
        whether the model resolves the seasonal cycle.
    """
    n = len(cells)
    modelled = np.full(n, np.nan)
    located = cells["located"].to_numpy(bool)
    if "time" not in da.dims:
        values = _values_at_cells(da, cells["ilat"].to_numpy(), cells["ilon"].to_numpy()) / DAYS_PER_CANONICAL_YEAR
        modelled[located] = values[located]
        return modelled, np.full(n, LINK_ANNUAL, dtype=object), False

    pairs = cells.loc[located, ["ilat", "ilon"]].drop_duplicates()
    column = {(a, b): k for k, (a, b) in enumerate(zip(pairs["ilat"], pairs["ilon"]))}
    days = model_days_at_cells(da, pairs["ilat"].to_numpy(), pairs["ilon"].to_numpy())
    month, day = model_calendar_date(year, doy, days.calendar)
    link = np.full(n, LINK_CLIMATOLOGY, dtype=object)
    in_window = _running_mean(days.values, window_days)
    climate_window = _running_mean(days.values, climatology_window_days)
    n_days = days.values.shape[0]
    climatology_cache: dict[tuple[int, int], np.ndarray] = {}
    for i in np.flatnonzero(located):
        col = column[(cells["ilat"].iat[i], cells["ilon"].iat[i])]
        number = _day_number(year[i], month[i], day[i], days.calendar)
        row = None if number is None else number - days.first_day
        if row is not None and 0 <= row < n_days:
            modelled[i] = in_window[row, col]
            link[i] = LINK_IN_RECORD
            continue
        key = (int(month[i]), int(day[i]))
        if key not in climatology_cache:
            rows = [r - days.first_day for y in days.years
                    if (r := _day_number(y, key[0], key[1], days.calendar)) is not None]
            rows = [r for r in rows if 0 <= r < n_days]
            with np.errstate(invalid="ignore"):
                climatology_cache[key] = (np.nanmean(climate_window[rows], axis=0) if rows
                                          else np.full(days.values.shape[1], np.nan))
        modelled[i] = climatology_cache[key][col]
    return modelled, link, days.sub_annual


def annual_at_sites(da: xr.DataArray, cells: pd.DataFrame, year_start: np.ndarray, year_end: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Model annual rate (g m-2 yr-1) at each site, averaged over the years of its study.

    With a time axis, calendar-year means (steps weighted by ``step_days``) are averaged with
    weights equal to each year's overlap with the study interval ``[year_start, year_end)``;
    when no study year is in the record, the mean over all record years (``"record mean"``).
    Without a time axis, the period mean (``"period mean"``: a climatology).

    Returns
    -------
    (modelled, link)
        Values (NaN where not located) and ``"study years"``, ``"record mean"`` or ``"period mean"``.
    """
    n = len(cells)
    located = cells["located"].to_numpy(bool)
    modelled = np.full(n, np.nan)
    ilat, ilon = cells["ilat"].to_numpy(), cells["ilon"].to_numpy()
    if "time" not in da.dims:
        modelled[located] = _values_at_cells(da, ilat, ilon)[located]
        return modelled, np.full(n, "period mean", dtype=object)
    values = _values_at_cells(da, ilat[located], ilon[located])  # (time, site)
    step = np.asarray(da["step_days"].values, float) if "step_days" in da.coords else np.ones(values.shape[0])
    calendar = str(da.attrs.get("calendar") or "standard")
    start = step_start_days(da["time"].values, step, calendar)
    mid_years = np.array([d.year for d in cftime.num2date(start + step / 2, _DAY_UNITS, calendar=calendar)])
    years = np.unique(mid_years)
    weights = np.where(np.isfinite(values), step[:, None], 0.0)
    annual = np.full((years.size, values.shape[1]), np.nan)
    for k, y in enumerate(years):
        sel = mid_years == y
        w = weights[sel].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            annual[k] = np.where(w > 0, np.nansum(values[sel] * weights[sel], axis=0) / w, np.nan)
    start_y = np.asarray(year_start, float)[located]
    end_y = np.asarray(year_end, float)[located]
    overlap = np.clip(np.minimum(end_y[None, :], years[:, None] + 1.0) - np.maximum(start_y[None, :], years[:, None]),
                      0.0, None)
    overlap = np.where(np.isfinite(annual), overlap, 0.0)
    total = overlap.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        study_mean = np.nansum(np.nan_to_num(annual) * overlap, axis=0) / total
        record_mean = np.nanmean(annual, axis=0)
    link = np.full(n, "record mean", dtype=object)
    in_record = total > 0
    located_idx = np.flatnonzero(located)
    modelled[located_idx] = np.where(in_record, study_mean, record_mean)
    link[located_idx[in_record]] = "study years"
    return modelled, link


# ---------------------------------------------------------------------------------------------
# statistics


def site_statistics(observed: np.ndarray, modelled: np.ndarray) -> dict[str, float]:
    """n, means, bias, RMSE, Pearson r, and ILAMB's scores of paired site values (one per record).

    ILAMB's forms (methods.md §7, for single-time references), kept as information (they are
    not soilbench's site scores, :func:`cell_scores`): ``ILAMB bias score`` is the mean over
    records of ``exp(−|m − o| / |o|)``, ``ILAMB RMSE score`` is ``exp(−crmse / σ_obs)`` with the
    centred RMSE and standard deviation of the observations across records. Both give a field
    without variation across sites e⁻¹, a missing flux included.
    """
    ok = np.isfinite(observed) & np.isfinite(modelled)
    o, m = np.asarray(observed, float)[ok], np.asarray(modelled, float)[ok]
    n = int(o.size)
    out = {"n": float(n), "observed mean": np.nan, "modelled mean": np.nan, "bias": np.nan, "RMSE": np.nan,
           "correlation": np.nan, "ILAMB bias score": np.nan, "ILAMB RMSE score": np.nan}
    if n == 0:
        return out
    diff = m - o
    out.update({"observed mean": float(o.mean()), "modelled mean": float(m.mean()), "bias": float(diff.mean()),
                "RMSE": float(np.sqrt(np.mean(diff ** 2)))})
    out["ILAMB bias score"] = float(np.nanmean(scores.bias_score(m, o, np.abs(o))))
    if n >= 3 and np.std(o) > 0 and np.std(m) > 0:
        out["correlation"] = float(stats.pearsonr(o, m).statistic)
    if n >= 2:
        crmse = float(np.sqrt(np.mean((diff - diff.mean()) ** 2)))
        out["ILAMB RMSE score"] = float(scores.rmse_score(crmse, float(np.std(o))))
    return out


#: fewest model cells for a spatial distribution score across sites (a pattern of two is a line)
MIN_PATTERN_CELLS = 3


def cell_means(frame: pd.DataFrame) -> pd.DataFrame:
    """The paired values aggregated per model cell: what a gridded model can hold.

    Several records in one cell (different studies, sites and years, or a study's many dates)
    differ, and one cell value cannot match them all. Per cell, the observed value is the mean
    of its observations and the modelled value the mean of the model values paired with them
    (each on its record's own years or dates), so both sides are sampled alike.

    Parameters
    ----------
    frame
        Columns ``ilat, ilon, observed, modelled``; rows without both values are left out.

    Returns
    -------
    pandas.DataFrame
        ``ilat, ilon, n, observed, modelled, observed_sd`` (SD of the cell's observations,
        ddof = 0: their spread within the cell), one row per cell.
    """
    paired = frame[np.isfinite(frame["observed"]) & np.isfinite(frame["modelled"])]
    grouped = paired.groupby(["ilat", "ilon"], sort=True)
    out = grouped.agg(n=("observed", "size"), observed=("observed", "mean"), modelled=("modelled", "mean"),
                      observed_sd=("observed", lambda v: float(np.std(v))))
    return out.reset_index()


def cell_scores(observed: np.ndarray, modelled: np.ndarray, share_compared: float = 1.0) -> dict[str, float]:
    """soilbench's site scores of per-cell values (:func:`cell_means`), each cell counting once.

    - ``bias score``: the mean over cells of ``min(m, o) / max(m, o)``
      (:func:`soilbench.analysis.scores.ratio_score`): 1 for the right level in every cell,
      0.5 for twice or half, 0 for no flux;
    - ``spatial distribution score``: Taylor's (2001) eq. 5 from the correlation R and the
      ratio of standard deviations σ̂ across cells (the gridded spatial score's form): 1 only
      for the right site-to-site pattern with the right contrast, 0 for a field without
      variation across the cells, ≤ 1/16 for an uncorrelated one. NaN with fewer than
      :data:`MIN_PATTERN_CELLS` cells or observations without contrast.

    Both are multiplied by ``share_compared``, the share of the records that have a model
    value (``share of records compared``): a record the model cannot reach (no valid cell
    within the distance limit, no value in its years) counts as 0, as a missing component does,
    so that a model is not scored on the few sites it happens to cover. ``cell correlation`` and
    ``cell std ratio`` are returned as the spatial score's ingredients.
    """
    o, m = np.asarray(observed, float), np.asarray(modelled, float)
    ok = np.isfinite(o) & np.isfinite(m)
    o, m = o[ok], m[ok]
    out = {"n cells": float(o.size), "share of records compared": float(share_compared), "bias score": np.nan,
           "spatial distribution score": np.nan, "cell correlation": np.nan, "cell std ratio": np.nan}
    if o.size == 0:
        return out
    out["bias score"] = float(np.mean(scores.ratio_score(m, o))) * share_compared
    sigma_o, sigma_m = float(np.std(o)), float(np.std(m))
    if o.size < MIN_PATTERN_CELLS or sigma_o <= 0:
        return out
    ratio = sigma_m / sigma_o
    # a field without variation across the cells has no correlation; its score is 0 (the limit)
    correlation = float(np.corrcoef(o, m)[0, 1]) if sigma_m > 1e-12 * max(float(np.max(np.abs(m))), 1.0) else np.nan
    if not np.isfinite(correlation):
        ratio = 0.0
    out.update({"cell correlation": correlation, "cell std ratio": ratio,
                "spatial distribution score": float(scores.taylor_score(
                    correlation if np.isfinite(correlation) else 0.0, ratio, power=scores.TAYLOR_POWER))
                * share_compared})
    return out


def classify(p_value: float, mean_error: float, alpha: float = 0.05) -> str:
    """``over`` (p ≤ α, ME > 0), ``under`` (p ≤ α, ME < 0) or ``well`` (p > α, or ME = 0)."""
    if np.isfinite(p_value) and p_value <= alpha and mean_error != 0:
        return "over" if mean_error > 0 else "under"
    return "well"


def study_tests(frame: pd.DataFrame, *, unit: str = "study", min_observations: int = 6, alpha: float = 0.05,
                method: str = "r", zero_method: str = "wilcox") -> pd.DataFrame:
    """Paired signed-rank test per study (or per site) of one model; never pooled across models.

    Parameters
    ----------
    frame
        Columns ``study, site, lat, lon, observed, modelled`` (one model).
    unit
        ``"study"`` (methods.md) or ``"site"`` (study and Site_ID).
    min_observations
        Units with fewer paired observations are not tested (methods.md: more than 5).

    Returns
    -------
    pandas.DataFrame
        ``study, site, lat, lon, n, n_locations, p_value, mean_error, observed_mean,
        modelled_mean, class, test`` — lat/lon are the mean of the unit's observations; ``site``
        joins its Site_IDs; ``class`` per :func:`classify`; ``test`` the method used.
    """
    keys = ["study"] if unit == "study" else ["study", "site"]
    paired = frame[np.isfinite(frame["observed"]) & np.isfinite(frame["modelled"])]
    rows = []
    for key, group in paired.groupby(keys, sort=True):
        if len(group) < min_observations:
            continue
        result = paired_signed_rank_test(group["modelled"].to_numpy(), group["observed"].to_numpy(),
                                         method=method, zero_method=zero_method)
        mean_error = float((group["modelled"] - group["observed"]).mean())
        rows.append({
            "study": key[0] if isinstance(key, tuple) else key,
            "site": ";".join(sorted(set(group["site"].astype(str)))),
            "lat": float(group["lat"].mean()), "lon": float(group["lon"].mean()),
            "n": len(group), "n_locations": int(group[["lat", "lon"]].drop_duplicates().shape[0]),
            "p_value": result.p_value, "mean_error": mean_error,
            "observed_mean": float(group["observed"].mean()), "modelled_mean": float(group["modelled"].mean()),
            "class": classify(result.p_value, mean_error, alpha), "test": result.method,
        })
    columns = ["study", "site", "lat", "lon", "n", "n_locations", "p_value", "mean_error", "observed_mean",
               "modelled_mean", "class", "test"]
    return pd.DataFrame(rows, columns=columns)


def class_shares(tests: pd.DataFrame) -> dict[str, float]:
    """Share (0–1) of tested units in each class; NaN when none was tested."""
    total = len(tests)
    return {c: (float((tests["class"] == c).sum()) / total if total else np.nan) for c in CLASSES}


def bootstrap_means(observed: np.ndarray, modelled: np.ndarray, n_samples: int, seed: int) -> pd.DataFrame:
    """Bootstrap distribution of the mean observed and modelled rate (pairs resampled together).

    Reproducible: ``numpy.random.default_rng(seed)``. Returns ``sample, observed, modelled``.
    """
    ok = np.isfinite(observed) & np.isfinite(modelled)
    o, m = np.asarray(observed, float)[ok], np.asarray(modelled, float)[ok]
    rng = np.random.default_rng(seed)
    if o.size == 0 or n_samples <= 0:
        return pd.DataFrame({"sample": [], "observed": [], "modelled": []})
    obs_means = np.empty(n_samples)
    mod_means = np.empty(n_samples)
    chunk = max(1, 2_000_000 // o.size)  # bound memory: chunk × n indices at a time
    for lo in range(0, n_samples, chunk):
        hi = min(n_samples, lo + chunk)
        idx = rng.integers(0, o.size, size=(hi - lo, o.size))
        obs_means[lo:hi] = o[idx].mean(axis=1)
        mod_means[lo:hi] = m[idx].mean(axis=1)
    return pd.DataFrame({"sample": np.arange(n_samples), "observed": obs_means, "modelled": mod_means})


def pooled_regression(observed: np.ndarray, modelled: np.ndarray) -> dict[str, float]:
    """Linear regression of modelled on observed (scipy.stats.linregress): slope, intercept, R², RMSE, n."""
    ok = np.isfinite(observed) & np.isfinite(modelled)
    o, m = np.asarray(observed, float)[ok], np.asarray(modelled, float)[ok]
    out = {"n": float(o.size), "slope": np.nan, "intercept": np.nan, "R2": np.nan, "p_value": np.nan,
           "RMSE": float(np.sqrt(np.mean((m - o) ** 2))) if o.size else np.nan}
    if o.size >= 3 and np.ptp(o) > 0:
        fit = stats.linregress(o, m)
        out.update(slope=float(fit.slope), intercept=float(fit.intercept), R2=float(fit.rvalue ** 2),
                   p_value=float(fit.pvalue))
    return out


def _t_interval(values: pd.Series) -> tuple[float, float, float]:
    n = values.size
    mean = float(values.mean())
    if n < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def annual_harmonic(doy: np.ndarray, values: np.ndarray, days_per_year: float = 365.25) -> tuple[float, float]:
    """Peak day of year and amplitude of the first annual harmonic fitted by least squares.

    The fitted ``a + b cos(ωt) + c sin(ωt)`` is robust to the sparse, uneven sampling of site
    data, where the maximum of raw day-of-year means is noise. The amplitude ``√(b² + c²)`` is
    in the units of ``values`` (half the peak-to-trough range of the fitted cycle); the peak is
    NaN when the amplitude is zero (a flat series has no peak).
    """
    omega = 2 * np.pi * np.asarray(doy, float) / days_per_year
    design = np.column_stack([np.ones_like(omega), np.cos(omega), np.sin(omega)])
    coef, *_ = np.linalg.lstsq(design, np.asarray(values, float), rcond=None)
    amplitude = float(np.hypot(coef[1], coef[2]))
    if amplitude == 0:
        return np.nan, 0.0
    return float((np.arctan2(coef[2], coef[1]) % (2 * np.pi)) * days_per_year / (2 * np.pi)), amplitude


def annual_harmonic_peak(doy: np.ndarray, values: np.ndarray, days_per_year: float = 365.25) -> float:
    """Day of year of the peak of the first annual harmonic (:func:`annual_harmonic`)."""
    return annual_harmonic(doy, values, days_per_year)[0]


def seasonal_cycles(frame: pd.DataFrame, *, bin_days: int = 1, min_months: int = 6
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean observed and modelled rate by day of year within each climate group, with t-based CI.

    Parameters
    ----------
    frame
        Columns ``group, doy, month, observed, modelled`` (rows to include: e.g. northern
        hemisphere, paired).
    bin_days
        Width of the day-of-year bins (1 = by day of year, as Jian et al. 2021).
    min_months
        Groups whose observations cover fewer distinct months get no cycle score (a peak
        cannot be placed from part of a year).

    Returns
    -------
    (cycle, group_stats)
        ``cycle``: ``group, doy, n, observed, observed_lower, observed_upper, modelled,
        modelled_lower, modelled_upper`` (``doy`` the bin's first day). ``group_stats``: per
        group ``group, n, n_bins, R2, RMSE, observed_peak_doy, modelled_peak_doy,
        peak_shift_days, observed_amplitude, modelled_amplitude, timing_score,
        amplitude_score, cycle_score``; R² and RMSE between the binned means.

    The cycle score is ``timing score × amplitude score`` (:func:`cycle_score`): the timing
    alone gives a flat model 1 whenever its tiny wiggle peaks at the right time.
    """
    paired = frame[np.isfinite(frame["observed"]) & np.isfinite(frame["modelled"]) & frame["group"].notna()]
    cycle_rows, stat_rows = [], []
    for group, rows in paired.groupby("group", sort=False):
        bins = ((rows["doy"].to_numpy(int) - 1) // bin_days) * bin_days + 1
        binned = []
        for start, in_bin in rows.groupby(bins):
            o, lo_o, hi_o = _t_interval(in_bin["observed"])
            m, lo_m, hi_m = _t_interval(in_bin["modelled"])
            binned.append({"group": group, "doy": int(start), "n": len(in_bin), "observed": o,
                           "observed_lower": lo_o, "observed_upper": hi_o, "modelled": m,
                           "modelled_lower": lo_m, "modelled_upper": hi_m})
        cycle_rows.extend(binned)
        means = pd.DataFrame(binned)
        fit = pooled_regression(means["observed"].to_numpy(), means["modelled"].to_numpy())
        enough = rows["month"].nunique() >= min_months
        peak_o, amp_o = annual_harmonic(rows["doy"], rows["observed"]) if enough else (np.nan, np.nan)
        peak_m, amp_m = annual_harmonic(rows["doy"], rows["modelled"]) if enough else (np.nan, np.nan)
        shift = float((peak_m - peak_o + 182.625) % 365.25 - 182.625) if np.isfinite(peak_o + peak_m) else np.nan
        parts = cycle_score(shift, amp_m, amp_o)
        stat_rows.append({"group": group, "n": len(rows), "n_bins": len(means), "R2": fit["R2"], "RMSE": fit["RMSE"],
                          "observed_peak_doy": peak_o, "modelled_peak_doy": peak_m, "peak_shift_days": shift,
                          "observed_amplitude": amp_o, "modelled_amplitude": amp_m, **parts})
    cycle_columns = ["group", "doy", "n", "observed", "observed_lower", "observed_upper", "modelled",
                     "modelled_lower", "modelled_upper"]
    stat_columns = ["group", "n", "n_bins", "R2", "RMSE", "observed_peak_doy", "modelled_peak_doy",
                    "peak_shift_days", "observed_amplitude", "modelled_amplitude", "timing_score",
                    "amplitude_score", "cycle_score"]
    return pd.DataFrame(cycle_rows, columns=cycle_columns), pd.DataFrame(stat_rows, columns=stat_columns)


def cycle_score(peak_shift_days: float, model_amplitude: float, observed_amplitude: float) -> dict[str, float]:
    """Timing, amplitude and combined seasonal-cycle scores of one group.

    - timing: ILAMB's ``(1 + cos(2π Δt / 365)) / 2`` of the shift of the fitted peaks;
    - amplitude: ``min(A_m, A_o) / max(A_m, A_o)`` of the first-harmonic amplitudes;
    - cycle score: their product. A flat model (A_m = 0) scores 0 whatever its timing; NaN when
      the observations have no cycle or the group was not scored (too few months).
    """
    if np.isfinite(model_amplitude + observed_amplitude) and observed_amplitude > 0:
        amplitude = float(min(abs(model_amplitude), observed_amplitude) / max(abs(model_amplitude), observed_amplitude))
    else:
        amplitude = np.nan  # the observations have no cycle, or the group was not scored
    timing = float(scores.seasonal_cycle_score(peak_shift_days)) if np.isfinite(peak_shift_days) else np.nan
    if amplitude == 0.0:
        combined = 0.0  # no cycle at all: nothing to time
    else:
        combined = timing * amplitude if np.isfinite(timing + amplitude) else np.nan
    return {"timing_score": timing, "amplitude_score": amplitude, "cycle_score": combined}


def study_scores(frame: pd.DataFrame, *, unit: str = "study", min_observations: int = 6) -> dict[str, float]:
    """ILAMB bias and RMSE scores of daily data, per tested unit then averaged (equal weights).

    Per unit with at least ``min_observations`` pairs, σ_ref is the standard deviation of its
    observations over time (methods.md §7): bias score ``exp(−|ME| / σ_ref)``, RMSE score
    ``exp(−crmse / σ_ref)``. Units with σ_ref = 0 are skipped.

    A unit where the model does not vary (a model without time variation at one cell) gets no
    RMSE score: its centred RMSE is then exactly σ_ref, so it would score e⁻¹ whatever the
    model, a constant that says nothing. ``n units without model variation`` counts them; the
    RMSE score is NaN when no unit has one.
    """
    keys = ["study"] if unit == "study" else ["study", "site"]
    paired = frame[np.isfinite(frame["observed"]) & np.isfinite(frame["modelled"])]
    bias, rmse = [], []
    flat = 0
    for _, group in paired.groupby(keys):
        if len(group) < min_observations:
            continue
        o, m = group["observed"].to_numpy(), group["modelled"].to_numpy()
        sigma = float(np.std(o))
        if sigma <= 0:
            continue
        diff = m - o
        bias.append(float(scores.bias_score(m.mean(), o.mean(), sigma)))
        if np.ptp(m) <= 1e-12 * max(float(np.max(np.abs(m))), 1.0):
            flat += 1
            continue
        rmse.append(float(scores.rmse_score(float(np.sqrt(np.mean((diff - diff.mean()) ** 2))), sigma)))
    return {"bias score": float(np.mean(bias)) if bias else np.nan,
            "RMSE score": float(np.mean(rmse)) if rmse else np.nan,
            "n units with RMSE score": float(len(rmse)), "n units without model variation": float(flat)}


def site_climate_groups(classes: xr.DataArray, lat: np.ndarray, lon: np.ndarray,
                        max_distance_km: float = 100.0) -> np.ndarray:
    """Climate-group region name (``koppen_D``…) at each site, None where there is none.

    The Köppen class of the nearest classified 0.5° cell centre (the cell containing the site on
    land); coastal sites whose cell is sea take the nearest classified cell within
    ``max_distance_km``. A nearest-centre search rather than :func:`locate_sites` because a
    Köppen table may list land cells only.
    """
    from soilbench.regions import climate_group

    codes = classes.transpose("lat", "lon")
    groups_grid = np.vectorize(lambda c: climate_group(c) or "", otypes=[object])(codes.values)
    gi, gj = np.nonzero(groups_grid != "")
    out = np.full(len(lat), None, dtype=object)
    if gi.size == 0 or len(lat) == 0:
        return out
    grid_lat = np.asarray(codes["lat"].values, float)
    grid_lon = np.asarray(codes["lon"].values, float)
    tree = spatial.cKDTree(_unit_vectors(grid_lat[gi], grid_lon[gj]))
    _, nearest = tree.query(_unit_vectors(np.asarray(lat, float), np.asarray(lon, float)))
    distance = great_circle_km(lat, lon, grid_lat[gi[nearest]], grid_lon[gj[nearest]])
    close = distance <= max_distance_km
    out[close] = groups_grid[gi[nearest[close]], gj[nearest[close]]]
    return out
