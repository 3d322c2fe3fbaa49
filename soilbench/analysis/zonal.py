"""Zonal means in latitude bands, with confidence intervals, and their score (methods.md §2).

Cells are *averaged* within each band (never interpolated to band nodes). Inside a band the
cells have unequal land areas, so the band statistics are area-weighted: mean
μ = Σwx/Σw; variance s² = Σw(x−μ)²/Σw · n_eff/(n_eff−1) with Kish's effective sample size
n_eff = (Σw)²/Σw²; standard error s/√n_eff; confidence interval μ ± t(n_eff−1) · SE with the
Student t quantile from :func:`scipy.stats.t.ppf`. With equal weights this is the textbook
t-interval. Neighbouring cells are spatially correlated, so the interval is narrower than an
interval for independent samples would be; it shows the within-band spread, not a
measurement error.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from soilbench.analysis import scores
from soilbench.quantities import G_PER_PG


def band_edges(width_deg: float = 5.0) -> np.ndarray:
    """Band edges from −90 to 90 (the last band is closed at 90)."""
    n = int(round(180.0 / width_deg))
    if not np.isclose(n * width_deg, 180.0):
        raise ValueError(f"band width {width_deg}° does not divide 180°")
    return np.linspace(-90.0, 90.0, n + 1)


def band_index(lat: xr.DataArray, width_deg: float = 5.0) -> xr.DataArray:
    """Band number of each latitude: band k covers [−90 + k·w, −90 + (k+1)·w), the last includes 90."""
    n = int(round(180.0 / width_deg))
    index = np.clip(np.floor((lat.values + 90.0) / width_deg).astype(int), 0, n - 1)
    return xr.DataArray(index, coords={"lat": lat.values}, dims="lat", name="band")


def zonal_statistics(field: xr.DataArray, area_m2: xr.DataArray, width_deg: float = 5.0,
                     confidence: float = 0.95) -> xr.Dataset:
    """Area-weighted band means with a t-based confidence interval, and band totals.

    Parameters
    ----------
    field
        2-D (lat, lon) rate, e.g. ``rh_g_m2_yr``; NaN cells are left out.
    area_m2
        Area that counts per cell (cell area × land fraction).
    width_deg
        Band width in degrees; must divide 180.
    confidence
        Two-sided confidence level of the interval.

    Returns
    -------
    xr.Dataset
        Over ``lat_band`` = band centres (degrees_north; not ``lat``, which belongs to the maps
        saved beside zonal curves, see docs/architecture.md): ``mean``, ``lower``, ``upper`` (field units), ``total``
        (Pg yr-1 for a g m-2 yr-1 rate), ``area`` (m²) and ``n_cells``; NaN for empty bands.
    """
    weight = area_m2.where(field.notnull() & (area_m2 > 0), 0.0).astype("float64")
    x = field.astype("float64").fillna(0.0)
    parts = xr.Dataset({
        "w": weight, "wx": weight * x, "wxx": weight * x * x, "ww": weight * weight,
        "n": (weight > 0).astype("float64"),
    })
    band = band_index(field["lat"], width_deg)
    sums = parts.sum("lon").groupby(band).sum("lat")
    edges = band_edges(width_deg)
    full = xr.Dataset(coords={"band": np.arange(edges.size - 1)})
    sums = sums.reindex(band=full["band"], fill_value=0.0)

    w, wx, wxx, ww, n = (sums[k] for k in ("w", "wx", "wxx", "ww", "n"))
    has_data = w > 0
    mean = (wx / w).where(has_data)
    n_eff = (w * w / ww).where(has_data)
    # Σw(x−μ)² = Σwx² − (Σwx)²/Σw, in float64; clip round-off below zero
    sum_sq = (wxx - wx * wx / w).clip(min=0.0)
    variance = (sum_sq / w * n_eff / (n_eff - 1)).where(n_eff > 1)
    standard_error = np.sqrt(variance / n_eff)
    t_score = xr.apply_ufunc(lambda dof: stats.t.ppf(0.5 + confidence / 2, dof), (n_eff - 1).where(n_eff > 1))
    half_width = t_score * standard_error

    centres = 0.5 * (edges[:-1] + edges[1:])
    units = field.attrs.get("units", "")
    out = xr.Dataset(
        {
            "mean": mean, "lower": mean - half_width, "upper": mean + half_width,
            "total": (wx / G_PER_PG).where(has_data), "area": w, "n_cells": n,
        }
    ).rename(band="lat_band").assign_coords(lat_band=centres)
    out["lat_band"].attrs = {"units": "degrees_north", "long_name": f"centre of {width_deg:g}° latitude band"}
    out["mean"].attrs = {"units": units, "long_name": "area-weighted band mean"}
    out["lower"].attrs = {"units": units, "long_name": f"lower {confidence:.0%} confidence limit of the band mean"}
    out["upper"].attrs = {"units": units, "long_name": f"upper {confidence:.0%} confidence limit of the band mean"}
    out["total"].attrs = {"units": "Pg yr-1", "long_name": "band total"}
    out["area"].attrs = {"units": "m2", "long_name": "valid land area of the band"}
    out.attrs = {"band_width_deg": width_deg, "confidence": confidence}
    return out


def zonal_comparison(model: xr.DataArray, reference: xr.DataArray, area_m2: xr.DataArray,
                     width_deg: float = 5.0, confidence: float = 0.95) -> xr.Dataset:
    """Band statistics of model and reference on the cells valid in both, and the zonal score.

    Both fields must be on the same grid (see :func:`soilbench.analysis.regrid.regrid_field`).
    The zonal score is :func:`soilbench.analysis.scores.profile_log_score` of the band means,
    weighted by the bands' valid land areas: ``exp(-RMS_b(ln m_b/r_b) / SD_b(ln r_b))``. The
    latitudinal contrast SD_b(ln r_b) is the normaliser, so a model that gets only the global
    mean right (any uniform field) scores at most e⁻¹. No uncertainty absorbs errors: the
    confidence interval of a band mean describes the spread of cells within the band, not an
    error of the reference (``docs/scores.md``). Per band, ``score`` is
    ``exp(-|ln m_b/r_b| / SD_b(ln r_b))``, the band's part of the zonal score.

    Returns
    -------
    xr.Dataset
        Variables ``model_<stat>`` and ``reference_<stat>`` for every statistic of
        :func:`zonal_statistics`, ``score`` per band, and ``attrs["zonal_score"]``.
    """
    both = model.notnull() & reference.notnull()
    m = zonal_statistics(model.where(both), area_m2, width_deg, confidence)
    r = zonal_statistics(reference.where(both), area_m2, width_deg, confidence)
    out = xr.merge([m.rename({k: f"model_{k}" for k in m.data_vars}),
                    r.rename({k: f"reference_{k}" for k in r.data_vars})])
    profile, band_scores = scores.profile_log_score(m["mean"].values, r["mean"].values, r["area"].values)
    out["score"] = xr.DataArray(band_scores, dims="lat_band", coords={"lat_band": out["lat_band"]}).where(r["area"] > 0)
    out["score"].attrs = {"units": "1", "long_name": "band score"}
    out.attrs = {**m.attrs, "zonal_score": profile}
    return out


def zonal_score(comparison: xr.Dataset) -> float:
    """The zonal score of :func:`zonal_comparison` (log-space RMS error of the band means over
    the latitudinal contrast); NaN when the model has no band in common with the reference."""
    return float(comparison.attrs["zonal_score"])
