"""Taylor statistics of two period-mean maps and ILAMB's spatial-distribution score (methods.md §3).

All moments are weighted by the area that counts (cell area × land fraction) over cells valid in
both maps: weighted means, population standard deviations (ddof = 0, as ILAMB's
``numpy.ma.std``), Pearson correlation and the centred RMS difference, which satisfy Taylor's
relation crmse² = σ_m² + σ_r² − 2 σ_m σ_r R exactly. ILAMB 2.x computes the same moments without
area weights (every cell counts once); pass ``weights=1`` to reproduce it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from soilbench.analysis import scores


def taylor_statistics(model: xr.DataArray, reference: xr.DataArray, weights: xr.DataArray | float) -> dict[str, float]:
    """Area-weighted Taylor statistics of ``model`` against ``reference`` (same grid).

    Parameters
    ----------
    model, reference
        Maps on the same (lat, lon) grid; NaN cells are left out of both.
    weights
        Per-cell weights (area × land fraction, m²) or a scalar for unweighted statistics.

    Returns
    -------
    dict
        ``correlation`` R, ``std_ratio`` σ̂ = σ_m/σ_r, ``crmse`` (units of the maps),
        ``crmse_normalised`` = crmse/σ_r, ``std_model``, ``std_reference``, ``mean_model``,
        ``mean_reference``, ``bias`` (= mean_model − mean_reference), ``n_cells``, the
        spatial-distribution ``score`` soilbench scores with (Taylor 2001 eq. 5,
        :data:`soilbench.analysis.scores.TAYLOR_POWER`) and ILAMB's (``score_ilamb``, eq. 4).
        A uniform model (σ_m = 0) has no correlation and scores 0. NaN when fewer than two
        valid cells.
    """
    model, reference = xr.align(model, reference, join="exact")
    weight = xr.zeros_like(model, dtype="float64") + weights
    valid = model.notnull() & reference.notnull() & (weight > 0)
    w = weight.where(valid, 0.0).values.astype("float64").ravel()
    m = model.values.astype("float64").ravel()
    r = reference.values.astype("float64").ravel()
    keep = w > 0
    w, m, r = w[keep], m[keep], r[keep]
    if w.size < 2:
        return {k: float("nan") for k in ("correlation", "std_ratio", "crmse", "crmse_normalised", "std_model",
                                          "std_reference", "mean_model", "mean_reference", "bias", "score", "score_ilamb")} | {
            "n_cells": float(w.size)}
    mean_m = np.average(m, weights=w)
    mean_r = np.average(r, weights=w)
    dm, dr = m - mean_m, r - mean_r
    std_m = np.sqrt(np.average(dm * dm, weights=w))
    std_r = np.sqrt(np.average(dr * dr, weights=w))
    covariance = np.average(dm * dr, weights=w)
    correlation = covariance / (std_m * std_r) if std_m > 0 and std_r > 0 else float("nan")
    crmse = np.sqrt(np.average((dm - dr) ** 2, weights=w))
    std_ratio = std_m / std_r if std_r > 0 else float("nan")
    return {
        "correlation": float(correlation),
        "std_ratio": float(std_ratio),
        "crmse": float(crmse),
        "crmse_normalised": float(crmse / std_r) if std_r > 0 else float("nan"),
        "std_model": float(std_m),
        "std_reference": float(std_r),
        "mean_model": float(mean_m),
        "mean_reference": float(mean_r),
        "bias": float(mean_m - mean_r),
        "n_cells": float(w.size),
        "score": float(scores.taylor_score(correlation, std_ratio, power=scores.TAYLOR_POWER)),
        "score_ilamb": float(scores.taylor_score(correlation, std_ratio)),
    }
