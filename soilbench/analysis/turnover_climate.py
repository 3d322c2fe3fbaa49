"""Turnover time against climate: τ by climate group and latitude, and τ against temperature.

Pure functions on canonical fields (``csoil`` kg m-2, ``rh`` g m-2 yr-1, temperatures °C, areas
m²); ``docs/turnover.md`` ("Turnover against climate") explains the choices. In short:

- a region's τ is the ratio of its totals, Σ C·A / Σ Rh·A (as the global τ), and a set of
  regions (the Köppen groups, the latitude bands) is scored as a profile in log space
  (:func:`soilbench.analysis.scores.profile_log_score`): the error over the observed contrast
  between the regions, so any uniform τ scores at most e⁻¹;
- τ against temperature is binned on log10 τ (τ spans orders of magnitude; Koven et al. 2017
  and ILAMB's ``ConfSoilCarbon`` fit log10 τ), so each bin holds the geometric mean of its cells'
  τ with the back-transformed t-interval;
- the apparent Q10 of the decomposition rate 1/τ at a temperature is ILAMB's, from the quadratic
  fit of log10 τ on temperature: Q10(T) = 10^(−10 · d log10 τ / dT)
  (:func:`soilbench.analysis.responses.fit_turnover_curve`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.analysis import responses, scores
from soilbench.analysis import turnover as tau

#: temperatures (°C) at which ILAMB's ConfSoilCarbon reports the Q10 of 1/τ
Q10_TEMPERATURES_DEGC = (-10.0, 10.0, 25.0)
#: columns of :func:`binned_turnover` (``mean`` and its interval in yr; ``sd_log10`` of log10 τ)
BINNED_TAU_COLUMNS = ["bin_lower", "bin_upper", "bin_centre", "n", "mean", "sd_log10", "ci_lower", "ci_upper"]


def regional_turnover(csoil_kg_m2: xr.DataArray, rh_g_m2_yr: xr.DataArray, area_m2: xr.DataArray,
                      regions: Mapping[str, xr.DataArray], cells: xr.DataArray) -> pd.DataFrame:
    """τ (yr) of each region, Σ C·A / Σ Rh·A over ``cells`` in it, and the area it covers (m²).

    One row per region in the order given (``region``, ``tau``, ``area_m2``); a region without a
    cell has NaN τ and area 0.
    """
    rows = []
    for name, mask in regions.items():
        sel = cells & mask
        area = float(area_m2.where(sel & csoil_kg_m2.notnull() & rh_g_m2_yr.notnull(), 0.0).sum())
        rows.append({"region": name, "tau": tau.global_turnover_time(csoil_kg_m2, rh_g_m2_yr, area_m2, sel),
                     "area_m2": area})
    return pd.DataFrame(rows, columns=["region", "tau", "area_m2"])


def region_profile(model: pd.DataFrame, observed: pd.DataFrame, observed_anywhere: pd.DataFrame
                   ) -> tuple[float, pd.DataFrame]:
    """Score of τ over a set of regions, and each region's τ and part of the score.

    ``model`` and ``observed`` are :func:`regional_turnover` on the cells where both have τ;
    ``observed_anywhere`` on the cells where the observations have τ and the model has land. The
    score is ``exp(−RMS_r(ln τm/τo) / SD_r(ln τo))`` weighted by the regions' areas, and per region
    ``exp(−|ln τm/τo| / SD_r(ln τo))`` (:func:`soilbench.analysis.scores.profile_log_score`). A
    region where the observations have τ on the model's land but the model has none counts as a
    100-fold error (the profile score's cap) with the observed τ and area, so a model cannot gain
    by leaving a region out.

    Returns
    -------
    (score, table)
        The profile score (NaN without any region) and one row per region: ``region``,
        ``tau_model``, ``tau_observed``, ``area_m2``, ``score``.
    """
    both = model["area_m2"].to_numpy(float) > 0
    anywhere = observed_anywhere["area_m2"].to_numpy(float) > 0
    lost = anywhere & ~both
    m = np.where(both, model["tau"].to_numpy(float), np.where(lost, 0.0, np.nan))
    o = np.where(both, observed["tau"].to_numpy(float), observed_anywhere["tau"].to_numpy(float))
    w = np.where(both, observed["area_m2"].to_numpy(float), observed_anywhere["area_m2"].to_numpy(float))
    score, parts = scores.profile_log_score(m, o, w)
    table = pd.DataFrame({"region": model["region"].to_numpy(), "tau_model": np.where(lost, np.nan, m),
                          "tau_observed": np.where(both | anywhere, o, np.nan), "area_m2": w, "score": parts})
    return score, table


def binned_turnover(temperature_degC: np.ndarray, tau_yr: np.ndarray, edges: np.ndarray,
                    confidence: float = 0.95) -> pd.DataFrame:
    """τ in bins of temperature: the geometric mean per bin with its t-interval (yr).

    :func:`soilbench.analysis.responses.binned_response` of log10 τ, back-transformed: ``mean``
    = 10^(mean log10 τ), ``ci_lower``/``ci_upper`` = 10^(its t-interval), ``sd_log10`` the SD of
    log10 τ in the bin. Cells without a positive τ are left out.
    """
    t = np.asarray(temperature_degC, dtype=float).ravel()
    values = np.asarray(tau_yr, dtype=float).ravel()
    positive = np.isfinite(values) & (values > 0)
    log_tau = np.full(values.shape, np.nan)
    log_tau[positive] = np.log10(values[positive])
    binned = responses.binned_response(t, log_tau, edges, confidence=confidence)
    out = binned.rename(columns={"sd": "sd_log10"})
    for column in ("mean", "ci_lower", "ci_upper"):
        out[column] = 10.0 ** out[column]
    return out[BINNED_TAU_COLUMNS]


def turnover_q10(temperature_degC: np.ndarray, tau_yr: np.ndarray,
                 at_degC: Sequence[float] = Q10_TEMPERATURES_DEGC) -> dict[str, float]:
    """ILAMB's apparent Q10 of 1/τ at ``at_degC`` from the quadratic fit of log10 τ on temperature.

    Returns ``Q10 at <T> degC`` per temperature, the fit's ``n`` cells, its ``residual sd log10``
    and the temperature range of the cells (``T min``/``T max``: a Q10 outside it is an
    extrapolation of the quadratic). NaN values when the fit needs more cells.
    """
    t = np.asarray(temperature_degC, dtype=float).ravel()
    values = np.asarray(tau_yr, dtype=float).ravel()
    keep = np.isfinite(t) & np.isfinite(values) & (values > 0)
    out: dict[str, float] = {f"Q10 at {x:+g} degC": float("nan") for x in at_degC}
    out.update({"n": float(keep.sum()), "residual sd log10": float("nan"),
                "T min": float(t[keep].min()) if keep.any() else float("nan"),
                "T max": float(t[keep].max()) if keep.any() else float("nan")})
    try:
        curve = responses.fit_turnover_curve(t[keep], values[keep])
    except ValueError:
        return out
    for x, q in zip(at_degC, curve.q10_at(np.asarray(at_degC, dtype=float))):
        out[f"Q10 at {x:+g} degC"] = float(q)
    out["residual sd log10"] = curve.residual_sd_log10
    return out


def temperature_edges(range_degC: Sequence[float], width_degC: float) -> np.ndarray:
    """Bin edges from ``range_degC[0]`` to ``range_degC[1]`` every ``width_degC``."""
    low, high = (float(x) for x in range_degC)
    n = int(round((high - low) / width_degC))
    return low + width_degC * np.arange(n + 1)
