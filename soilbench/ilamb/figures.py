"""Which soilbench figures go on an ILAMB dataset page, drawn by soilbench's report plots.

The figures follow the same plot conventions as soilbench's own report
(:mod:`soilbench.report.confrontation_page`): maps, site maps, scatter plots and seasonal cycles
per model; profiles (zonal, series) and comparison tables (Taylor, bars) combined across models.
The drawing itself is :mod:`soilbench.report.plots`, so a figure looks the same in both.

A :class:`FigureSpec` knows its ILAMB page entry (``key`` is the ``<img>`` id, ``pattern`` the
file name with ILAMB's ``MNAME`` token) and how to draw itself, so the page can be laid out on
every MPI rank while only the rank that owns a model draws it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import xarray as xr

from soilbench.results import ConfrontationResult

log = logging.getLogger(__name__)

SECTION_COMBINED = "Global totals and Taylor diagrams"
SECTION_PROFILES = "Zonal means and series"
SECTION_MAPS = "Maps"
SECTION_SITES = "Sites"
SECTIONS = [SECTION_COMBINED, SECTION_PROFILES, SECTION_MAPS, SECTION_SITES]

COMBINED_TABLE_KINDS = ("taylor", "bars")
ROLE_ORDER = {"model": 0, "reference": 1, "difference": 2, "ratio": 3, "attribution": 4}


@dataclass
class ModelResult:
    """One model's saved soilbench result and its ILAMB colour (``#rrggbb``)."""

    model: str
    color: str
    result: ConfrontationResult


@dataclass
class FigureSpec:
    """One figure on the ILAMB page: where it goes and how to draw it."""

    key: str
    section: str
    title: str
    per_model: bool
    draw: Callable[[], bytes]

    @property
    def pattern(self) -> str:
        """File name as ILAMB's page script expects it (``MNAME`` is replaced by the model)."""
        return f"MNAME_{self.key}.png" if self.per_model else f"{self.key}.png"

    def file_name(self, model: str | None = None) -> str:
        return self.pattern.replace("MNAME", model) if self.per_model else self.pattern


def safe_key(text: str) -> str:
    """An HTML id / file-name part: ILAMB builds JavaScript from it, so keep ``[A-Za-z0-9_]``."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", str(text)).strip("_") or "figure"


def _title(meta: dict[str, Any], name: str) -> str:
    return str(meta.get("title") or name.replace("_", " "))


def _plot_vars(fields: xr.Dataset | None, kind: str) -> list[str]:
    if fields is None:
        return []
    return [name for name, var in fields.data_vars.items() if var.attrs.get("plot") == kind]


def map_limits(results: Sequence[ModelResult]) -> dict[str, tuple[float, float]]:
    """Shared colour limits per map variable across models (ILAMB's ``determinePlotLimits``)."""
    from soilbench.report import plots

    by_var: dict[str, list[xr.DataArray]] = {}
    for item in results:
        for var in _plot_vars(item.result.fields, "map"):
            by_var.setdefault(var, []).append(item.result.fields[var])
    return {var: plots.map_limits(arrays) for var, arrays in by_var.items()
            if arrays[0].attrs.get("colormap") != "categorical"}


def model_figures(item: ModelResult, limits: dict[str, tuple[float, float]]) -> list[FigureSpec]:
    """Maps, site maps, scatter plots and seasonal cycles of one model."""
    from soilbench.report import plots

    result, figures = item.result, []
    fields = result.fields
    for var in sorted(_plot_vars(fields, "map"), key=lambda v: ROLE_ORDER.get(fields[v].attrs.get("role"), 9)):
        data = fields[var]
        title = f"{data.attrs.get('long_name', var)} ({data.attrs.get('role', 'map')})"
        figures.append(FigureSpec(f"map_{safe_key(var)}", SECTION_MAPS, title, True,
                                  lambda d=data, t=title, v=var: plots.map_figure(d, f"{item.model} — {t}", limits.get(v))))
    for name, table in result.tables.items():
        meta = result.table_meta.get(name, {})
        kind, title, key = meta.get("plot", "table"), _title(meta, name), f"table_{safe_key(name)}"
        full = f"{item.model} — {title}"
        if kind == "site_map" and {"lat", "lon"} <= set(table.columns):
            draw = lambda t=table, ti=full: plots.site_map_figure(t, ti)  # noqa: E731
        elif kind == "scatter" and {"observed", "modelled"} <= set(table.columns):
            draw = lambda t=table, ti=full, m=meta: plots.scatter_figure(t, ti, m)  # noqa: E731
        elif kind == "seasonal_cycle" and {"group", "doy", "observed", "modelled"} <= set(table.columns):
            draw = lambda t=table, ti=full, m=meta: plots.seasonal_figure(t, ti, m, item.color)  # noqa: E731
        else:
            continue  # combined below, or a plain table (ILAMB pages show scalars, not tables)
        figures.append(FigureSpec(key, SECTION_SITES, title, True, draw))
    return figures


def _profile_groups(results: Sequence[ModelResult], kind: str) -> dict[str, list[dict[str, Any]]]:
    """Curves of one profile kind grouped by units: every model's curve, each reference once."""
    groups: dict[str, list[dict[str, Any]]] = {}
    seen_references: set[str] = set()
    for item in results:
        fields = item.result.fields
        model_vars = [v for v in _plot_vars(fields, kind) if fields[v].attrs.get("role", "model") == "model"]
        for var in _plot_vars(fields, kind):
            data = fields[var]
            role = data.attrs.get("role", "model")
            if role == "model":
                label = item.model if len(model_vars) == 1 else f"{item.model}: {data.attrs.get('long_name', var)}"
                color = item.color
            else:
                if var in seen_references:
                    continue  # the same reference is saved with every model
                seen_references.add(var)
                label, color = str(data.attrs.get("long_name", var)), None
            curve = {"label": label, "data": data, "role": role, "color": color}
            lower, upper = data.attrs.get("lower"), data.attrs.get("upper")
            if lower in fields and upper in fields:
                curve["lower"], curve["upper"] = fields[lower].values, fields[upper].values
            groups.setdefault(str(data.attrs.get("units", "")), []).append(curve)
    for curves in groups.values():
        curves.sort(key=lambda c: c["role"] == "model")  # references first in the legend
    return groups


def _combined_rows(name: str, results: Sequence[ModelResult],
                   references: ConfrontationResult | None) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The same-named table of every model (model rows in its colour) plus each reference once."""
    frames, meta, seen = [], {}, set()
    sources = [(item.color, item.result, False) for item in results]
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


def combined_figures(results: Sequence[ModelResult], references: ConfrontationResult | None = None) -> list[FigureSpec]:
    """Profiles and comparison tables (Taylor, totals bars) with all models in one figure."""
    from soilbench.report import plots

    figures = []
    for kind in ("series", "zonal"):
        for units, curves in _profile_groups(results, kind).items():
            title = f"{'Zonal mean' if kind == 'zonal' else 'Series'} [{units}]" if units else kind
            # the profile's own dimension: `year`, and `lat_band` for zonal means (docs/architecture.md)
            x_dim = curves[0]["data"].dims[0]
            figures.append(FigureSpec(f"{kind}_{safe_key(units or 'none')}", SECTION_PROFILES, title, False,
                                      lambda c=curves, t=title, d=x_dim: plots.profile_figure(c, d, t)))
    names = sorted({n for item in results for n, m in item.result.table_meta.items()
                    if m.get("plot") in COMBINED_TABLE_KINDS and n in item.result.tables})
    for name in names:
        combined = _combined_rows(name, results, references)
        if combined is None:
            continue
        rows, meta = combined
        title = _title(meta, name)
        if meta.get("plot") == "taylor":
            rows = rows.sort_values("role", key=lambda r: r != "model", kind="stable")
            draw = lambda r=rows, t=title: plots.taylor_figure(r, t)  # noqa: E731
        else:
            units = str(meta.get("units") or (rows["units"].dropna().iloc[0]
                                              if "units" in rows and rows["units"].notna().any() else ""))
            draw = lambda r=rows, t=title, u=units: plots.bars_figure(r, t, u)  # noqa: E731
        figures.append(FigureSpec(f"table_{safe_key(name)}", SECTION_COMBINED, title, False, draw))
    return figures


def draw(spec: FigureSpec, path) -> bool:
    """Write one figure; a figure that cannot be drawn is logged and skipped, never fatal."""
    try:
        data = spec.draw()
    except Exception as err:  # noqa: BLE001 — one bad table must not lose the page (or, in ILAMB, the run)
        log.warning("soilbench: cannot draw %s: %s", spec.title, " ".join(str(err).split()))
        return False
    with open(path, "wb") as handle:
        handle.write(data)
    return True
