"""Which figures saved results give, and how each is drawn: shared by the report and ILAMB pages.

Figures are chosen from the saved data's plot conventions only (``docs/architecture.md``):
``fields.nc`` variables by their ``plot`` attribute (``map``, ``zonal``, ``series``) and tables by
``meta["tables"][name]["plot"]`` (``taylor``, ``bars``, ``site_map``, ``scatter``,
``seasonal_cycle``, ``table``). Profiles (zonal, series) and tables that compare models (Taylor,
bars) are combined across models; maps, site maps, scatter plots and seasonal cycles are drawn
per model. The drawing itself is :mod:`soilbench.report.plots`.

Both the HTML report (:mod:`soilbench.report.confrontation_page`) and the ILAMB dataset pages
(:mod:`soilbench.ilamb.figures`) lay out what this module chooses, so a fix to the choice (e.g.
each model's own reference curve) shows in both; they differ only in file names and page layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.report import plots
from soilbench.results import ConfrontationResult

COMBINED_TABLE_KINDS = ("taylor", "bars")
PER_MODEL_TABLE_KINDS = ("site_map", "scatter", "seasonal_cycle")
ROLE_ORDER = {"model": 0, "reference": 1, "difference": 2, "ratio": 3, "attribution": 4}
#: each profile kind's own dimension (docs/architecture.md): zonal curves live on `lat_band`
PROFILE_DIMS = {"series": "year", "zonal": "lat_band"}
#: a seasonal cycle's model colour when the model has none
DEFAULT_COLOR = "#1b6ca8"


@dataclass
class ModelResult:
    """One model's saved result and its colour (``#rrggbb``; None draws in the default colour)."""

    model: str
    color: str | None
    result: ConfrontationResult


@dataclass
class Choice:
    """One figure: what it shows and how to draw it (PNG bytes).

    ``kind`` is the plot kind (``map``, a table's kind, ``series``/``zonal``); ``name`` the
    variable, table or units it is drawn from, for the caller's file name; ``title`` the caption
    (without the model name for per-model figures: the figure itself carries it).
    """

    kind: str
    name: str
    title: str
    draw: Callable[[], bytes]


def table_title(meta: dict[str, Any], name: str) -> str:
    return str(meta.get("title") or name.replace("_", " "))


def plot_vars(fields: xr.Dataset | None, kind: str) -> list[str]:
    """Variables of ``fields`` with ``attrs["plot"] == kind``."""
    if fields is None:
        return []
    return [name for name, var in fields.data_vars.items() if var.attrs.get("plot") == kind]


# -- per model ------------------------------------------------------------------------------------
def map_limits(results: Iterable[ConfrontationResult]) -> dict[str, tuple[float, float]]:
    """Shared colour limits per (non-categorical) map variable across models, so maps compare."""
    by_var: dict[str, list[xr.DataArray]] = {}
    for result in results:
        for var in plot_vars(result.fields, "map"):
            by_var.setdefault(var, []).append(result.fields[var])
    return {var: plots.map_limits(arrays) for var, arrays in by_var.items()
            if arrays[0].attrs.get("colormap") != "categorical"}


def model_choices(item: ModelResult, limits: dict[str, tuple[float, float]]) -> list[Choice]:
    """Maps (model first, then reference, difference, …) and per-model tables of one model.

    Tables of other kinds are left out: combined across models (:func:`combined_table_choices`)
    or plain tables, which the caller shows (or not) as it likes.
    """
    fields, choices = item.result.fields, []
    for var in sorted(plot_vars(fields, "map"), key=lambda v: ROLE_ORDER.get(fields[v].attrs.get("role"), 9)):
        data = fields[var]
        title = f"{data.attrs.get('long_name', var)} ({data.attrs.get('role', 'map')})"
        choices.append(Choice("map", var, title, lambda d=data, t=f"{item.model} — {title}", v=var:
                              plots.map_figure(d, t, limits.get(v))))
    for name, table in item.result.tables.items():
        meta = item.result.table_meta.get(name, {})
        draw = _per_model_table_draw(table, meta, f"{item.model} — {table_title(meta, name)}", item.color)
        if draw is not None:
            choices.append(Choice(str(meta.get("plot")), name, table_title(meta, name), draw))
    return choices


def _per_model_table_draw(table: pd.DataFrame, meta: dict[str, Any], title: str,
                          color: str | None) -> Callable[[], bytes] | None:
    """How to draw a per-model table; None when it is not one or lacks the columns its kind needs."""
    kind, columns = meta.get("plot", "table"), set(table.columns)
    if kind == "site_map" and {"lat", "lon"} <= columns:
        return lambda: plots.site_map_figure(table, title)
    if kind == "scatter" and {"observed", "modelled"} <= columns:
        return lambda: plots.scatter_figure(table, title, meta)
    if kind == "seasonal_cycle" and {"group", "doy", "observed", "modelled"} <= columns:
        return lambda: plots.seasonal_figure(table, title, meta, color or DEFAULT_COLOR)
    return None


# -- profiles across models -----------------------------------------------------------------------
def curve(label: str, data: xr.DataArray, role: str, color: str | None, fields: xr.Dataset,
          per_model: bool = False) -> dict[str, Any]:
    """A curve for :func:`plots.profile_figure`, with its ``lower``/``upper`` band when saved."""
    item = {"label": label, "data": data, "role": role, "color": color, "per_model": per_model}
    lower, upper = data.attrs.get("lower"), data.attrs.get("upper")
    if lower in fields and upper in fields:
        item["lower"], item["upper"] = fields[lower].values, fields[upper].values
    return item


def same_curve(a: xr.DataArray, b: xr.DataArray) -> bool:
    """The same values over the same coordinates (NaN equal to NaN)."""
    if a.dims != b.dims or a.shape != b.shape:
        return False
    if any(not np.array_equal(np.asarray(a[d].values), np.asarray(b[d].values)) for d in a.dims if d in a.coords):
        return False
    return bool(np.allclose(np.asarray(a.values, float), np.asarray(b.values, float), rtol=1e-9, atol=0.0,
                            equal_nan=True))


def profile_groups(items: Sequence[ModelResult], kind: str) -> dict[str, list[dict[str, Any]]]:
    """Curves of one profile kind grouped by units: every model's, and the references'.

    A reference curve is saved with every model. When it is the same for all of them (a
    product's series) it is drawn once, in black. When it differs (zonal means on the cells
    valid in both model and reference) each model's reference curve is drawn, thin, dashed and
    in the model's colour, so every model is read against its own reference.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    references: dict[str, list[tuple[ModelResult, xr.DataArray]]] = {}
    for item in items:
        fields = item.result.fields
        names = plot_vars(fields, kind)
        model_vars = [v for v in names if fields[v].attrs.get("role", "model") == "model"]
        for var in names:
            data = fields[var]
            role = data.attrs.get("role", "model")
            if role != "model":
                references.setdefault(var, []).append((item, data))
                continue
            label = item.model if len(model_vars) == 1 else f"{item.model}: {data.attrs.get('long_name', var)}"
            groups.setdefault(str(data.attrs.get("units", "")), []).append(curve(label, data, role, item.color, fields))
    for var, saved in references.items():
        first_item, first = saved[0]
        if all(same_curve(first, data) for _, data in saved[1:]):
            curves = [curve(str(first.attrs.get("long_name", var)), first, first.attrs.get("role", "reference"), None,
                            first_item.result.fields)]
        else:
            curves = [curve(f"{item.model}: {data.attrs.get('long_name', var)}", data,
                            data.attrs.get("role", "reference"), item.color, item.result.fields, per_model=True)
                      for item, data in saved]
        groups.setdefault(str(first.attrs.get("units", "")), []).extend(curves)
    for curves in groups.values():  # references first in the legend, then models
        curves.sort(key=lambda c: c["role"] == "model")
    return groups


def profile_choices(items: Sequence[ModelResult]) -> list[Choice]:
    """One figure per profile kind (series, zonal) and units, every model in it; ``name`` = units."""
    choices = []
    for kind, x_dim in PROFILE_DIMS.items():
        for units, curves in profile_groups(items, kind).items():
            title = f"{'Zonal mean' if kind == 'zonal' else 'Series'} [{units}]" if units else kind
            choices.append(Choice(kind, units, title, lambda c=curves, t=title, d=x_dim: plots.profile_figure(c, d, t)))
    return choices


# -- comparison tables across models --------------------------------------------------------------
def combined_table_names(items: Sequence[ModelResult]) -> list[str]:
    """Names of the tables drawn once for all models (Taylor, bars)."""
    return sorted({n for item in items for n, m in item.result.table_meta.items()
                   if m.get("plot") in COMBINED_TABLE_KINDS and n in item.result.tables})


def combined_rows(name: str, items: Sequence[ModelResult],
                  references: ConfrontationResult | None = None) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The same-named table of every model (model rows in its colour, column ``color``) plus every
    reference row once, from the models' tables and the references' own task; with the table's meta."""
    frames, meta, seen = [], {}, set()
    sources = [(item.color, item.result, False) for item in items]
    if references is not None:
        sources.append((None, references, True))
    for color, result, is_reference_task in sources:
        table = result.tables.get(name)
        if table is None or "label" not in table:
            continue
        meta = meta or result.table_meta.get(name, {})
        role = table["role"].astype(str) if "role" in table else pd.Series("model", index=table.index)
        is_model = (role == "model") & (not is_reference_task)
        others = table[~is_model & ~table["label"].astype(str).isin(seen)]
        seen.update(others["label"].astype(str))
        frames += [table[is_model].assign(color=color), others.assign(color=None)]
    frames = [f for f in frames if not f.empty]
    return (pd.concat(frames, ignore_index=True), meta) if frames else None


def combined_table_draw(rows: pd.DataFrame, meta: dict[str, Any], title: str) -> Callable[[], bytes]:
    """Draw :func:`combined_rows`' rows: a Taylor diagram (models on top), or bars in the order
    literature, products, models (so the observations are read first)."""
    if meta.get("plot") == "taylor":
        ordered = rows.sort_values("role", key=lambda r: r != "model", kind="stable")
        return lambda: plots.taylor_figure(ordered, title)
    units = str(meta.get("units") or (rows["units"].dropna().iloc[0]
                                      if "units" in rows and rows["units"].notna().any() else ""))
    if "role" in rows:
        order = rows["role"].map(lambda r: 0 if r == "literature" else 1 if r != "model" else 2)
        rows = rows.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order")
    return lambda: plots.bars_figure(rows, title, units)


def combined_table_choices(items: Sequence[ModelResult],
                           references: ConfrontationResult | None = None) -> list[tuple[Choice, pd.DataFrame]]:
    """One figure per comparison table, every model in it, with the rows it draws (for a CSV)."""
    choices = []
    for name in combined_table_names(items):
        combined = combined_rows(name, items, references)
        if combined is None:
            continue
        rows, meta = combined
        title = table_title(meta, name)
        choices.append((Choice(str(meta.get("plot")), name, title, combined_table_draw(rows, meta, title)), rows))
    return choices
