"""Regional totals of a flux, and scores of totals against uncertain references (methods.md §1).

A total is Σ flux · cell area · land fraction over valid land cells. Global totals, annual
series and period means come from :mod:`soilbench.analysis.integrate`; this module adds the
regional breakdown (all regions in one weighted reduction, ``xr.dot`` over a stack of region
weights, so a dask-backed field is read once) and the uncertainty-aware score of a total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from soilbench.analysis import scores
# moved to soilbench.analysis.partition (all Rh → Rs conversions live there); kept for callers of the old name
from soilbench.analysis.partition import rs_from_rh_bl2004  # noqa: F401
from soilbench.quantities import G_PER_PG



def region_weights(area_m2: xr.DataArray, masks: Mapping[str, xr.DataArray]) -> xr.DataArray:
    """Stack region masks times area into one ``(region, lat, lon)`` array of weights (m²).

    ``area_m2`` is :func:`soilbench.analysis.integrate.land_area`; unknown areas count as 0.
    """
    area_m2 = area_m2.fillna(0.0)
    layers = [area_m2.where(mask.values, 0.0) for mask in masks.values()]
    weights = xr.concat(layers, dim="region").assign_coords(region=list(masks))
    return weights.astype("float64")


def regional_rate_totals(flux_g_m2_yr: xr.DataArray, area_m2: xr.DataArray,
                         masks: Mapping[str, xr.DataArray]) -> xr.DataArray:
    """Total flux rate per region (Pg yr-1), per time step when the field has one.

    NaN cells count as no flux; a region without any valid cell gives NaN.
    """
    weights = region_weights(area_m2, masks)
    flux = flux_g_m2_yr.drop_vars("step_days", errors="ignore")
    total = xr.dot(flux.fillna(0.0), weights, dim=["lat", "lon"]) / G_PER_PG
    # a region (at a step) without one valid cell has no total rather than a total of 0
    valid_area = xr.dot(flux.notnull().astype("float64"), weights, dim=["lat", "lon"])
    total = total.where(valid_area > 0)
    if "step_days" in flux_g_m2_yr.coords:
        total = total.assign_coords(step_days=flux_g_m2_yr["step_days"])
    total.attrs = {"units": "Pg yr-1", "long_name": f"total {flux_g_m2_yr.attrs.get('long_name', flux_g_m2_yr.name)}"}
    return total


def total_uncertainty_score(model_total: float, reference_total: float, uncertainty: float,
                            normaliser: float) -> float:
    """Score of a total: ``exp(-max(|m − r| − u, 0) / σ)`` (ilamb3's uncertainty-aware bias score).

    Parameters
    ----------
    model_total, reference_total
        The two totals (same units).
    uncertainty
        Half-width u of the reference's own uncertainty (0 when it states none).
    normaliser
        σ, the spread of the reference estimates (see :func:`estimate_spread`).
    """
    return float(scores.relative_error_score(model_total - reference_total, normaliser, uncertainty))


def estimate_spread(values: Sequence[float], fallback: float) -> float:
    """Sample standard deviation (ddof=1) of independent estimates of the same total.

    With fewer than two finite estimates there is no spread; ``fallback`` (ILAMB's choice for a
    single-time reference: the magnitude of the reference) is returned instead.
    """
    finite = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if finite.size < 2:
        return float(abs(fallback))
    spread = float(np.std(finite, ddof=1))
    return spread if spread > 0 else float(abs(fallback))
