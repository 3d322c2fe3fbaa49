"""Which figures saved results give, and how each is drawn: shared by the report and ILAMB pages.

Figures are chosen from the saved data's plot conventions only (``docs/architecture.md``):
``fields.nc`` variables by their ``plot`` attribute (``map``, ``zonal``, ``series``) and tables by
``meta["tables"][name]["plot"]`` (``taylor``, ``bars``, ``site_map``, ``scatter``,
``seasonal_cycle``, ``response``, ``histogram``, ``matrix``, ``table``). Profiles (zonal, series) and tables that compare
models (Taylor, bars) are combined across models; maps, site maps, scatter plots, seasonal cycles
and histograms are drawn per model. The drawing itself is :mod:`soilbench.report.plots`.

Both the HTML report (:mod:`soilbench.report.confrontation_page`) and the ILAMB dataset pages
(:mod:`soilbench.ilamb.figures`) lay out what this module chooses, so a fix to the choice (e.g.
each model's own reference curve) shows in both; they differ only in file names and page layout.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.report import plots
from soilbench.report.projection import cell_edges
from soilbench.report.units import display_units
from soilbench.results import ConfrontationResult

COMBINED_TABLE_KINDS = ("taylor", "bars")
PER_MODEL_TABLE_KINDS = ("site_map", "scatter", "seasonal_cycle", "response", "histogram", "matrix")
ROLE_ORDER = {"model": 0, "reference": 1, "difference": 2, "ratio": 3, "attribution": 4}
#: each profile kind's own dimension (docs/architecture.md): zonal curves live on `lat_band`
PROFILE_DIMS = {"series": "year", "zonal": "lat_band"}
#: a seasonal cycle's model colour when the model has none
DEFAULT_COLOR = "#1b6ca8"
#: how quantities (a confrontation's ``options.quantity``) are written in titles
QUANTITY_NAMES = {"rh": "Rh", "rs": "Rs", "npp": "NPP", "gpp": "GPP", "csoil": "soil carbon", "tau": "τ"}


@dataclass
class ModelResult:
    """One model's saved result and its colour (``#rrggbb``; None draws in the default colour).

    ``meta`` is the task's meta.json when the caller has it (options, period): titles and the
    period of a model saved as one period mean come from it; without it figures stay generic.
    """

    model: str
    color: str | None
    result: ConfrontationResult
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Choice:
    """One figure: what it shows and how to draw it (PNG bytes).

    ``kind`` is the plot kind (``map``, a table's kind, ``series``/``zonal``); ``name`` the
    variable, table or units it is drawn from, for the caller's file name; ``title`` the caption
    (without the model name for per-model figures: the figure itself carries it). ``draw`` is a
    ``functools.partial`` of a :mod:`~soilbench.report.plots` function and the data it draws, so
    that it can be pickled: drawn in another process and keyed by its content
    (:mod:`soilbench.report.figures`).
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


def without_maps(result: ConfrontationResult) -> ConfrontationResult:
    """The result without its map variables: what the figures combining models read."""
    fields = result.fields
    maps = plot_vars(fields, "map")
    return dataclasses.replace(result, fields=fields.drop_vars(maps)) if maps else result


def model_choices(item: ModelResult, limits: dict[str, tuple[float, float]]) -> list[Choice]:
    """Maps (model first, then reference, difference, …) and per-model tables of one model.

    Tables of other kinds are left out: combined across models (:func:`combined_table_choices`)
    or plain tables, which the caller shows (or not) as it likes.
    """
    fields, choices = item.result.fields, []
    for var in sorted(plot_vars(fields, "map"), key=lambda v: ROLE_ORDER.get(fields[v].attrs.get("role"), 9)):
        data = fields[var]
        title = f"{data.attrs.get('long_name', var)} ({data.attrs.get('role', 'map')})"
        # the model's name is the heading of its section: the figure's title stays short
        edges = (cell_edges(data, "lat", fields), cell_edges(data, "lon", fields))  # the saved bounds, if any
        choices.append(Choice("map", var, title, functools.partial(plots.map_figure, data, title, limits.get(var),
                                                                    edges=edges)))
    tables = []
    for name, table in item.result.tables.items():
        meta = item.result.table_meta.get(name, {})
        draw = _per_model_table_draw(table, meta, table_title(meta, name), item.color)
        if draw is not None:
            tables.append(Choice(str(meta.get("plot")), name, table_title(meta, name), draw))
    # in a fixed order of kinds (sites first, distributions last), whatever order the tables were saved in
    return choices + sorted(tables, key=lambda c: PER_MODEL_TABLE_KINDS.index(c.kind))


def _per_model_table_draw(table: pd.DataFrame, meta: dict[str, Any], title: str,
                          color: str | None) -> Callable[[], bytes] | None:
    """How to draw a per-model table; None when it is not one or lacks the columns its kind needs."""
    kind, columns = meta.get("plot", "table"), set(table.columns)
    if kind == "site_map" and {"lat", "lon"} <= columns:
        return functools.partial(plots.site_map_figure, table, title, units=str(meta.get("units") or ""))
    if kind == "scatter" and {"observed", "modelled"} <= columns:
        return functools.partial(plots.scatter_figure, table, title, meta)
    if kind == "seasonal_cycle" and {"group", "doy", "observed", "modelled"} <= columns:
        return functools.partial(plots.seasonal_figure, table, title, meta, color or DEFAULT_COLOR)
    if kind == "response" and {"group", "x", "observed", "modelled"} <= columns:
        return functools.partial(plots.response_figure, table, title, meta, color or DEFAULT_COLOR)
    if kind == "histogram" and (meta.get("columns") or plots.histogram_columns(table)):
        return functools.partial(plots.histogram_figure, table, title, meta, color or DEFAULT_COLOR)
    if kind == "matrix" and plots.matrix_labels(table):
        return functools.partial(plots.matrix_figure, table, title, meta)
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
    """One figure per profile kind (series, zonal) and units, every model in it; ``name`` = units.

    Series also show the models saved as one period mean (no series of their own) as segments
    over their period, from their ``bars`` table (:func:`period_means`).
    """
    choices = []
    for kind, x_dim in PROFILE_DIMS.items():
        for units, curves in profile_groups(items, kind).items():
            if kind == "series":
                curves = curves + period_means(items, units)
            title = profile_title(items, kind, units, curves)
            curves = _without_shared_name(curves, [i.model for i in items])
            choices.append(Choice(kind, units, title, functools.partial(plots.profile_figure, curves, x_dim, title)))
    return choices


def profile_title(items: Sequence[ModelResult], kind: str, units: str, curves: Sequence[dict[str, Any]]) -> str:
    """What a profile figure shows, for people: "Global Rh, annual totals", "Zonal mean Rh [g C m⁻² yr⁻¹]".

    Series of global fluxes take the confrontation's quantity (``options.quantity``); other
    figures the quantity, else the text the models' curve names share once model names are
    left out (``τ soil`` of ``τ soil, A`` and ``τ soil, B``); then the display units.
    """
    quantity = next((str(i.meta["options"]["quantity"]) for i in items
                     if isinstance(i.meta.get("options"), dict) and i.meta["options"].get("quantity")), "")
    name = QUANTITY_NAMES.get(quantity, quantity)
    shown = display_units(units)
    if kind == "series" and name and "yr-1" in units:
        return f"Global {name}, annual totals"
    if kind == "zonal":
        # a total (mass per time, no area) per band is not a mean: say which one is drawn
        base = "Zonal band totals" if shown.startswith("Pg") else "Zonal mean"
    else:
        base = "Annual series"
    what = name or _shared_name([str(c["data"].attrs.get("long_name", "")) for c in curves
                                 if c.get("role") == "model" and "data" in c], [i.model for i in items])
    return f"{base}{' of ' + what if what else ''}" + (f" [{shown}]" if shown else "")


def _without_shared_name(curves: list[dict[str, Any]], models: Sequence[str]) -> list[dict[str, Any]]:
    """Model curves labelled ``model: <shared name>, original`` → ``model: original``: the
    title already says the shared name, and the legend must stay short enough to read."""
    shared = _shared_name([str(c["data"].attrs.get("long_name", "")) for c in curves
                           if c.get("role") == "model" and "data" in c], models)
    if not shared:
        return curves
    out = []
    for c in curves:
        label = str(c["label"])
        if c.get("role") == "model" and f": {shared}, " in label:
            c = {**c, "label": label.replace(f": {shared}, ", ": ", 1)}
        out.append(c)
    return out


def _shared_name(names: Sequence[str], models: Sequence[str]) -> str:
    """The comma-separated parts all ``names`` share from the start, model names left out."""
    parts = [[p.strip() for p in name.split(",") if p.strip() not in models] for name in names if name]
    shared = []
    for column in zip(*parts) if parts else ():
        if len(set(column)) != 1:
            break
        shared.append(column[0])
    return ", ".join(shared)


def period_means(items: Sequence[ModelResult], units: str) -> list[dict[str, Any]]:
    """Models without a series of ``units``, drawn from their saved ``bars`` model value.

    A model that is one period mean (a climatology) has no annual series; its global total is
    the model row of its ``bars`` table in the same units. Its period is the compared period
    saved in the task's meta (:func:`model_period`); None when none was saved.
    """
    means = []
    for item in items:
        if any(v for v in plot_vars(item.result.fields, "series")
               if item.result.fields[v].attrs.get("role", "model") == "model"
               and str(item.result.fields[v].attrs.get("units", "")) == units):
            continue
        for name, table in item.result.tables.items():
            meta = item.result.table_meta.get(name, {})
            if meta.get("plot") != "bars" or str(meta.get("units", "")) != units or "role" not in table:
                continue
            rows = table[table["role"].astype(str) == "model"]
            if len(rows):
                means.append({"label": item.model, "role": "model", "color": item.color,
                              "value": float(pd.to_numeric(rows["value"], errors="coerce").iloc[0]),
                              "period": model_period(item, table)})
            break
    return means


def model_period(item: ModelResult, bars: pd.DataFrame | None = None) -> tuple[int, int] | None:
    """First and last year a model's saved result represents: the compared period of the task's
    ``meta.json`` (``period.compared``, see :func:`soilbench.analysis.periods.choose_period`);
    None when the task saved none. Never parsed from notes or labels, never recomputed."""
    period = item.meta.get("period") if isinstance(item.meta, dict) else None
    compared = period.get("compared") if isinstance(period, dict) else None
    if isinstance(compared, (list, tuple)) and len(compared) == 2:
        try:
            return int(compared[0]), int(compared[1])
        except (TypeError, ValueError):
            return None
    return None


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
        model = None if is_reference_task else result_model(result, table, is_model)
        frames += [table[is_model].assign(color=color, model=model), others.assign(color=None, model=None)]
    frames = [f for f in frames if not f.empty]
    return (pd.concat(frames, ignore_index=True), meta) if frames else None


def result_model(result: ConfrontationResult, table: pd.DataFrame, is_model: pd.Series) -> str | None:
    """The model a result belongs to: its scalars' ``model`` column (every row the same model)."""
    if "model" in result.scalars and len(result.scalars):
        return str(result.scalars["model"].iloc[0])
    labels = table.loc[is_model, "label"].astype(str).unique()
    return str(labels[0]) if len(labels) == 1 else None


def combined_table_draw(rows: pd.DataFrame, meta: dict[str, Any], title: str) -> Callable[[], bytes]:
    """Draw :func:`combined_rows`' rows: a Taylor diagram (models on top), or bars in the order
    literature, products, models (so the observations are read first)."""
    if meta.get("plot") == "taylor":
        ordered = rows.sort_values("role", key=lambda r: r != "model", kind="stable")
        return functools.partial(plots.taylor_figure, ordered, title)
    units = str(meta.get("units") or (rows["units"].dropna().iloc[0]
                                      if "units" in rows and rows["units"].notna().any() else ""))
    if "role" in rows:
        order = rows["role"].map(lambda r: 0 if r == "literature" else 1 if r != "model" else 2)
        rows = rows.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order")
    return functools.partial(plots.bars_figure, rows, title, units)


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
