"""Soil carbon stock patterns (methods.md §10, [004]).

[004] compares the spatial pattern of soil organic carbon between models as the correlation of
log-transformed SOC over cells (r = −0.026 between CLM5 and COMPAS with ad hoc parameters, 0.51
after data assimilation). Logarithms because SOC spans three orders of magnitude from deserts to
peatlands: on a linear scale a few peat cells decide the correlation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.analysis.taylor import taylor_statistics


def log_field(stock_kg_m2: xr.DataArray) -> xr.DataArray:
    """ln(stock) where the stock is positive; NaN elsewhere (no carbon has no logarithm)."""
    return np.log(stock_kg_m2.where(stock_kg_m2 > 0))


def log_pattern_correlations(stocks_kg_m2: Mapping[str, xr.DataArray],
                             weights: xr.DataArray | float = 1.0) -> pd.DataFrame:
    """Matrix of log-SOC pattern correlations between every pair of fields (same grid).

    Each pair is correlated over the cells where both stocks are positive, with ``weights``
    (area × land fraction for area-weighted moments; 1 for [004]'s cell-count weighting). The
    diagonal is 1 for any field with spatial variation.
    """
    names = list(stocks_kg_m2)
    logs = {name: log_field(stocks_kg_m2[name]) for name in names}
    matrix = pd.DataFrame(np.nan, index=pd.Index(names, name="field"), columns=names)
    for i, a in enumerate(names):
        for b in names[i:]:
            r = taylor_statistics(logs[a], logs[b], weights)["correlation"]
            matrix.loc[a, b] = matrix.loc[b, a] = r
    return matrix


# -- scores of soil carbon stocks --------------------------------------------------------------
#: a band (or a cell) off by this factor scores e⁻¹ in the zonal score: ln(1.25)
ZONAL_LOG_SCALE = float(np.log(1.25))
#: Taylor (2001) score exponent: (1 + R)^4 makes an uncorrelated pattern score 1/16, not ILAMB's 1/2
TAYLOR_EXPONENT = 4
#: ln-spread of global estimates when fewer than two independent ones are given (a factor of 1.25)
FALLBACK_LOG_SPREAD = ZONAL_LOG_SCALE


def log_ratio_score(model: float | np.ndarray | xr.DataArray, reference: float | np.ndarray | xr.DataArray,
                    scale: float) -> float | np.ndarray | xr.DataArray:
    """``exp(−|ln(model / reference)| / scale)``: a factor k too high or too low scores alike.

    No carbon where the reference has some scores 0 (the limit of the formula), never NaN.
    NaN where the reference itself is not positive (nothing to compare with).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.asarray(model, dtype=float) / np.asarray(reference, dtype=float))
        score = np.exp(-np.abs(ratio) / scale)
    score = np.where(np.asarray(model, dtype=float) <= 0, 0.0, score)
    score = np.where(np.asarray(reference, dtype=float) > 0, score, np.nan)
    if isinstance(model, xr.DataArray):
        return model.copy(data=score)
    return float(score) if np.ndim(score) == 0 else score


def log_spread(estimates_pg: list[float], fallback: float = FALLBACK_LOG_SPREAD) -> float:
    """Sample SD (ddof=1) of ln(estimate) over independent positive estimates of a global stock.

    On the log scale because the global-total score is a log ratio. ``fallback`` when fewer than
    two estimates (or all equal).
    """
    values = np.asarray([v for v in estimates_pg if v is not None and np.isfinite(v) and v > 0], dtype=float)
    if values.size < 2:
        return float(fallback)
    spread = float(np.std(np.log(values), ddof=1))
    return spread if spread > 0 else float(fallback)


def taylor2001_score(correlation: float, std_ratio: float, exponent: int = TAYLOR_EXPONENT) -> float:
    """Taylor (2001, eq. 5) skill ``4(1+R)^n / ((σ̂ + 1/σ̂)² 2^n)``: 1 for a perfect pattern.

    With n = 4 an uncorrelated field of the right variability scores 1/16 and R = 0.5 scores 0.32;
    ILAMB's n = 1 gives an uncorrelated (e.g. spatially shuffled) field 0.5. A spatially
    uniform field (σ̂ = 0, R undefined) scores 0.
    """
    if not np.isfinite(std_ratio) or std_ratio <= 0:
        return 0.0 if std_ratio == 0 else float("nan")
    if not np.isfinite(correlation):
        return float("nan")
    return float(4.0 * (1.0 + correlation) ** exponent / ((std_ratio + 1.0 / std_ratio) ** 2 * 2.0 ** exponent))


def coverage(model_kg_m2: xr.DataArray, reference_kg_m2: xr.DataArray, area_m2: xr.DataArray) -> float:
    """Fraction of the reference's carbon-bearing land area where the model has carbon too.

    Cells the reference has and the model lacks (no value, or no carbon) are not left out of
    the pattern scores silently: the scores are multiplied by this fraction.
    """
    has_reference = (reference_kg_m2 > 0) & (area_m2 > 0)
    total = float(area_m2.where(has_reference, 0.0).sum())
    if total <= 0:
        return float("nan")
    return float(area_m2.where(has_reference & (model_kg_m2 > 0), 0.0).sum()) / total


def log_taylor(model_kg_m2: xr.DataArray, reference_kg_m2: xr.DataArray, area_m2: xr.DataArray) -> dict[str, float]:
    """Taylor statistics of ln(SOC) (area-weighted, cells where both stocks are positive), the
    coverage of the reference's land and the spatial-distribution score:
    :func:`taylor2001_score` × coverage (0 when no cell is comparable)."""
    stats = taylor_statistics(log_field(model_kg_m2), log_field(reference_kg_m2), area_m2)
    covered = coverage(model_kg_m2, reference_kg_m2, area_m2)
    if stats["n_cells"] < 2 or not np.isfinite(covered):
        pattern = 0.0 if np.isfinite(covered) else float("nan")
    else:
        pattern = taylor2001_score(stats["correlation"], stats["std_ratio"])
        if stats["std_model"] == 0:
            pattern = 0.0
    return {**stats, "coverage": covered, "score": pattern * covered if np.isfinite(pattern) else pattern}


def zonal_log_comparison(model_kg_m2: xr.DataArray, reference_kg_m2: xr.DataArray, area_m2: xr.DataArray,
                         width_deg: float = 5.0, scale: float = ZONAL_LOG_SCALE) -> xr.Dataset:
    """Band means of the stock (area-weighted, :func:`soilbench.analysis.zonal.zonal_statistics`)
    and band scores ``exp(−|ln(m_b / r_b)| / scale)`` × the band's coverage.

    Reference bands use every cell where the reference has a value; model bands the same cells
    where the model has one too. The coverage (model-valid area over reference area in the band)
    makes missing model land count as wrong, not as absent.
    """
    from soilbench.analysis import zonal

    reference_valid = reference_kg_m2.notnull()
    reference = zonal.zonal_statistics(reference_kg_m2, area_m2, width_deg)
    model = zonal.zonal_statistics(model_kg_m2.where(reference_valid), area_m2, width_deg)
    band_coverage = (model["area"] / reference["area"]).where(reference["area"] > 0)
    band_score = xr.DataArray(log_ratio_score(model["mean"].fillna(0.0).values, reference["mean"].values, scale),
                              coords=reference["mean"].coords, dims=reference["mean"].dims)
    out = xr.Dataset({
        "model_mean": model["mean"], "reference_mean": reference["mean"],
        "reference_area": reference["area"], "coverage": band_coverage.fillna(0.0).where(reference["area"] > 0),
        "score": (band_score * band_coverage.fillna(0.0)).where(reference["area"] > 0),
    })
    out.attrs = {"band_width_deg": width_deg, "log_scale": scale}
    return out


def zonal_log_score(comparison: xr.Dataset) -> float:
    """Band scores of :func:`zonal_log_comparison` averaged with the reference bands' areas as weights."""
    weights = comparison["reference_area"].where(comparison["score"].notnull(), 0.0)
    total = float(weights.sum())
    return float((comparison["score"].fillna(0.0) * weights).sum()) / total if total > 0 else float("nan")


# -- the fixed grid of the cross-model matrix --------------------------------------------------
def regular_grid(resolution_deg: float) -> xr.Dataset:
    """A global regular grid (cell centres, ``cell_area`` in m² on the sphere) for comparing many models."""
    from soilbench.geometry import EARTH_RADIUS_M

    n_lat, n_lon = int(round(180.0 / resolution_deg)), int(round(360.0 / resolution_deg))
    lat_edges, lon_edges = np.linspace(-90.0, 90.0, n_lat + 1), np.linspace(-180.0, 180.0, n_lon + 1)
    band = np.diff(np.sin(np.deg2rad(lat_edges)))[:, None] * np.deg2rad(np.diff(lon_edges))[None, :]
    lat, lon = 0.5 * (lat_edges[:-1] + lat_edges[1:]), 0.5 * (lon_edges[:-1] + lon_edges[1:])
    area = xr.DataArray(band * EARTH_RADIUS_M**2, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                        attrs={"units": "m2", "long_name": "grid cell area"})
    return xr.Dataset({"cell_area": area})


def cell_weights(grid: xr.Dataset | xr.DataArray) -> xr.DataArray:
    """Weights ∝ cell area on a regular latitude–longitude grid (cos latitude)."""
    lat, lon = grid["lat"], grid["lon"]
    return (np.cos(np.deg2rad(lat)) * xr.ones_like(lon, dtype=float)).transpose("lat", "lon")


def matrix_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """A square matrix as a table of the ``matrix`` plot kind: column ``label``, then one per label."""
    out = matrix.copy()
    out.index.name = "label"
    return out.reset_index()
