"""Soil carbon turnover time τ = csoil / rh: maps, global and zonal values, bias and attribution.

Pure functions on canonical fields (``csoil`` in kg m-2, ``rh`` in g m-2 yr-1, areas in m²;
see ``docs/architecture.md``); ``docs/turnover.md`` explains the choices. In short:

- per cell τ is masked where rh is negligible (default ≤ 10 g m-2 yr-1 = 0.01 kg m-2 yr-1) and
  outside 1–10⁴ yr, because a ratio with a near-zero denominator is noise, not a turnover time;
- global and zonal τ are ratios of area-weighted totals, Σ C·A / Σ Rh·A (ESMValTool sums per-cell
  values without areas, which weights polar cells like tropical ones — not done here);
- the bias is the log ratio ln(τm/τo) = ln(Cm/Co) − ln(Rm/Ro), split exactly into a stock term and
  a respiration term; the term with the larger magnitude "dominates" the cell.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from soilbench.analysis import scores, zonal
from soilbench.analysis.integrate import area_sum

#: rh at or below this is "negligible" and gives no turnover time (g m-2 yr-1)
RH_THRESHOLD_G_M2_YR = 10.0
#: plausible per-cell turnover times (yr); outside this the ratio is a data artefact
TAU_RANGE_YR = (1.0, 1.0e4)
G_PER_KG = 1000.0
ArrayLikeXr = float | np.ndarray | xr.DataArray
ZONAL_BAND_DEG = 5.0

#: attribution categories: which term of ln(τm/τo) = ln(Cm/Co) − ln(Rm/Ro) is larger, and its sign
ATTRIBUTION_CATEGORIES: dict[int, str] = {
    0: "soil C dominates, model C lower",
    1: "soil C dominates, model C higher",
    2: "Rh dominates, model Rh higher",
    3: "Rh dominates, model Rh lower",
}
RH_DOMINATED_CODES = (2, 3)


def soil_turnover_time(
    csoil_kg_m2: xr.DataArray,
    rh_g_m2_yr: xr.DataArray,
    rh_threshold_g_m2_yr: float = RH_THRESHOLD_G_M2_YR,
    tau_range_yr: tuple[float, float] = TAU_RANGE_YR,
) -> xr.DataArray:
    """Per-cell soil carbon turnover time ``τ = csoil / rh`` in years.

    Parameters
    ----------
    csoil_kg_m2
        Soil carbon (including litter where the model has it), kg C m-2.
    rh_g_m2_yr
        Heterotrophic respiration, g C m-2 yr-1.
    rh_threshold_g_m2_yr
        Cells with rh at or below this are masked (NaN): negligible respiration.
    tau_range_yr
        Cells whose τ falls outside ``[low, high]`` are masked.

    Returns
    -------
    xr.DataArray
        ``tau_soil`` in yr, NaN where masked or where either input is missing.
    """
    rh_kg_m2_yr = rh_g_m2_yr / G_PER_KG
    tau_yr = csoil_kg_m2 / rh_kg_m2_yr.where(rh_g_m2_yr > rh_threshold_g_m2_yr)
    low, high = tau_range_yr
    tau_yr = tau_yr.where((tau_yr >= low) & (tau_yr <= high))
    tau_yr.name = "tau_soil"
    tau_yr.attrs = {"units": "yr", "long_name": "soil carbon turnover time, csoil / rh"}
    return tau_yr


def global_turnover_time(
    csoil_kg_m2: xr.DataArray,
    rh_g_m2_yr: xr.DataArray,
    area_m2: xr.DataArray,
    mask: xr.DataArray | None = None,
) -> float:
    """Area-weighted global turnover time ``Σ C·A / Σ Rh·A`` in years.

    Sums run over cells where both fields are finite, the area is positive and ``mask`` (if
    given) is true, so stock and flux always cover the same cells.
    """
    valid = csoil_kg_m2.notnull() & rh_g_m2_yr.notnull() & (area_m2 > 0)
    if mask is not None:
        valid = valid & mask
    stock_kg = float(area_sum(csoil_kg_m2.where(valid), area_m2))
    flux_kg_yr = float(area_sum((rh_g_m2_yr / G_PER_KG).where(valid), area_m2))
    return stock_kg / flux_kg_yr if flux_kg_yr > 0 else float("nan")


def zonal_band_edges(band_width_deg: float = ZONAL_BAND_DEG) -> np.ndarray:
    """Band edges from −90 to 90 (shared with :mod:`soilbench.analysis.zonal`)."""
    return zonal.band_edges(band_width_deg)


def zonal_turnover_time(
    csoil_kg_m2: xr.DataArray,
    rh_g_m2_yr: xr.DataArray,
    area_m2: xr.DataArray,
    mask: xr.DataArray | None = None,
    band_width_deg: float = ZONAL_BAND_DEG,
) -> xr.DataArray:
    """Turnover time per latitude band, ``Σ C·A / Σ Rh·A`` within each band (yr).

    Returns a 1-D array over ``lat_band`` (band centres, degrees_north); bands without valid
    cells are NaN. The dimension is not called ``lat`` so that zonal curves can live in the
    same dataset as maps.
    """
    valid = csoil_kg_m2.notnull() & rh_g_m2_yr.notnull() & (area_m2 > 0)
    if mask is not None:
        valid = valid & mask
    edges = zonal_band_edges(band_width_deg)
    centres = 0.5 * (edges[1:] + edges[:-1])
    stock = (csoil_kg_m2 * area_m2).where(valid).sum("lon")
    flux = (rh_g_m2_yr / G_PER_KG * area_m2).where(valid).sum("lon")
    # the bands of zonal.band_index (the last one closed at +90, so a cell on the pole counts)
    band = zonal.band_index(stock["lat"], band_width_deg).values
    index = xr.DataArray(centres[band], dims="lat", coords={"lat": stock["lat"]})
    stock_band = stock.groupby(index.rename("lat_band")).sum()
    flux_band = flux.groupby(index.rename("lat_band")).sum()
    tau_yr = (stock_band / flux_band.where(flux_band > 0)).reindex(lat_band=centres)
    tau_yr.name = "tau_soil_zonal"
    tau_yr["lat_band"].attrs = {"units": "degrees_north", "long_name": f"centre of {band_width_deg:g}° band"}
    tau_yr.attrs = {"units": "yr", "long_name": "zonal soil carbon turnover time"}
    return tau_yr


# -- observed turnover ------------------------------------------------------------------------

def observed_turnover(
    stocks_kg_m2: Mapping[str, xr.DataArray],
    fluxes_g_m2_yr: Mapping[str, xr.DataArray],
    rh_threshold_g_m2_yr: float = RH_THRESHOLD_G_M2_YR,
    tau_range_yr: tuple[float, float] = TAU_RANGE_YR,
) -> xr.Dataset:
    """Observed τ for every stock × Rh product combination, all on one grid.

    The first stock and the first flux make the central estimate (put the merged HWSD/NCSCD
    stock and the preferred Rh product first); the others give the spread.

    Returns
    -------
    xr.Dataset
        ``tau_soil(combination, lat, lon)``, ``csoil(stock, lat, lon)``, ``rh(flux, lat, lon)``,
        with the combination labels ``"<stock> / <flux>"`` and ``combination_stock`` /
        ``combination_flux`` coordinates; ``attrs["central"]`` names the central combination.
    """
    if not stocks_kg_m2 or not fluxes_g_m2_yr:
        raise ValueError("observed turnover needs at least one stock and one Rh product")
    stock_names, flux_names = list(stocks_kg_m2), list(fluxes_g_m2_yr)
    taus, labels, pair_stock, pair_flux = [], [], [], []
    for s in stock_names:
        for f in flux_names:
            taus.append(soil_turnover_time(stocks_kg_m2[s], fluxes_g_m2_yr[f], rh_threshold_g_m2_yr, tau_range_yr))
            labels.append(f"{s} / {f}")
            pair_stock.append(s)
            pair_flux.append(f)
    tau = xr.concat(taus, dim="combination").assign_coords(
        combination=labels, combination_stock=("combination", pair_stock), combination_flux=("combination", pair_flux)
    )
    csoil = xr.concat([stocks_kg_m2[s] for s in stock_names], dim="stock").assign_coords(stock=stock_names)
    rh = xr.concat([fluxes_g_m2_yr[f] for f in flux_names], dim="flux").assign_coords(flux=flux_names)
    return xr.Dataset({"tau_soil": tau, "csoil": csoil, "rh": rh}, attrs={"central": labels[0]})


def observed_global_turnover(
    observed: xr.Dataset, area_m2: xr.DataArray, mask: xr.DataArray | None = None
) -> dict[str, float]:
    """Global τ (yr) of every combination in :func:`observed_turnover`'s output, on ``mask``."""
    out = {}
    for label in observed["combination"].values:
        pair = observed.sel(combination=label)
        out[str(label)] = global_turnover_time(
            observed["csoil"].sel(stock=pair["combination_stock"].item()),
            observed["rh"].sel(flux=pair["combination_flux"].item()),
            area_m2,
            mask,
        )
    return out


def observed_zonal_turnover(
    observed: xr.Dataset, area_m2: xr.DataArray, mask: xr.DataArray | None = None,
    band_width_deg: float = ZONAL_BAND_DEG,
) -> xr.DataArray:
    """Zonal τ (yr) per combination: ``(combination, lat_band)``."""
    curves = []
    for label in observed["combination"].values:
        pair = observed.sel(combination=label)
        curves.append(zonal_turnover_time(
            observed["csoil"].sel(stock=pair["combination_stock"].item()),
            observed["rh"].sel(flux=pair["combination_flux"].item()),
            area_m2, mask, band_width_deg,
        ))
    return xr.concat(curves, dim="combination").assign_coords(combination=observed["combination"].values)


# -- bias, attribution and scores -------------------------------------------------------------

def log_ratio(model: xr.DataArray, reference: xr.DataArray) -> xr.DataArray:
    """``ln(model / reference)``; NaN unless both are positive."""
    ok = (model > 0) & (reference > 0)
    return np.log(model.where(ok) / reference.where(ok))


def attribute_bias(
    csoil_model_kg_m2: xr.DataArray,
    rh_model_g_m2_yr: xr.DataArray,
    csoil_obs_kg_m2: xr.DataArray,
    rh_obs_g_m2_yr: xr.DataArray,
    mask: xr.DataArray | None = None,
) -> xr.Dataset:
    """Split the log turnover bias per cell into a stock and a respiration term.

    ``ln(τm/τo) = ln(Cm/Co) − ln(Rm/Ro)``, exactly, on cells where all four fields are positive
    (and ``mask``). The term with the larger magnitude dominates the cell.

    Returns
    -------
    xr.Dataset
        ``log_tau_ratio``, ``log_csoil_ratio`` (ln Cm/Co), ``log_rh_ratio`` (ln Rm/Ro) and
        ``attribution`` (codes of :data:`ATTRIBUTION_CATEGORIES`, NaN where undefined).
    """
    log_c = log_ratio(csoil_model_kg_m2, csoil_obs_kg_m2)
    log_r = log_ratio(rh_model_g_m2_yr, rh_obs_g_m2_yr)
    valid = log_c.notnull() & log_r.notnull()
    if mask is not None:
        valid = valid & mask
    log_c, log_r = log_c.where(valid), log_r.where(valid)
    log_tau = log_c - log_r
    stock_dominates = np.abs(log_c) >= np.abs(log_r)
    code = xr.where(
        stock_dominates,
        xr.where(log_c < 0, 0, 1),
        xr.where(log_r > 0, 2, 3),
    ).astype(float).where(valid)
    return xr.Dataset({
        "log_tau_ratio": log_tau.assign_attrs(units="1", long_name="ln(tau_model / tau_observed)"),
        "log_csoil_ratio": log_c.assign_attrs(units="1", long_name="ln(csoil_model / csoil_observed)"),
        "log_rh_ratio": log_r.assign_attrs(units="1", long_name="ln(rh_model / rh_observed)"),
        "attribution": code.assign_attrs(
            units="1", long_name="dominant term of the turnover-time bias",
            categories=";".join(f"{k}:{v}" for k, v in ATTRIBUTION_CATEGORIES.items()),
        ),
    })


def rh_dominated_share(attribution: xr.DataArray, area_m2: xr.DataArray,
                       region: xr.DataArray | None = None) -> float:
    """Area share (0–1) of attributed cells where the respiration term dominates."""
    weights = area_m2.where(attribution.notnull(), 0.0)
    if region is not None:
        weights = weights.where(region, 0.0)
    total = float(weights.sum())
    rh_dom = float(weights.where(attribution.isin(list(RH_DOMINATED_CODES)), 0.0).sum())
    return rh_dom / total if total > 0 else float("nan")


def tau_bias_score(
    tau_model_yr: ArrayLikeXr,
    tau_obs_yr: ArrayLikeXr,
) -> ArrayLikeXr:
    """Bias score of τ: ``min(τm, τo) / max(τm, τo)`` = ``exp(−|ln(τm/τo)|)``.

    τ is a ratio, so its error is a factor: ×2 and ÷2 both score 0.5, ×1.1 scores 0.91 (ILAMB's
    ``exp(−|τm − τo| / τo)`` gives 0.905 there, but e⁻¹ to a model with no stock and 0.61 to one
    with half the turnover time). The spread of observed τ across stock × Rh combinations is
    reported beside the score, not absorbed: a tolerance band would give every model inside it
    the reference's own score, so a bias ladder could not fall (``docs/scores.md``).
    """
    return scores.ratio_score(tau_model_yr, tau_obs_yr)
