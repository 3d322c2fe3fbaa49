"""Trends, interannual variability and temperature sensitivity of annual series (methods.md §9).

Pure functions on annual series indexed by calendar year (``pd.Series`` with an integer index,
or anything :func:`as_annual_series` accepts). They measure what Hashimoto et al. (2023, [003])
report for global soil respiration: the 1980–2010 linear trend (0.038–0.23 Pg C yr⁻², mean 0.11),
the interannual variability after detrending, the correlation of anomalies between two series,
and the sensitivity to the land-mean temperature anomaly (1.9–5.0 Pg C yr⁻¹ °C⁻¹, mean 3.5).

Every estimate comes with its sample size and a t-based confidence interval, because a trend over
30 noisy years is an estimate, not a number, and a model inside the interval of an observed trend
is not distinguishable from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

MIN_YEARS = 3  # a slope and its standard error need at least three points


@dataclass(frozen=True)
class LinearFit:
    """Ordinary least-squares slope of y on x with its two-sided confidence interval."""

    slope: float
    lower: float
    upper: float
    intercept: float
    r_squared: float
    p_value: float
    n: int

    @classmethod
    def missing(cls, n: int) -> "LinearFit":
        nan = float("nan")
        return cls(nan, nan, nan, nan, nan, nan, n)


def as_annual_series(values: pd.Series) -> pd.Series:
    """A float series on integer years, sorted, without missing values.

    Duplicate years are an error rather than averaged: two values for one year mean the series
    was built wrongly upstream (e.g. two ensemble members concatenated), and averaging would hide it.
    """
    series = pd.Series(values, dtype=float).dropna()
    series.index = pd.Index(np.asarray(series.index, dtype=int), name="year")
    if series.index.has_duplicates:
        years = sorted(set(series.index[series.index.duplicated()]))
        raise ValueError(f"annual series has more than one value for year(s) {years}")
    return series.sort_index()


def linear_fit(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> LinearFit:
    """OLS fit of ``y`` on ``x`` (scipy.stats.linregress); NaN fit for fewer than 3 points or constant x."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n < MIN_YEARS or np.ptp(x) == 0:
        return LinearFit.missing(n)
    fit = stats.linregress(x, y)
    half_width = stats.t.ppf(0.5 + confidence / 2.0, n - 2) * fit.stderr
    return LinearFit(float(fit.slope), float(fit.slope - half_width), float(fit.slope + half_width),
                     float(fit.intercept), float(fit.rvalue**2), float(fit.pvalue), n)


def select_years(series: pd.Series, first_year: int | None = None, last_year: int | None = None) -> pd.Series:
    """The part of an annual series within ``first_year..last_year`` (inclusive; None = open)."""
    series = as_annual_series(series)
    lo = series.index.min() if first_year is None else first_year
    hi = series.index.max() if last_year is None else last_year
    return series.loc[(series.index >= lo) & (series.index <= hi)]


def linear_trend(series: pd.Series, first_year: int | None = None, last_year: int | None = None,
                 confidence: float = 0.95) -> LinearFit:
    """Linear trend per year (units of the series per year), e.g. Pg C yr⁻² for Pg C yr⁻¹ totals."""
    part = select_years(series, first_year, last_year)
    return linear_fit(part.index.to_numpy(float), part.to_numpy(), confidence)


def detrended(series: pd.Series) -> pd.Series:
    """Residuals of the series about its own linear trend (NaN series for fewer than 3 years)."""
    series = as_annual_series(series)
    fit = linear_fit(series.index.to_numpy(float), series.to_numpy())
    if not np.isfinite(fit.slope):
        return series * np.nan
    return series - (fit.intercept + fit.slope * series.index.to_numpy(float))


def interannual_variability(series: pd.Series) -> float:
    """Standard deviation (ddof=1) of the detrended series: year-to-year variability, not trend."""
    residuals = detrended(series).dropna()
    return float(residuals.std(ddof=1)) if residuals.size >= MIN_YEARS else float("nan")


@dataclass(frozen=True)
class Correlation:
    r: float
    p_value: float
    n: int


def anomaly_correlation(model: pd.Series, reference: pd.Series) -> Correlation:
    """Pearson correlation of the detrended anomalies over the years both series share.

    Each series is detrended over the shared years only, so a model with a longer record is not
    judged on years the reference cannot see.
    """
    model, reference = as_annual_series(model), as_annual_series(reference)
    years = model.index.intersection(reference.index)
    if years.size < MIN_YEARS:
        return Correlation(float("nan"), float("nan"), int(years.size))
    m, r = detrended(model.loc[years]), detrended(reference.loc[years])
    if np.ptp(m.to_numpy()) == 0 or np.ptp(r.to_numpy()) == 0:
        return Correlation(float("nan"), float("nan"), int(years.size))  # a line has no anomalies
    result = stats.pearsonr(m.to_numpy(), r.to_numpy())
    return Correlation(float(result.statistic), float(result.pvalue), int(years.size))


def temperature_sensitivity(flux: pd.Series, temperature: pd.Series, *, detrend: bool = False,
                            confidence: float = 0.95) -> LinearFit:
    """Slope of annual flux on the annual land-temperature anomaly, e.g. Pg C yr⁻¹ °C⁻¹.

    ``detrend=False`` is [003]'s definition (regression on the temperature anomaly, trends
    included); ``detrend=True`` keeps only interannual covariation, which is not confounded by
    other drivers with a trend (CO₂ fertilisation of inputs, land-use change).
    """
    flux, temperature = as_annual_series(flux), as_annual_series(temperature)
    years = flux.index.intersection(temperature.index)
    if years.size < MIN_YEARS:
        return LinearFit.missing(int(years.size))
    f, t = flux.loc[years], temperature.loc[years]
    if detrend:
        f, t = detrended(f), detrended(t)
    anomaly = t - t.mean()
    return linear_fit(anomaly.to_numpy(), f.to_numpy(), confidence)


@dataclass(frozen=True)
class SeasonalCycle:
    """A mean seasonal cycle by calendar month, with the peak and the trough."""

    monthly_mean: pd.Series  # index 1..12
    peak_month: int
    trough_month: int
    amplitude: float


def mean_seasonal_cycle(monthly: pd.Series) -> SeasonalCycle:
    """Mean of a monthly series by calendar month (index: anything with ``.month``, or 1..12).

    Missing months are an error: a peak found among eleven months could be the wrong one.
    """
    index = monthly.index
    months = np.asarray(index.month if hasattr(index, "month") else index, dtype=int)
    by_month = pd.Series(np.asarray(monthly, dtype=float), index=months).groupby(level=0).mean()
    missing = sorted(set(range(1, 13)) - set(by_month.dropna().index))
    if missing:
        raise ValueError(f"monthly series has no values for month(s) {missing}")
    by_month = by_month.reindex(range(1, 13))
    return SeasonalCycle(by_month, int(by_month.idxmax()), int(by_month.idxmin()),
                         float(by_month.max() - by_month.min()))


# -- published figures and scores (docs/series.md) ---------------------------------------------
#: [003] (Hashimoto et al. 2023), data-driven global *soil* respiration (Rs): (lower, upper, mean)
RS_TREND_1980_2010_PG_YR2 = (0.038, 0.23, 0.11)
RS_TEMPERATURE_SENSITIVITY_PG_YR_DEGC = (1.9, 5.0, 3.5)
#: [003]'s seasonal cycle of Rs: the peak in July-August at 8-9 Pg C per month, the low in February at 4-6
RS_PEAK_MONTHS, RS_PEAK_PG_MONTH = (7, 8), (8.0, 9.0)
RS_LOW_MONTHS, RS_LOW_PG_MONTH = (2,), (4.0, 6.0)
#: the heterotrophic share of soil respiration, HR/SR (Bond-Lamberty et al. 2018; methods.md §1):
#: [003]'s Rs figures become Rh envelopes by this range
RH_SHARE_OF_RS = (0.54, 0.63)


def rh_envelope(rs_range: tuple[float, float], share: tuple[float, float] = RH_SHARE_OF_RS) -> tuple[float, float]:
    """An Rs range as an Rh range: its lower bound times the lower share, its upper times the upper."""
    return rs_range[0] * share[0], rs_range[1] * share[1]


def trend_score(model_slope: float, reference: LinearFit) -> float:
    """``exp(−|b_m − b_r| / h_r)``, h_r the half-width of the reference trend's confidence interval.

    A model trend one half-width from the reference's scores e⁻¹: the normaliser is how well the
    reference itself knows its trend. NaN when either trend is unknown.
    """
    half_width = (reference.upper - reference.lower) / 2.0
    if not (np.isfinite(model_slope) and np.isfinite(reference.slope) and np.isfinite(half_width)
            and half_width > 0):
        return float("nan")
    return float(np.exp(-abs(model_slope - reference.slope) / half_width))


def envelope_score(value: float, lower: float, upper: float) -> float:
    """1 inside ``[lower, upper]``; ``exp(−d / w)`` outside, d the distance to the nearer bound and
    w half the envelope's width (a value one half-width outside scores e⁻¹). NaN for NaN."""
    if not np.isfinite(value):
        return float("nan")
    distance = max(lower - value, value - upper, 0.0)
    return float(np.exp(-distance / ((upper - lower) / 2.0)))


def month_distance(month: int, months: tuple[int, ...]) -> int:
    """Months from ``month`` to the nearest of ``months``, around the calendar (0 when among them)."""
    return min(min((month - m) % 12, (m - month) % 12) for m in months)


def phase_score(month: int, months: tuple[int, ...]) -> float:
    """ILAMB's cycle score ``(1 + cos(2π Δ / 12)) / 2`` for a peak Δ months from the expected ones."""
    return float((1.0 + np.cos(2.0 * np.pi * month_distance(month, months) / 12.0)) / 2.0)


def anomaly_correlation_score(correlation: Correlation, model_variability: float) -> float:
    """``max(r, 0)``: 1 for the reference's anomalies, 0 for unrelated or opposite ones; a series
    without anomalies (a straight line, IAV 0) reproduces none and scores 0."""
    if np.isfinite(model_variability) and model_variability == 0.0:
        return 0.0
    return float(max(correlation.r, 0.0)) if np.isfinite(correlation.r) else float("nan")


def complete_years(years: np.ndarray, step_days: np.ndarray, year_days: dict[int, float]) -> np.ndarray:
    """The years whose steps cover the whole calendar year (``year_days``: each year's length)."""
    years = np.asarray(years, dtype=int)
    step_days = np.asarray(step_days, dtype=float)
    return np.array([y for y in np.unique(years) if step_days[years == y].sum() >= year_days[int(y)] - 0.5], dtype=int)


def annual_amounts(rate_pg_yr: np.ndarray, step_days: np.ndarray, years: np.ndarray,
                   keep: np.ndarray, days_per_year: float = 365.0) -> pd.Series:
    """Carbon emitted per calendar year (Pg C yr⁻¹) from a global rate per step (Pg C yr⁻¹):
    Σ rate · step days / ``days_per_year`` over each year of ``keep`` (as the global totals count)."""
    rate_pg_yr, step_days, years = (np.asarray(a, dtype=float) for a in (rate_pg_yr, step_days, years))
    values = [float(np.sum(rate_pg_yr[years == y] * step_days[years == y]) / days_per_year) for y in keep]
    return pd.Series(values, index=pd.Index(np.asarray(keep, dtype=int), name="year"), dtype=float)


def monthly_amounts(rate_pg_yr: np.ndarray, step_days: np.ndarray, years: np.ndarray, months: np.ndarray,
                    keep: np.ndarray, days_per_year: float = 365.0) -> pd.Series:
    """Carbon emitted per calendar month (Pg C per month) over the years ``keep``, indexed by month
    (1..12, once per year): the input of :func:`mean_seasonal_cycle`."""
    rate_pg_yr, step_days = np.asarray(rate_pg_yr, dtype=float), np.asarray(step_days, dtype=float)
    years, months = np.asarray(years, dtype=int), np.asarray(months, dtype=int)
    index, values = [], []
    for year in keep:
        for month in range(1, 13):
            at = (years == year) & (months == month)
            if at.any():
                index.append(month)
                values.append(float(np.sum(rate_pg_yr[at] * step_days[at]) / days_per_year))
    return pd.Series(values, index=pd.Index(index, name="month"), dtype=float)


def land_mean_temperature(mean_by_year: np.ndarray, land_area: np.ndarray, years: np.ndarray) -> pd.Series:
    """Land-area-weighted mean temperature per year (°C) of per-cell annual means (year, lat, lon),
    over the cells with a value that year."""
    mean_by_year = np.asarray(mean_by_year, dtype=float)
    area = np.broadcast_to(np.nan_to_num(np.asarray(land_area, dtype=float)), mean_by_year.shape[1:])
    out = []
    for values in mean_by_year:
        weights = np.where(np.isfinite(values), area, 0.0)
        out.append(float(np.sum(np.nan_to_num(values) * weights) / weights.sum()) if weights.sum() > 0 else np.nan)
    return pd.Series(out, index=pd.Index(np.asarray(years, dtype=int), name="year"), dtype=float)
