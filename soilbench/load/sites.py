"""Site observations: SRDB V5 annual records and MGRhD daily heterotrophic respiration.

Both loaders return a :class:`SiteRecords`: the records that pass the filters of methods.md §4,
and a table with the number of rows (and studies) left after every filter step, so that nothing
is dropped without a trace. Every filter is a keyword argument; ``None`` (or an empty list)
switches it off.

Traps handled here (see ``../shared/data/DATA.md``):

- pandas reads the string ``"None"`` as missing by default, which would make every
  ``Manipulation == "None"`` filter return nothing: CSVs are read with
  ``keep_default_na=False, na_values=["NA", ""]``.
- MGRhD.csv (and srdb-studies.csv) are not UTF-8; a file that is not valid UTF-8 is read as
  Latin-1, which decodes every byte (only free-text columns are affected).
- Old Mac (CR) line endings are normalised before parsing.

A user's own table (a newer SRDB release, a table in the MGRhD layout, registered in a catalog
``sites`` entry) goes through the same loaders, filters and counts. Its columns may carry the
alternative names of :data:`COLUMN_ALIASES` (compared ignoring case, spaces and underscores);
they are renamed, and the renaming is logged. A required column that is absent under every
name is a one-line error naming the file, the column and the names tried.
"""

from __future__ import annotations

import calendar
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from soilbench.errors import SoilbenchError

log = logging.getLogger(__name__)

#: Meas_method values (case-insensitive substrings) excluded by default: alkali absorption, soda
#: lime and KOH traps underestimate fluxes (methods.md §4; Jian et al. 2021)
DEFAULT_EXCLUDED_METHODS: tuple[str, ...] = ("alkali", "soda lime", "koh")

#: SRDB column holding each quantity's annual flux (g C m-2 yr-1)
SRDB_ANNUAL_COLUMNS = {"rh": "Rh_annual", "rs": "Rs_annual"}

#: day of month given to MGRhD rows that carry a month but no day of year
MID_MONTH_DAY = 15

FILTER_COLUMNS = ["step", "description", "removed", "remaining", "studies_remaining"]

#: column name the loaders use -> other names the same column goes by in other releases and
#: tables (SRDB V4/V5 spellings, MGRhD, common site-table names). Matching ignores case,
#: spaces and underscores; the loader's own name wins when both are present. Deliberately not
#: here: bare ``Rs``/``Rh`` (could be a monthly or daily flux, not annual) and ``Treatment``
#: (its values need not follow SRDB's ``Manipulation`` vocabulary, e.g. "None").
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "Record_number": ("Record", "Record_ID", "RecordNumber"),
    "Study_number": ("Study", "Study_ID", "StudyNumber"),
    "Site_ID": ("Site", "SiteID", "Site_name"),
    "Latitude": ("Lat", "Site_latitude"),
    "Longitude": ("Lon", "Long", "Site_longitude"),
    "Study_midyear": ("Midyear", "Mid_year", "Study_mid_year"),
    "YearsOfData": ("Years_of_data", "N_years", "NYears"),
    "Meas_method": ("Method", "Measurement_method", "Meas_Method"),
    "Rs_annual": ("Rs_annual_gC", "Annual_Rs"),
    "Rh_annual": ("Rh_annual_gC", "Annual_Rh"),
    "Meas_Year": ("Year", "Measurement_year"),
    "Meas_Month": ("Month", "Measurement_month"),
    "Meas_DOY": ("DOY", "Day_of_year", "Julian_day"),
    "Meas_Day": ("Day", "Day_of_month"),
    "Rh_Norm": ("Rh_daily", "Rh_gC_m2_day"),
}


def _squash(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch not in " _-.")


def canonical_columns(frame: pd.DataFrame, wanted: Sequence[str], source: str | PathLike) -> pd.DataFrame:
    """Rename alternative column names (:data:`COLUMN_ALIASES`) of ``wanted`` columns to the loaders' names.

    Raises
    ------
    SoilbenchError
        When two columns of the file could both be the same wanted column.
    """
    present = {_squash(c): c for c in frame.columns}
    renames: dict[str, str] = {}
    for column in wanted:
        if column in frame.columns:
            continue
        names = (column, *COLUMN_ALIASES.get(column, ()))
        found = list(dict.fromkeys(present[_squash(n)] for n in names if _squash(n) in present))
        found = [c for c in found if c not in renames and c not in wanted]
        if len(found) > 1:
            raise SoilbenchError(source, f"columns {', '.join(found)} could each be {column}; keep one", column)
        if found:
            renames[found[0]] = column
    if renames:
        log.info("%s: columns read as %s", Path(source).name, ", ".join(f"{a} -> {b}" for a, b in renames.items()))
    return frame.rename(columns=renames)


@dataclass
class SiteRecords:
    """Site observations after filtering, with the bookkeeping of what was removed.

    Attributes
    ----------
    records
        One row per observation. Annual: ``record, study, site, lat, lon, year_start, year_end,
        observed`` (g C m-2 yr-1). Daily: ``study, site, lat, lon, year, doy, month, day,
        observed`` (g C m-2 day-1).
    filter_counts
        :data:`FILTER_COLUMNS`: rows removed and remaining after each step, in order.
    source
        The file the records were read from.
    """

    records: pd.DataFrame
    filter_counts: pd.DataFrame
    source: str


class _FilterLog:
    """Applies boolean keep-masks in order and remembers how many rows each removed."""

    def __init__(self, frame: pd.DataFrame, source: str, study_column: str | None):
        self.frame = frame
        self.source = source
        self.study_column = study_column
        self.rows: list[dict] = []
        self._record("read", f"rows in {Path(source).name}", 0)

    def _studies(self) -> int:
        if self.study_column is None:
            return -1
        return int(self.frame[self.study_column].nunique())

    def _record(self, step: str, description: str, removed: int) -> None:
        row = {"step": step, "description": description, "removed": removed,
               "remaining": len(self.frame), "studies_remaining": self._studies()}
        self.rows.append(row)
        log.info("%s: %s: removed %d, %d rows remain", Path(self.source).name, step, removed, len(self.frame))

    def keep(self, step: str, description: str, mask: pd.Series | np.ndarray) -> None:
        mask = np.asarray(mask, dtype=bool)
        removed = int((~mask).sum())
        self.frame = self.frame.loc[mask]
        self._record(step, description, removed)

    def note(self, step: str, description: str, count: int) -> None:
        """A counted problem that removes nothing here (e.g. small studies, kept for pooled statistics)."""
        self.rows.append({"step": step, "description": description, "removed": 0,
                          "remaining": int(count), "studies_remaining": -1})
        log.info("%s: %s: %d", Path(self.source).name, step, count)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=FILTER_COLUMNS)


def read_site_csv(path: str | PathLike, required_columns: Sequence[str],
                  optional_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a site CSV keeping the string ``"None"``, tolerating Latin-1 and CR line endings.

    Parameters
    ----------
    path
        CSV file.
    required_columns
        Columns the caller needs (found under their alternative names too, :data:`COLUMN_ALIASES`).
    optional_columns
        Columns used when present, also found under their alternative names.

    Raises
    ------
    SoilbenchError
        When the file cannot be read or lacks any of ``required_columns`` (all named at once).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise SoilbenchError(path, f"cannot read the file ({err.strerror or err})") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # MGRhD and srdb-studies carry MacRoman/Latin-1 bytes in free-text columns only;
        # Latin-1 decodes every byte, so no row is lost to an encoding error
        text = raw.decode("latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=["NA", ""], low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise SoilbenchError(path, f"is not a readable CSV table ({' '.join(str(err).split())})") from err
    frame = canonical_columns(frame, [*required_columns, *optional_columns], path)
    missing = [c for c in required_columns if c not in frame.columns]
    if missing:
        tried = "; ".join(f"{c} (or {', '.join(COLUMN_ALIASES[c])})" if COLUMN_ALIASES.get(c) else c for c in missing)
        raise SoilbenchError(path, f"missing column(s) needed for site comparisons: {tried}", missing[0])
    return frame


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats; text that is not a number becomes NaN (and is then filtered, counted)."""
    return pd.to_numeric(frame[column], errors="coerce")


def _method_excluded(methods: pd.Series, excluded: Sequence[str]) -> np.ndarray:
    lowered = methods.fillna("").astype(str).str.strip().str.lower()
    out = np.zeros(len(methods), dtype=bool)
    for word in excluded:
        out |= lowered.str.contains(word.lower(), regex=False).to_numpy()
    return out


def _keep_treatment_and_method(flog: _FilterLog, manipulation: str | None,
                               exclude_methods: Sequence[str] | None) -> None:
    """The SRDB filters both site loaders share: one treatment (``Manipulation``, e.g. "None" for
    unmanipulated sites) and no excluded measurement methods (``Meas_method``); None/empty skips."""
    if manipulation is not None:
        flog.keep("manipulation", f"Manipulation == {manipulation!r}",
                  flog.frame["Manipulation"].fillna("").astype(str).str.strip() == manipulation)
    if exclude_methods:
        flog.keep("method", f"Meas_method not {' / '.join(exclude_methods)}",
                  ~_method_excluded(flog.frame["Meas_method"], exclude_methods))


def _valid_coordinates(lat: pd.Series, lon: pd.Series) -> np.ndarray:
    return (lat.between(-90, 90) & lon.between(-180, 360)).to_numpy()


def load_srdb_annual(
    path: str | PathLike,
    quantity: str = "rh",
    *,
    min_years_of_data: float | None = 1.0,
    manipulation: str | None = "None",
    exclude_methods: Sequence[str] | None = DEFAULT_EXCLUDED_METHODS,
    drop_negative: bool = True,
    outlier_sd: float | None = 6.0,
    require_rs_above_rh: bool = True,
) -> SiteRecords:
    """SRDB V5 annual fluxes filtered as in methods.md §4 (Jian et al. 2021).

    Steps, in order (each counted in ``filter_counts``): records with a value of the quantity;
    explicit coordinates (in range); explicit year (``Study_midyear``); ``YearsOfData >=
    min_years_of_data``; ``Manipulation == manipulation``; ``Meas_method`` not containing any of
    ``exclude_methods``; non-negative flux; within ``outlier_sd`` standard deviations of the
    mean (one pass, over the records left at that step); ``Rs_annual > Rh_annual`` where both
    are given.

    Parameters
    ----------
    path
        ``srdb-data.csv``.
    quantity
        ``"rh"`` (``Rh_annual``) or ``"rs"`` (``Rs_annual``).

    Returns
    -------
    SiteRecords
        ``records`` columns: ``record, study, site, lat, lon, study_midyear, years_of_data,
        year_start, year_end, observed`` (g C m-2 yr-1). The study covers the interval
        ``[year_start, year_end)`` in decimal years: SRDB's ``Study_midyear`` 2005 with one year
        of data is calendar year 2005, i.e. ``[2005, 2006)``.
    """
    if quantity not in SRDB_ANNUAL_COLUMNS:
        raise SoilbenchError(path, f"quantity must be one of {sorted(SRDB_ANNUAL_COLUMNS)}, got {quantity!r}")
    value_column = SRDB_ANNUAL_COLUMNS[quantity]
    other_column = SRDB_ANNUAL_COLUMNS["rs" if quantity == "rh" else "rh"]
    needed = ["Record_number", "Study_number", "Site_ID", "Latitude", "Longitude", "Study_midyear",
              "YearsOfData", "Manipulation", "Meas_method", value_column]
    frame = read_site_csv(path, needed, optional_columns=[other_column])
    if other_column not in frame.columns:  # e.g. an Rs-only table: the Rs > Rh check has no pairs
        log.info("%s: no %s column; the %s > %s check removes nothing", Path(path).name, other_column,
                 "Rs_annual", "Rh_annual")
        frame[other_column] = np.nan
    for column in ("Latitude", "Longitude", "Study_midyear", "YearsOfData", "Rs_annual", "Rh_annual"):
        frame[column] = _numeric(frame, column)
    flog = _FilterLog(frame, str(path), "Study_number")
    f = lambda: flog.frame  # noqa: E731  (the frame shrinks after every step)

    flog.keep("has_value", f"records with {value_column}", f()[value_column].notna())
    flog.keep("coordinates", "explicit latitude and longitude (in range)",
              _valid_coordinates(f()["Latitude"], f()["Longitude"]))
    flog.keep("year", "explicit year (Study_midyear)", f()["Study_midyear"].notna())
    if min_years_of_data is not None:
        flog.keep("years_of_data", f"YearsOfData >= {min_years_of_data:g}",
                  f()["YearsOfData"].fillna(-np.inf) >= min_years_of_data)
    _keep_treatment_and_method(flog, manipulation, exclude_methods)
    if drop_negative:
        flog.keep("negative", f"{value_column} >= 0 (negative fluxes removed)", f()[value_column] >= 0)
    if outlier_sd is not None:
        values = f()[value_column]
        mean, sd = values.mean(), values.std(ddof=1)
        within = (values - mean).abs() <= outlier_sd * sd if np.isfinite(sd) else values.notna()
        flog.keep("outliers", f"within {outlier_sd:g} SD of the mean ({mean:.0f} ± {sd:.0f})", within)
    if require_rs_above_rh:
        rs, rh = f()["Rs_annual"], f()["Rh_annual"]
        both = rs.notna() & rh.notna()
        flog.keep("rs_above_rh", "Rs_annual > Rh_annual where both are given", ~both | (rs > rh))

    kept = flog.frame
    years = kept["YearsOfData"].where(kept["YearsOfData"] > 0, 1.0).fillna(1.0)
    centre = kept["Study_midyear"] + 0.5  # calendar year Y spans [Y, Y+1): its centre is Y + 0.5
    lon = kept["Longitude"].where(kept["Longitude"] <= 180, kept["Longitude"] - 360)
    records = pd.DataFrame({
        "record": kept["Record_number"].to_numpy(),
        "study": kept["Study_number"].to_numpy(),
        "site": kept["Site_ID"].fillna("").astype(str).to_numpy(),
        "lat": kept["Latitude"].to_numpy(float),
        "lon": lon.to_numpy(float),
        "study_midyear": kept["Study_midyear"].to_numpy(float),
        "years_of_data": years.to_numpy(float),
        "year_start": (centre - years / 2).to_numpy(float),
        "year_end": (centre + years / 2).to_numpy(float),
        "observed": kept[value_column].to_numpy(float),
    })
    return SiteRecords(records.reset_index(drop=True), flog.table(), str(path))


def day_of_year(year: np.ndarray, doy: np.ndarray, month: np.ndarray, day: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Resolve observation dates (proleptic Gregorian) and flag impossible ones.

    A row has a date when it has a year and either a day of year or a month. The day of year
    wins when both are given (MGRhD's ``Meas_Month`` is sometimes off by a day at month ends);
    with a month only, the day is ``day`` when given, else :data:`MID_MONTH_DAY`.

    Parameters
    ----------
    year, doy, month, day
        Float arrays, NaN where missing.

    Returns
    -------
    (has_date, possible, doy, month)
        ``has_date``: year and (doy or month) present; ``possible``: the date exists (DOY in
        1…365/366 for that year, month in 1…12, day within the month, integral values);
        ``doy`` and ``month`` of the resolved date (NaN where impossible).
    """
    year = np.asarray(year, float)
    doy = np.asarray(doy, float)
    month = np.asarray(month, float)
    day = np.full_like(year, np.nan) if day is None else np.asarray(day, float)
    has_doy = np.isfinite(doy)
    has_month = np.isfinite(month)
    has_date = np.isfinite(year) & (has_doy | has_month)
    out_doy = np.full_like(year, np.nan)
    out_month = np.full_like(year, np.nan)
    possible = np.zeros_like(has_date)
    for i in np.flatnonzero(has_date):
        y = year[i]
        if y != int(y):
            continue
        y = int(y)
        leap = calendar.isleap(y)
        if has_doy[i]:
            d = doy[i]
            if d != int(d) or not 1 <= d <= (366 if leap else 365):
                continue
            date = pd.Timestamp(y, 1, 1) + pd.Timedelta(days=int(d) - 1)
            out_doy[i], out_month[i], possible[i] = d, date.month, True
        else:
            m = month[i]
            dd = day[i] if np.isfinite(day[i]) else MID_MONTH_DAY
            if m != int(m) or not 1 <= m <= 12 or dd != int(dd) or not 1 <= dd <= calendar.monthrange(y, int(m))[1]:
                continue
            out_doy[i] = pd.Timestamp(y, int(m), int(dd)).day_of_year
            out_month[i], possible[i] = m, True
    return has_date, possible, out_doy, out_month


def load_mgrhd(
    path: str | PathLike,
    *,
    manipulation: str | None = "None",
    exclude_methods: Sequence[str] | None = DEFAULT_EXCLUDED_METHODS,
    drop_negative: bool = True,
    min_study_observations: int = 6,
    extra_columns: Sequence[str] = (),
) -> SiteRecords:
    """MGRhD daily heterotrophic respiration (``Rh_Norm``, g C m-2 day-1), filtered.

    ``extra_columns`` (e.g. ``Tsoil``, ``TsDepth``, ``SWC``) are carried into ``records`` as
    numbers under their lower-case names, NaN where the file lacks the column or the value.

    Steps, in order (counted in ``filter_counts``): rows with ``Rh_Norm``; coordinates (in
    range); a date (year and day of year or month); a possible date (no DOY 0 or 367, Feb 30…;
    see :func:`day_of_year`); ``Manipulation == manipulation``; ``Meas_method`` not containing
    any of ``exclude_methods``; non-negative flux. Then, without removing rows, the number of
    studies with fewer than ``min_study_observations`` observations (they enter pooled
    statistics and seasonal cycles but no per-study test). DATA.md: about 8,249 observations
    from 246 studies remain with the defaults.

    Returns
    -------
    SiteRecords
        ``records`` columns: ``study, site, lat, lon, year, doy, month, observed``
        (g C m-2 day-1), ``date_from`` (``"doy"`` or ``"month"``).
    """
    needed = ["Study_number", "Site_ID", "Meas_Year", "Meas_Month", "Meas_DOY", "Latitude", "Longitude",
              "Manipulation", "Meas_method", "Rh_Norm"]
    frame = read_site_csv(path, needed, optional_columns=["Meas_Day", *extra_columns])
    for column in ("Meas_Year", "Meas_Month", "Meas_DOY", "Latitude", "Longitude", "Rh_Norm"):
        frame[column] = _numeric(frame, column)
    day = _numeric(frame, "Meas_Day") if "Meas_Day" in frame.columns else None
    has_date, possible, doy, month = day_of_year(frame["Meas_Year"], frame["Meas_DOY"], frame["Meas_Month"], day)
    frame = frame.assign(_has_date=has_date, _possible=possible, _doy=doy, _month=month,
                         _date_from=np.where(np.isfinite(frame["Meas_DOY"]), "doy", "month"))
    flog = _FilterLog(frame, str(path), "Study_number")
    f = lambda: flog.frame  # noqa: E731

    flog.keep("has_value", "rows with Rh_Norm", f()["Rh_Norm"].notna())
    flog.keep("coordinates", "latitude and longitude (in range)", _valid_coordinates(f()["Latitude"], f()["Longitude"]))
    flog.keep("date", "year and day of year or month", f()["_has_date"])
    flog.keep("possible_date", "dates that exist (no DOY 0 or 367, Feb 30, month 13)", f()["_possible"])
    _keep_treatment_and_method(flog, manipulation, exclude_methods)
    if drop_negative:
        flog.keep("negative", "Rh_Norm >= 0 (negative fluxes removed)", f()["Rh_Norm"] >= 0)

    kept = flog.frame
    sizes = kept.groupby("Study_number").size()
    small = sizes[sizes < min_study_observations]
    flog.note("small_studies", f"studies with < {min_study_observations} observations (not tested per study)",
              len(small))
    flog.note("small_study_observations", "observations in those studies (kept for pooled statistics)",
              int(small.sum()))
    lon = kept["Longitude"].where(kept["Longitude"] <= 180, kept["Longitude"] - 360)
    records = pd.DataFrame({
        "study": kept["Study_number"].to_numpy(),
        "site": kept["Site_ID"].fillna("").astype(str).to_numpy(),
        "lat": kept["Latitude"].to_numpy(float),
        "lon": lon.to_numpy(float),
        "year": kept["Meas_Year"].to_numpy(int),
        "doy": kept["_doy"].to_numpy(int),
        "month": kept["_month"].to_numpy(int),
        "observed": kept["Rh_Norm"].to_numpy(float),
        "date_from": kept["_date_from"].to_numpy(),
    })
    for column in extra_columns:
        records[column.lower()] = (_numeric(kept, column).to_numpy(float) if column in kept.columns
                                   else np.full(len(kept), np.nan))
    return SiteRecords(records.reset_index(drop=True), flog.table(), str(path))
