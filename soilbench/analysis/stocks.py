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
