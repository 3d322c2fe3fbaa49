"""Spread among models and among products: coefficients of variation per region (methods.md §6).

The spread across *models* needs every model's result, so it is computed after the run from the
saved per-model tables (``tables/regional_totals.csv`` of every ``global_totals`` task), by
:func:`spread_table`. The spread across *products* per cell is :func:`cv_map`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

#: columns :func:`spread_table` needs in its input
SPREAD_INPUT_COLUMNS = ["label", "role", "region", "value"]


def coefficient_of_variation(values: Sequence[float] | np.ndarray) -> float:
    """Sample standard deviation (ddof=1) over |mean| of the finite values; NaN for fewer than 2."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size < 2 or np.mean(finite) == 0:
        return float("nan")
    return float(np.std(finite, ddof=1) / abs(np.mean(finite)))


def spread_table(per_model_totals: pd.DataFrame) -> pd.DataFrame:
    """Coefficient of variation of regional totals across models and across products.

    Parameters
    ----------
    per_model_totals
        The ``regional_totals`` tables of every model concatenated (columns ``label``, ``role``
        — ``model`` or ``reference`` —, ``region``, ``value``; other columns are ignored).
        References repeat in every model's table; each (label, region) counts once.

    Returns
    -------
    pd.DataFrame
        One row per region: ``n_models``, ``mean_models``, ``sd_models``, ``cv_models``,
        ``n_products``, ``mean_products``, ``sd_products``, ``cv_products`` and
        ``cv_ratio`` = cv_models / cv_products.
    """
    missing = [c for c in SPREAD_INPUT_COLUMNS if c not in per_model_totals.columns]
    if missing:
        raise ValueError(f"spread_table needs columns {SPREAD_INPUT_COLUMNS}; missing {missing}")
    frame = per_model_totals[SPREAD_INPUT_COLUMNS].dropna(subset=["value"])
    frame = frame.drop_duplicates(subset=["label", "role", "region"])
    rows = []
    regions = list(dict.fromkeys(frame["region"]))
    for region in regions:
        row: dict[str, float | str] = {"region": region}
        for role, suffix in (("model", "models"), ("reference", "products")):
            values = frame.loc[(frame["region"] == region) & (frame["role"] == role), "value"].to_numpy(float)
            row[f"n_{suffix}"] = int(values.size)
            row[f"mean_{suffix}"] = float(np.mean(values)) if values.size else float("nan")
            row[f"sd_{suffix}"] = float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
            row[f"cv_{suffix}"] = coefficient_of_variation(values)
        row["cv_ratio"] = (row["cv_models"] / row["cv_products"]
                           if np.isfinite(row["cv_products"]) and row["cv_products"] > 0 else float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def cv_map(fields: Sequence[xr.DataArray]) -> xr.DataArray:
    """Per-cell coefficient of variation across products on one grid (cells valid in all).

    Returns NaN where fewer than two products or a zero mean; dimensionless (not %).
    """
    if len(fields) < 2:
        raise ValueError("a coefficient of variation across products needs at least two products")
    stacked = xr.concat([f.drop_vars("step_days", errors="ignore") for f in fields], dim="product",
                        coords="minimal", compat="override", join="exact")
    valid = stacked.notnull().all("product")
    mean = stacked.mean("product")
    cv = (stacked.std("product", ddof=1) / abs(mean)).where(valid & (mean != 0))
    cv.attrs = {"units": "1", "long_name": "coefficient of variation across products"}
    return cv.rename("cv")
