"""Scores (methods.md §7; ``docs/scores.md``): every score is in [0, 1], higher is better.

ILAMB's forms are here (``exp(-|error| / normaliser)``, with ilamb3's uncertainty-absorbing
``exp(-max(|Δ| - u, 0) / σ_ref)``, and ILAMB's spatial-distribution score) and so are the
forms soilbench scores with where ILAMB's cannot tell a good model from a bad one
(``docs/scores.md`` says where and why): the ratio score ``min(m, r) / max(m, r)`` for a
single-time reference, Taylor's (2001) score with the fourth power of ``1 + R``, and the
log-space RMSE of a profile. Regional scalars are area-weighted means of per-cell scores.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

ArrayLike = float | np.ndarray | xr.DataArray


def relative_error_score(error: ArrayLike, normaliser: ArrayLike, uncertainty: ArrayLike = 0.0) -> ArrayLike:
    """``exp(-max(|error| - uncertainty, 0) / normaliser)``; NaN where the normaliser is not positive."""
    excess = np.maximum(np.abs(error) - uncertainty, 0.0)
    normaliser = xr.where(normaliser > 0, normaliser, np.nan) if isinstance(normaliser, xr.DataArray) else (
        np.where(np.asarray(normaliser) > 0, normaliser, np.nan))
    return np.exp(-excess / normaliser)


def bias_score(model_mean: ArrayLike, reference_mean: ArrayLike, reference_sigma: ArrayLike,
               uncertainty: ArrayLike = 0.0) -> ArrayLike:
    """ILAMB bias score: σ_ref is the reference's temporal std, or |mean| for single-time references."""
    return relative_error_score(model_mean - reference_mean, reference_sigma, uncertainty)


def rmse_score(centred_rmse: ArrayLike, reference_sigma: ArrayLike) -> ArrayLike:
    """ILAMB RMSE score ``exp(-crmse / σ_ref)``."""
    return relative_error_score(centred_rmse, reference_sigma)


def taylor_score(correlation: ArrayLike, std_ratio: ArrayLike, r0: float = 1.0, power: int = 1) -> ArrayLike:
    """Taylor's (2001) skill score ``4(1+R)^k / ((σ̂ + 1/σ̂)² (1+R0)^k)``.

    ``power=1`` is ILAMB's spatial-distribution score (Taylor 2001, eq. 4); ``power=4`` is
    Taylor's eq. 5, which soilbench scores with (:data:`TAYLOR_POWER`): with k = 1 an
    uncorrelated pattern of the right variance (a shuffled field) still scores 0.5, with k = 4 it
    scores 1/16. A spatially uniform model (σ̂ = 0) scores 0: the limit of the formula, reached
    without a division-by-zero warning, whatever its (undefined) correlation.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = std_ratio + np.divide(1.0, std_ratio)  # np.divide: python floats would raise
        value = 4.0 * (1.0 + correlation) ** power / (spread**2 * (1.0 + r0) ** power)
    if isinstance(value, xr.DataArray):
        return value.where(std_ratio != 0, 0.0)
    return np.where(np.asarray(std_ratio) == 0, 0.0, value)[()]


#: the power of 1 + R in soilbench's spatial-distribution score (Taylor 2001, eq. 5)
TAYLOR_POWER = 4


def ratio_score(model: ArrayLike, reference: ArrayLike) -> ArrayLike:
    """``min(m, r) / max(m, r)`` = ``exp(-|ln(m / r)|)``: the relative score of a positive quantity.

    Equal to ILAMB's ``exp(-|m − r| / |r|)`` to first order in small errors (×1.1 scores 0.909
    against ILAMB's 0.905), but symmetric in log space (×2 and ÷2 both score 0.5) and 0 for a
    model without the quantity (ILAMB's form gives a zero field e⁻¹ = 0.37). 1 where both are
    0; 0 where only one side is positive or either is negative; NaN where either is missing.
    """
    low, high = np.minimum(model, reference), np.maximum(model, reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(low / high, 0.0, 1.0)
    ratio = xr.where(high > 0, ratio, xr.where(low == high, 1.0, 0.0)) if isinstance(ratio, xr.DataArray) else (
        np.where(high > 0, ratio, np.where(low == high, 1.0, 0.0)))
    missing = np.isnan(model) | np.isnan(reference)
    return xr.where(missing, np.nan, ratio) if isinstance(ratio, xr.DataArray) else np.where(missing, np.nan, ratio)[()]


def seasonal_cycle_score(peak_shift_days: ArrayLike, days_per_year: float = 365.0) -> ArrayLike:
    """ILAMB cycle score ``(1 + cos(2π Δt / 365)) / 2`` for a shift of the seasonal peak."""
    return (1.0 + np.cos(2.0 * np.pi * np.asarray(peak_shift_days) / days_per_year)) / 2.0


def area_weighted_mean(score: xr.DataArray, area: xr.DataArray, mask: xr.DataArray | None = None) -> float:
    """Area-weighted mean of a per-cell score over valid cells (and ``mask`` if given)."""
    weights = area.where(score.notnull(), 0.0)
    if mask is not None:
        weights = weights.where(mask, 0.0)
    total = float(weights.sum())
    return float((score.fillna(0.0) * weights).sum() / total) if total > 0 else float("nan")


def overall_score(scores: Mapping[str, float], weights: Mapping[str, float] | None = None) -> float:
    """Weighted mean of named scores, ignoring NaN ones; NaN when none is finite.

    Not the rule of a confrontation's overall score: that is
    :func:`soilbench.confrontations.build.overall` (built on
    :func:`overall_score_counting_missing`, with components that do not apply left out).
    """
    weights = weights or {}
    pairs = [(value, weights.get(name, 1.0)) for name, value in scores.items() if np.isfinite(value)]
    total_weight = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total_weight if total_weight > 0 else float("nan")


def overall_score_counting_missing(scores: Mapping[str, float], weights: Mapping[str, float] | None = None
                                   ) -> tuple[float, list[str]]:
    """Weighted mean of named scores that are all expected, a missing (NaN) one counting as 0.

    Returns the mean and the names of the missing components, for the confrontation to show
    (``docs/scores.md``, "Missing components"): a model that leaves a component without a value
    (no valid common cell, a region without data) cannot score higher for it. NaN only when
    there are no components at all.
    """
    weights = weights or {}
    if not scores:
        return float("nan"), []
    missing = [name for name, value in scores.items() if not np.isfinite(value)]
    total_weight = sum(weights.get(name, 1.0) for name in scores)
    value = sum((v if np.isfinite(v) else 0.0) * weights.get(name, 1.0) for name, v in scores.items())
    return (value / total_weight if total_weight > 0 else float("nan")), missing


def profile_log_score(model: ArrayLike, reference: ArrayLike, weights: ArrayLike,
                      max_factor: float = 100.0) -> tuple[float, float]:
    """Score of a profile (e.g. band means over latitude): ``exp(-RMS(ln m/r) / SD(ln r))``.

    The RMS of the log ratios and the standard deviation of the reference's logs are weighted
    by ``weights`` (e.g. band land areas) over entries where the reference is positive and both
    are present. ``SD(ln r)`` is the contrast along the profile: an error as large as the
    contrast scores e⁻¹, and so does every uniform profile at any level (the RMS about a
    constant is at least the SD). Ratios are clipped to [1/max_factor, max_factor] so that one
    small entry without flux costs at most ln(max_factor), not the whole score.

    Returns
    -------
    (score, entry scores)
        The profile score and, per entry, ``exp(-|ln m/r| / SD(ln r))`` (same shape as ``model``).
    """
    m, r, w = (np.asarray(x, dtype="float64") for x in (model, reference, weights))
    use = np.isfinite(m) & np.isfinite(r) & (r > 0) & np.isfinite(w) & (w > 0)
    if not use.any():
        return float("nan"), np.full(m.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(np.where(use, m / np.where(use, r, 1.0), 1.0), 1.0 / max_factor, max_factor)
        log_ratio = np.abs(np.log(ratio))
        log_r = np.log(np.where(use, r, 1.0))
    weight = np.where(use, w, 0.0) / np.where(use, w, 0.0).sum()
    mean_log_r = float((weight * log_r).sum())
    contrast = float(np.sqrt((weight * (log_r - mean_log_r) ** 2).sum()))
    if contrast <= 0:
        return float("nan"), np.full(m.shape, np.nan)
    rms = float(np.sqrt((weight * log_ratio**2).sum()))
    return float(np.exp(-rms / contrast)), np.where(use, np.exp(-log_ratio / contrast), np.nan)
