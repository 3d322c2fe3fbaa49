"""ILAMB-style scores (methods.md §7): every score is in [0, 1], higher is better.

Per-cell scores are ``exp(-|error| / normaliser)``; a regional scalar is the area-weighted mean
of the per-cell score. Reference uncertainty ``u`` absorbs bias as in ilamb3:
``exp(-max(|Δ| - u, 0) / σ_ref)``.
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


def taylor_score(correlation: ArrayLike, std_ratio: ArrayLike, r0: float = 1.0) -> ArrayLike:
    """ILAMB spatial-distribution score ``4(1+R) / ((σ̂ + 1/σ̂)² (1+R0))``.

    A spatially uniform model (σ̂ = 0) scores 0: the limit of the formula, reached without a
    division-by-zero warning.
    """
    with np.errstate(divide="ignore"):
        spread = std_ratio + np.divide(1.0, std_ratio)  # np.divide: python floats would raise
    return 4.0 * (1.0 + correlation) / (spread**2 * (1.0 + r0))


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
    """Weighted mean of named scores, ignoring NaN ones; NaN when none is finite."""
    weights = weights or {}
    pairs = [(value, weights.get(name, 1.0)) for name, value in scores.items() if np.isfinite(value)]
    total_weight = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total_weight if total_weight > 0 else float("nan")
