"""Models given only as series of annual global totals (Pg C yr-1), as TRENDY and CMIP summaries are shared.

Two layouts of a CSV file are read (``docs/running.md``, "Models given as global series"):

- **one model per file**: columns ``year, value, units`` (one unit for every row, e.g.
  ``Pg C yr-1``, ``g yr-1``; any mass per time); an optional ``variable`` column must then be
  ``rh`` on every row. The model is named after the file (its stem).
- **an ensemble table** in the CMIP6 layout (``year, variable, experiment, ensemble, model,
  units, value``, the layout of the registered ``cmip6-rh-global``): one model per model and
  ensemble member (``CESM2 r1i1p1f1``; the experiment is added when the table holds several),
  from the rows whose ``variable`` is ``rh``.

Such a model is a small dataset, not a canonical grid: the variable ``rh_pg_yr`` over ``year``
and ``attrs["global_series"] = 1`` (:func:`is_global_series`). Only confrontation types that
read such series (``Confrontation.reads_global_series``, the ``global_series`` type) apply to
it; every other type says "not applicable" with the reason.

Guards at the boundary: a missing column, a value or year that is not a number, a unit that is
not a mass per time, two units in one file, and years that are not strictly increasing within a
model are :class:`SoilbenchError` s naming the file, the column and the line.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.quantities import FLUX_TOTAL_UNITS

#: the dataset attribute that marks a model given as global series
GLOBAL_SERIES_ATTR = "global_series"
#: the variable of a series model: annual global Rh in Pg C yr-1
SERIES_VARIABLE = "rh_pg_yr"
#: the quantity a series file must hold (the ``variable`` column)
SERIES_QUANTITY = "rh"
SINGLE_COLUMNS = ("year", "value", "units")
ENSEMBLE_COLUMNS = ("year", "variable", "experiment", "ensemble", "model", "units", "value")
#: suffixes read as series models by ``--models``
SERIES_SUFFIXES = (".csv",)
MAX_BYTES = 50_000_000  # a table of global totals is small; a larger file is something else


def is_global_series(model: xr.Dataset) -> bool:
    """Whether a loaded model is a series of annual global totals (not a grid)."""
    return bool(int(model.attrs.get(GLOBAL_SERIES_ATTR, 0) or 0))


def _header(path: Path) -> list[str]:
    if not path.is_file():
        raise SoilbenchError(path, "series file not found")
    if path.stat().st_size > MAX_BYTES:
        raise SoilbenchError(path, f"is larger than {MAX_BYTES // 1_000_000} MB; a table of annual global totals "
                                   "is much smaller")
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle):
            if row and not row[0].lstrip().startswith("#"):
                return [c.strip().strip('"').lower() for c in row]
    raise SoilbenchError(path, "is empty: expected a header 'year, value, units' or the CMIP6 layout "
                               f"'{', '.join(ENSEMBLE_COLUMNS)}'")


def layout(path: str | os.PathLike) -> str:
    """``"ensemble"`` (CMIP6 layout) or ``"single"`` (``year, value, units``); an error otherwise."""
    path = Path(path)
    columns = _header(path)
    if all(c in columns for c in ENSEMBLE_COLUMNS):
        return "ensemble"
    missing = [c for c in SINGLE_COLUMNS if c not in columns]
    if missing:
        raise SoilbenchError(path, f"missing column(s) {missing} (found {columns}): a series model needs "
                                   f"'year, value, units' or the CMIP6 layout '{', '.join(ENSEMBLE_COLUMNS)}'",
                             missing[0])
    return "single"


def _read(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True)
    table.columns = [str(c).strip().lower() for c in table.columns]
    table["_line"] = np.arange(len(table)) + 2  # the header is line 1 (comment lines before it aside)
    return table


def _numbers(table: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(table[column].str.strip(), errors="coerce")
    bad = values.isna() | ~np.isfinite(values.astype(float))
    if bad.any():
        row = table[bad].iloc[0]
        raise SoilbenchError(path, f"line {row['_line']}: {column} {row[column]!r} is not a number", column)
    return values.astype(float)


def _to_pg_per_year(units: pd.Series, table: pd.DataFrame, path: Path) -> float:
    """The factor from the file's one unit to Pg yr-1; a unit that is not a mass per time is an error."""
    from soilbench.load.units import factor

    found = sorted(set(units.str.strip()))
    if len(found) != 1 or not found[0]:
        raise SoilbenchError(path, f"needs one unit for every row (e.g. 'Pg C yr-1'); found {found}", "units")
    try:
        return factor(found[0], FLUX_TOTAL_UNITS)
    except Exception:  # noqa: BLE001 - pint's many error types: the unit is what is wrong
        raise SoilbenchError(path, f"unit {found[0]!r} is not a mass per time (e.g. 'Pg C yr-1', 'g yr-1')",
                             "units") from None


def _series(years: pd.Series, values: pd.Series, lines: pd.Series, path: Path, what: str) -> pd.Series:
    """Values on strictly increasing whole years; a gap is allowed, a repeat or a step back is not."""
    if (years != np.round(years)).any():
        line = int(lines[years != np.round(years)].iloc[0])
        raise SoilbenchError(path, f"line {line}: year is not a whole number{what}", "year")
    steps = np.diff(years.to_numpy())
    if (steps <= 0).any():
        at = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise SoilbenchError(path, f"line {int(lines.iloc[at])}: year {int(years.iloc[at])} does not follow "
                                   f"{int(years.iloc[at - 1])}{what}; years must increase", "year")
    return pd.Series(values.to_numpy(), index=pd.Index(years.astype(int).to_numpy(), name="year"))


def read_series_models(path: str | os.PathLike) -> dict[str, pd.Series]:
    """Every model of a series file: name → annual global Rh (Pg C yr-1) indexed by year."""
    path = Path(path)
    kind = layout(path)
    table = _read(path)
    if table.empty:
        raise SoilbenchError(path, "has a header but no rows")
    if kind == "single":
        if "variable" in table.columns:
            others = sorted(set(table["variable"].str.strip()) - {SERIES_QUANTITY})
            if others:
                raise SoilbenchError(path, f"holds variable(s) {others}; a series model is annual global "
                                           f"{SERIES_QUANTITY}", "variable")
        to_pg = _to_pg_per_year(table["units"], table, path)
        values = _numbers(table, "value", path) * to_pg
        series = _series(_numbers(table, "year", path), values, table["_line"], path, "")
        return {path.stem: series}
    table = table[table["variable"].str.strip() == SERIES_QUANTITY]
    if table.empty:
        raise SoilbenchError(path, f"has no rows with variable '{SERIES_QUANTITY}'", "variable")
    to_pg = _to_pg_per_year(table["units"], table, path)
    table = table.assign(year_=_numbers(table, "year", path), value_=_numbers(table, "value", path) * to_pg)
    experiments = sorted(set(table["experiment"].str.strip()))
    out: dict[str, pd.Series] = {}
    for (model, member, experiment), rows in table.groupby(["model", "ensemble", "experiment"], sort=True):
        parts = [model.strip(), member.strip()] + ([experiment.strip()] if len(experiments) > 1 else [])
        name = " ".join(p for p in parts if p)
        if not name:
            raise SoilbenchError(path, f"line {int(rows['_line'].iloc[0])}: a row names no model", "model")
        what = f" for {name}"
        out[name] = _series(rows["year_"], rows["value_"], rows["_line"], path, what)
    return out


def series_dataset(series: pd.Series, name: str, source: str | os.PathLike,
                   period: tuple[int, int] | None = None) -> xr.Dataset:
    """A series model as a dataset: ``rh_pg_yr`` over ``year``, marked :data:`GLOBAL_SERIES_ATTR`."""
    if period is not None:
        series = series[(series.index >= period[0]) & (series.index <= period[1])]
        if series.empty:
            raise SoilbenchError(source, f"model {name!r} has no year in {period[0]}-{period[1]}", "year")
    data = xr.DataArray(series.to_numpy(float), dims="year", coords={"year": series.index.to_numpy(int)},
                        name=SERIES_VARIABLE,
                        attrs={"units": FLUX_TOTAL_UNITS, "long_name": "heterotrophic respiration, annual global total",
                               "source": str(source)})
    years = series.index
    return xr.Dataset({SERIES_VARIABLE: data},
                      attrs={"model": name, GLOBAL_SERIES_ATTR: 1, "source_files": str(source),
                             "period": f"{int(years.min())}-{int(years.max())}"})


def load_series_model(path: str | os.PathLike, name: str, period: tuple[int, int] | None = None) -> xr.Dataset:
    """The model ``name`` of a series file (:func:`read_series_models`) as a dataset."""
    models = read_series_models(path)
    if name not in models:
        raise SoilbenchError(path, f"has no model {name!r}; models: {', '.join(sorted(models)[:10])}"
                             + (" ..." if len(models) > 10 else ""))
    return series_dataset(models[name], name, path, period)
