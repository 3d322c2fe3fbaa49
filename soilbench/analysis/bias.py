"""Per-cell bias and RMSE score maps, ILAMB conventions (methods.md §7).

Bias score per cell: against a reference with a time axis, ILAMB's
``exp(-max(|m̄ − r̄| − u, 0) / σ_ref)`` with σ_ref the reference's temporal standard deviation
and u its own uncertainty map when it has one (0 otherwise). Against a single-time reference
ILAMB's σ_ref is |r̄|, which gives a model without the flux e⁻¹ = 0.37; soilbench scores
``min(m̄, r̄) / max(m̄, r̄)`` there instead (:func:`soilbench.analysis.scores.ratio_score`,
``docs/scores.md``), and :func:`ilamb_bias_score_map` keeps ILAMB's number. RMSE score
per cell: ``exp(-crmse / σ_ref)`` with the centred RMS difference over the common time steps;
it needs time series on both sides. Regional scalars are area-weighted means of these maps
(:func:`soilbench.analysis.scores.area_weighted_mean`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from soilbench.analysis import scores


def bias_map(model_mean: xr.DataArray, reference_mean: xr.DataArray) -> xr.DataArray:
    """Model minus reference period means, on cells valid in both."""
    difference = (model_mean - reference_mean).where(model_mean.notnull() & reference_mean.notnull())
    difference.attrs = {"units": reference_mean.attrs.get("units", ""), "long_name": "model − reference"}
    return difference


def bias_score_map(model_mean: xr.DataArray, reference_mean: xr.DataArray,
                   reference_sigma: xr.DataArray | None = None,
                   uncertainty: xr.DataArray | float = 0.0) -> xr.DataArray:
    """Bias score per cell (see module docstring); NaN where either side is missing.

    Without ``reference_sigma`` (a single-time reference) the ratio score; with it, ILAMB's.
    """
    if reference_sigma is None:
        if not (np.isscalar(uncertainty) and uncertainty == 0):
            raise ValueError("an uncertainty needs reference_sigma: the ratio score has no tolerance band")
        score = scores.ratio_score(model_mean, reference_mean)
    else:
        score = scores.bias_score(model_mean, reference_mean, reference_sigma, uncertainty)
    score = score.where(model_mean.notnull() & reference_mean.notnull())
    score.attrs = {"units": "1", "long_name": "bias score"}
    return score


def ilamb_bias_score_map(model_mean: xr.DataArray, reference_mean: xr.DataArray) -> xr.DataArray:
    """ILAMB 2.x's bias score against a single-time reference, ``exp(-|m̄ − r̄| / |r̄|)``."""
    score = scores.bias_score(model_mean, reference_mean, abs(reference_mean))
    score = score.where(model_mean.notnull() & reference_mean.notnull())
    score.attrs = {"units": "1", "long_name": "ILAMB bias score"}
    return score


def temporal_sigma(field: xr.DataArray) -> xr.DataArray:
    """Temporal standard deviation (population) per cell, steps weighted by their length."""
    step_days = field["step_days"]
    data = field.drop_vars("step_days")
    weight = step_days.where(data.notnull(), 0.0)
    mean = (data.fillna(0.0) * weight).sum("time") / weight.sum("time")
    variance = (((data - mean) ** 2).fillna(0.0) * weight).sum("time") / weight.sum("time")
    return np.sqrt(variance).where(weight.sum("time") > 0)


def rmse_score_map(model: xr.DataArray, reference: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Centred RMS difference per cell and its ILAMB score ``exp(-crmse / σ_ref)``.

    Both series must share the time axis (same steps; ``step_days`` taken from the reference).

    Returns
    -------
    (crmse, score)
        Maps over (lat, lon); NaN where either side has no valid step.
    """
    step_days = reference["step_days"]
    m = model.drop_vars("step_days", errors="ignore")
    r = reference.drop_vars("step_days")
    valid = m.notnull() & r.notnull()
    weight = step_days.where(valid, 0.0)
    total = weight.sum("time")

    def anomaly(x: xr.DataArray) -> xr.DataArray:
        return x - (x.fillna(0.0) * weight).sum("time") / total

    squared = ((anomaly(m) - anomaly(r)) ** 2).where(valid, 0.0)
    crmse = np.sqrt((squared * weight).sum("time") / total).where(total > 0)
    sigma = temporal_sigma(r.where(valid).assign_coords(step_days=step_days))
    score = scores.rmse_score(crmse, sigma).where(total > 0)
    crmse.attrs = {"units": reference.attrs.get("units", ""), "long_name": "centred RMS difference"}
    score.attrs = {"units": "1", "long_name": "RMSE score"}
    return crmse, score
