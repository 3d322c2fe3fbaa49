"""Functional responses of respiration and turnover to climate (methods.md §8).

Three pure pieces, each a known method:

- :func:`binned_response` — the mean of a response (e.g. annual Rh at SRDB sites) in bins of a
  driver (the mean annual temperature or precipitation reported with the records), with the
  t-interval of each bin mean. Model and observations are binned on the *same observed driver*, so
  the curves differ only by the response.
- :func:`fit_q10` — the apparent Q10 of an exponential fit R = a·exp(b·T), Q10 = exp(10 b), fitted
  as ordinary least squares of ln R on T (multiplicative errors, the usual choice for respiration,
  whose scatter grows with its level), with the interval from the slope's t-interval.
- :func:`fit_turnover_curve` — Koven et al. (2017) and ILAMB's ``ConfSoilCarbon``: a quadratic of
  log10 τ against temperature, and the Q10 of the decomposition rate 1/τ at given temperatures,
  Q10(T) = 10^(−10 · d log10 τ / dT). For a quadratic the centred difference τ(T−5)/τ(T+5) equals
  this derivative form exactly, so both common definitions agree.

:func:`response_scores` scores a model's binned curve against the observed one on a log-ratio
scale, as a level score times a shape score (see its docstring for why not ilamb3's relative
error of the curve, exp(−‖Δμ‖/‖μ_ref‖), which gives a zero response e⁻¹ and a flat curve nearly 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

BINNED_COLUMNS = ["bin_lower", "bin_upper", "bin_centre", "n", "mean", "sd", "ci_lower", "ci_upper"]


def binned_response(driver: np.ndarray, response: np.ndarray, edges: np.ndarray, *,
                    confidence: float = 0.95) -> pd.DataFrame:
    """Mean, SD and t-interval of ``response`` in bins of ``driver`` (one row per bin).

    Bins are half-open ``[lower, upper)`` except the last, which includes its upper edge
    (numpy.histogram's convention). Pairs with a non-finite driver or response are dropped;
    values outside the edges fall in no bin. Bins with fewer than two values have a NaN interval.
    """
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("bin edges must be a strictly increasing 1-D sequence of at least two values")
    x = np.asarray(driver, dtype=float).ravel()
    y = np.asarray(response, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"driver and response differ in length ({x.size} and {y.size})")
    keep = np.isfinite(x) & np.isfinite(y) & (x >= edges[0]) & (x <= edges[-1])
    x, y = x[keep], y[keep]
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)

    rows = []
    for i in range(edges.size - 1):
        values = y[which == i]
        n = int(values.size)
        mean = float(values.mean()) if n else float("nan")
        sd = float(values.std(ddof=1)) if n > 1 else float("nan")
        if n > 1:
            half = stats.t.ppf(0.5 + confidence / 2.0, n - 1) * sd / np.sqrt(n)
            lower, upper = mean - half, mean + half
        else:
            lower = upper = float("nan")
        rows.append((edges[i], edges[i + 1], 0.5 * (edges[i] + edges[i + 1]), n, mean, sd, lower, upper))
    return pd.DataFrame(rows, columns=BINNED_COLUMNS)


def scored_bins(reference: pd.DataFrame, model: pd.DataFrame, min_count: int) -> np.ndarray:
    """Boolean mask of the bins scored: at least ``min_count`` observations and a finite model mean.

    The count is the reference's: model and observations are binned on the same observed driver,
    so a bin the observations fill is a bin the model is asked about.
    """
    if len(reference) != len(model) or not np.allclose(reference["bin_lower"], model["bin_lower"]):
        raise ValueError("reference and model responses are not binned on the same edges")
    return ((reference["n"].to_numpy() >= min_count) & np.isfinite(reference["mean"].to_numpy())
            & np.isfinite(model["mean"].to_numpy()))


def response_scores(reference: pd.DataFrame, model: pd.DataFrame, min_count: int = 10) -> dict[str, float]:
    """The binned curve's error split into its level and its shape, each scored; ``score`` their product.

    Over the bins of :func:`scored_bins`, with ``d = ln(μ_model / μ_ref)`` per bin:

    - ``level score`` ``exp(−|mean d| / ln 2)``: a model off by a factor of two in every bin
      scores e⁻¹, high or low;
    - ``shape score`` ``exp(−rms(d − mean d) / s_ref)`` with ``s_ref = rms(ln μ_ref − mean ln μ_ref)``,
      the observed curve's own departure from flat. A flat curve at any level has exactly
      ``rms(d − mean d) = s_ref`` and scores e⁻¹, however weak the observed response, so a model
      without the response is told apart from one with it;
    - ``score`` = level × shape: 1 only for the observed curve, falling along every bias ladder
      (× and ÷ 1.1, 1.3, 2 change the level only), ≤ e⁻¹ for a flat curve, 0 for a zero one.

    NaN scores when fewer than two bins qualify, an observed mean is not positive or the observed
    curve is flat; zero scores when a model mean is not positive (its log error is infinite).
    """
    nan = float("nan")
    out = {"level score": nan, "shape score": nan, "score": nan, "n bins": 0.0,
           "mean log ratio": nan}
    keep = scored_bins(reference, model, min_count)
    out["n bins"] = float(keep.sum())
    mu_ref = reference["mean"].to_numpy()[keep]
    mu_model = model["mean"].to_numpy()[keep]
    if keep.sum() < 2 or np.any(mu_ref <= 0):
        return out
    log_ref = np.log(mu_ref)
    spread = float(np.sqrt(np.mean((log_ref - log_ref.mean()) ** 2)))
    if not spread > 0:
        return out
    if np.any(mu_model <= 0):
        return {**out, "level score": 0.0, "shape score": 0.0, "score": 0.0}
    d = np.log(mu_model) - log_ref
    level = float(np.exp(-abs(d.mean()) / np.log(2.0)))
    shape = float(np.exp(-np.sqrt(np.mean((d - d.mean()) ** 2)) / spread))
    return {**out, "level score": level, "shape score": shape, "score": level * shape,
            "mean log ratio": float(d.mean())}


@dataclass(frozen=True)
class Q10Fit:
    """Apparent Q10 of R = a·exp(b·T) with its confidence interval."""

    q10: float
    lower: float
    upper: float
    rate_at_0: float  # a, in the response's units
    r_squared: float
    n: int
    n_dropped_nonpositive: int

    @classmethod
    def missing(cls, n: int, dropped: int) -> "Q10Fit":
        nan = float("nan")
        return cls(nan, nan, nan, nan, nan, n, dropped)


def fit_q10(temperature_degC: np.ndarray, rate: np.ndarray, confidence: float = 0.95,
            min_points: int = 3) -> Q10Fit:
    """Apparent Q10 from OLS of ln(rate) on temperature; NaN fit when it cannot be estimated.

    Non-positive rates have no logarithm; they are dropped and counted (``n_dropped_nonpositive``)
    rather than clipped, because clipping would invent a response. A fit needs ``min_points``
    positive rates over more than one temperature.
    """
    t = np.asarray(temperature_degC, dtype=float).ravel()
    r = np.asarray(rate, dtype=float).ravel()
    finite = np.isfinite(t) & np.isfinite(r)
    positive = finite & (r > 0)
    dropped = int((finite & ~positive).sum())
    t, log_r = t[positive], np.log(r[positive])
    n = int(t.size)
    if n < max(min_points, 3) or np.ptp(t) == 0:
        return Q10Fit.missing(n, dropped)
    fit = stats.linregress(t, log_r)
    half = stats.t.ppf(0.5 + confidence / 2.0, n - 2) * fit.stderr
    return Q10Fit(float(np.exp(10 * fit.slope)), float(np.exp(10 * (fit.slope - half))),
                  float(np.exp(10 * (fit.slope + half))), float(np.exp(fit.intercept)),
                  float(fit.rvalue**2), n, dropped)


def q10_by_group(table: pd.DataFrame, group: str, temperature: str, rate: str,
                 min_points: int = 5, min_range: float = 0.0) -> pd.DataFrame:
    """:func:`fit_q10` per group (e.g. per MGRhD study); one row per group with its fit.

    ``temperature_range`` is the span of temperatures with a positive rate; groups spanning less
    than ``min_range`` (°C) get a NaN fit: over a few degrees the slope is mostly noise.
    """
    rows = []
    for key, part in table.groupby(group, sort=True):
        t, r = part[temperature].to_numpy(float), part[rate].to_numpy(float)
        usable = np.isfinite(t) & np.isfinite(r) & (r > 0)
        span = float(np.ptp(t[usable])) if usable.any() else float("nan")
        fit = fit_q10(t, r, min_points=min_points)
        if not span >= min_range:
            fit = Q10Fit.missing(fit.n, fit.n_dropped_nonpositive)
        rows.append({group: key, **fit.__dict__, "temperature_range": span})
    columns = [group, *Q10Fit.__dataclass_fields__, "temperature_range"]
    return pd.DataFrame(rows, columns=columns)


def q10_score(model_q10: float, reference_q10: float) -> float:
    """``exp(−|ln Q10_model − ln Q10_ref| / |ln Q10_ref|)``: the relative error of the temperature
    sensitivity b = ln Q10 / 10, ILAMB's relative-error form.

    A model without a temperature response (Q10 = 1) scores e⁻¹, and so does one twice as
    sensitive as observed (Q10_ref²). NaN when either is not finite and positive, or when the
    reference has no sensitivity (Q10_ref = 1).
    """
    if not (np.isfinite(model_q10) and np.isfinite(reference_q10) and model_q10 > 0 and reference_q10 > 0):
        return float("nan")
    b_ref = np.log(reference_q10)
    if b_ref == 0:
        return float("nan")
    return float(np.exp(-abs(np.log(model_q10) - b_ref) / abs(b_ref)))


def compare_q10_distributions(observed: np.ndarray, modelled: np.ndarray) -> dict[str, float]:
    """Medians, a Mann–Whitney U test and a two-sample Kolmogorov–Smirnov test of two sets of Q10.

    Two-sided tests from :mod:`scipy.stats` on the finite values; NaN statistics with fewer than
    three values on either side.
    """
    o = np.asarray(observed, float)
    m = np.asarray(modelled, float)
    o, m = o[np.isfinite(o)], m[np.isfinite(m)]
    out = {"n observed": float(o.size), "n modelled": float(m.size),
           "observed median": float(np.median(o)) if o.size else float("nan"),
           "modelled median": float(np.median(m)) if m.size else float("nan"),
           "Mann-Whitney p": float("nan"), "KS statistic": float("nan"), "KS p": float("nan")}
    if o.size >= 3 and m.size >= 3:
        out["Mann-Whitney p"] = float(stats.mannwhitneyu(o, m, alternative="two-sided").pvalue)
        ks = stats.ks_2samp(o, m)
        out["KS statistic"], out["KS p"] = float(ks.statistic), float(ks.pvalue)
    return out


@dataclass(frozen=True)
class TurnoverCurve:
    """log10 τ = c2·T² + c1·T + c0 (numpy.polyfit order), with the residual SD in log10 units."""

    coefficients: tuple[float, float, float]
    residual_sd_log10: float
    n: int

    def tau_yr(self, temperature_degC: np.ndarray) -> np.ndarray:
        return 10.0 ** np.polyval(self.coefficients, np.asarray(temperature_degC, dtype=float))

    def q10_at(self, temperature_degC: np.ndarray) -> np.ndarray:
        """Q10 of the decomposition rate 1/τ at T: 10^(−10 · d log10 τ / dT)."""
        c2, c1, _ = self.coefficients
        slope = 2.0 * c2 * np.asarray(temperature_degC, dtype=float) + c1
        return 10.0 ** (-10.0 * slope)


def fit_turnover_curve(temperature_degC: np.ndarray, tau_yr: np.ndarray) -> TurnoverCurve:
    """Quadratic fit of log10 τ on temperature (cells or sites with finite, positive τ)."""
    t = np.asarray(temperature_degC, dtype=float).ravel()
    tau = np.asarray(tau_yr, dtype=float).ravel()
    keep = np.isfinite(t) & np.isfinite(tau) & (tau > 0)
    t, log_tau = t[keep], np.log10(tau[keep])
    if t.size < 4 or np.unique(t).size < 3:
        raise ValueError(f"a quadratic turnover curve needs at least 4 points at 3 temperatures, got {t.size}")
    coefficients = np.polyfit(t, log_tau, 2)
    residual_sd = float(np.sqrt(np.mean((log_tau - np.polyval(coefficients, t)) ** 2)))
    return TurnoverCurve(tuple(float(c) for c in coefficients), residual_sd, int(t.size))
