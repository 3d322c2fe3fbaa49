"""Readers for global-total reference series and tables (Pg C yr-1).

- Digitised series (``hashimoto2015-rh``, ``tang2020-rh``): a ``#DataThief`` header line, then
  ``year, value`` lines (values in Pg C yr-1, read off published figures).
- CMIP6 global totals (``cmip6-rh-global``): ``year, variable, experiment, ensemble, model,
  units, value`` with the value in g yr-1.
- Literature tables shipped with soilbench (``reference_data/literature_<quantity>.csv``):
  ``id, estimate, category, value, lower, upper, uncertainty_kind, period_start, period_end,
  source``; ``category`` is ``data-driven`` or ``models``; ``uncertainty_kind`` tells whether
  lower/upper are ± one SD, a range, or absent (``none``).

Every reader returns tidy pandas objects and raises :class:`SoilbenchError` naming the file and
the line or column at fault.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from soilbench.data import REFERENCE_DIR
from soilbench.errors import SoilbenchError
from soilbench.quantities import G_PER_PG

CMIP6_COLUMNS = ["year", "variable", "experiment", "ensemble", "model", "units", "value"]
LITERATURE_COLUMNS = ["id", "estimate", "category", "value", "lower", "upper", "uncertainty_kind",
                      "period_start", "period_end", "source"]
LITERATURE_CATEGORIES = ("data-driven", "models")
UNCERTAINTY_KINDS = ("sd", "range", "none")
LITERATURE_DIR = REFERENCE_DIR


def read_digitised_series(path: str | os.PathLike) -> pd.Series:
    """A DataThief-digitised series: ``year, value`` lines after an optional ``#`` header.

    Digitised x values near whole years (e.g. 1990.02) are rounded to the year; two points on the
    same year are an error, since the figure then was read twice.

    Returns
    -------
    pd.Series
        Values in Pg yr-1 indexed by integer ``year``, sorted.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    years, values = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            x, y = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            raise SoilbenchError(path, f"line {number} is not 'year, value': {line[:60]!r}") from None
        if abs(x - round(x)) > 0.25:
            raise SoilbenchError(path, f"line {number}: year {x} is not close to a whole year")
        years.append(int(round(x)))
        values.append(y)
    if not years:
        raise SoilbenchError(path, "has no 'year, value' lines")
    series = pd.Series(values, index=pd.Index(years, name="year"), name="value", dtype=float).sort_index()
    duplicated = series.index[series.index.duplicated()]
    if len(duplicated):
        raise SoilbenchError(path, f"has more than one value for year(s) {sorted(set(duplicated))}")
    series.attrs = {"units": "Pg yr-1", "source": str(path)}
    return series


def read_cmip6_global(path: str | os.PathLike, variable: str | None = None) -> pd.DataFrame:
    """CMIP6 global annual totals, converted from g yr-1 to Pg yr-1.

    Parameters
    ----------
    path
        The csv (``year, variable, experiment, ensemble, model, units, value``).
    variable
        Keep only this CMIP variable (``rh``, ``npp``...); all when None.

    Returns
    -------
    pd.DataFrame
        Columns ``year, variable, experiment, ensemble, model, value`` (Pg yr-1).
    """
    table = pd.read_csv(path)
    missing = [c for c in CMIP6_COLUMNS if c not in table.columns]
    if missing:
        raise SoilbenchError(path, f"missing column(s) {missing}; found {list(table.columns)}")
    units = set(table["units"].astype(str))
    if units != {"g yr-1"}:
        raise SoilbenchError(path, f"expected units 'g yr-1', found {sorted(units)}", "units")
    if variable is not None:
        table = table[table["variable"] == variable]
    out = table[["year", "variable", "experiment", "ensemble", "model"]].copy()
    out["value"] = pd.to_numeric(table["value"], errors="coerce") / G_PER_PG
    out.attrs = {"units": "Pg yr-1", "source": str(path)}
    return out.reset_index(drop=True)


def literature_path(quantity: str) -> Path:
    """Where the literature table of ``quantity`` (``rh`` or ``rs``) is shipped."""
    return LITERATURE_DIR / f"literature_{quantity}.csv"


def read_literature_table(path: str | os.PathLike) -> pd.DataFrame:
    """A literature table of global totals, with each estimate's uncertainty as a half-width.

    Returns
    -------
    pd.DataFrame
        The table's columns plus ``half_width`` (Pg yr-1): one SD for ``sd`` rows, half the
        range for ``range`` rows (for ``range`` rows without a best value, ``value`` is set to
        the range's midpoint and ``value_is_midpoint`` is True), 0 for ``none``.
    """
    text = Path(path).read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    missing = [c for c in LITERATURE_COLUMNS if c not in table.columns]
    if missing:
        raise SoilbenchError(path, f"missing column(s) {missing}; found {list(table.columns)}")
    for column, allowed in (("category", LITERATURE_CATEGORIES), ("uncertainty_kind", UNCERTAINTY_KINDS)):
        bad = sorted(set(table[column].astype(str)) - set(allowed))
        if bad:
            raise SoilbenchError(path, f"unknown value(s) {bad}; allowed: {list(allowed)}", column)
    for column in ("value", "lower", "upper"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    bounded = table["lower"].notna() & table["upper"].notna()
    if (table.loc[bounded, "lower"] > table.loc[bounded, "upper"]).any():
        raise SoilbenchError(path, "a row has lower > upper", "lower")
    needs_bounds = table["uncertainty_kind"].isin(["sd", "range"]) & ~bounded
    if needs_bounds.any():
        raise SoilbenchError(path, f"rows {list(table.loc[needs_bounds, 'id'])} need lower and upper", "uncertainty_kind")
    midpoint = table["value"].isna() & bounded
    table["value_is_midpoint"] = midpoint
    table.loc[midpoint, "value"] = (table.loc[midpoint, "lower"] + table.loc[midpoint, "upper"]) / 2
    half = np.where(bounded, (table["upper"] - table["lower"]) / 2, 0.0)
    if table["value"].isna().any():
        raise SoilbenchError(path, f"rows {list(table.loc[table['value'].isna(), 'id'])} have neither value nor range", "value")
    table["half_width"] = half
    table.attrs = {"units": "Pg yr-1", "source": str(path)}
    return table
