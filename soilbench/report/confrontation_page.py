"""One confrontation's page: scalars table (+ CSV), combined figures, per-model sections.

Figures are chosen from the saved data's plot conventions only: ``fields.nc`` variables by their
``plot`` attribute (``map``, ``zonal``, ``series``) and tables by ``meta["tables"][name]["plot"]``
(``taylor``, ``bars``, ``site_map``, ``scatter``, ``seasonal_cycle``, ``table``). Tables that
compare models (Taylor, bars) and profiles (zonal, series) are combined across models; maps,
site maps, scatter plots and seasonal cycles are drawn per model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.report import plots, summary_figures
from soilbench.report.collect import Confrontation, Run, Task
from soilbench.report.scoreboard import z_class, z_scores
from soilbench.report.site import Site, safe_name
from soilbench.results import SCALAR_COLUMNS, model_slug

log = logging.getLogger(__name__)

COMBINED_TABLE_KINDS = ("taylor", "bars")
#: cross-model summaries (``OUT/_summary/<confrontation>/<name>.csv``) the page knows how to present
SUMMARY_TEXT = {
    "regional_spread": (
        "Spread of regional totals: coefficient of variation across models and across products",
        "Computed after the run from every model's saved regional totals: sample standard deviation over |mean| "
        "(cv_ratio = cv_models / cv_products); products are the gridded references, each counted once.",
    ),
}
PER_MODEL_TABLE_KINDS = ("site_map", "scatter", "seasonal_cycle")
MAX_TABLE_ROWS = 500  # longer tables are linked as CSV only; a page must stay fast
ROLE_ORDER = {"model": 0, "reference": 1, "difference": 2, "ratio": 3, "attribution": 4}


def _title(meta: dict[str, Any], name: str) -> str:
    return str(meta.get("title") or name.replace("_", " "))


def _plot_vars(fields: xr.Dataset | None, kind: str) -> list[str]:
    if fields is None:
        return []
    return [name for name, var in fields.data_vars.items() if var.attrs.get("plot") == kind]


def _curve(label: str, data: xr.DataArray, role: str, color: str | None, fields: xr.Dataset,
           per_model: bool = False) -> dict[str, Any]:
    """A curve for :func:`plots.profile_figure`, with its ``lower``/``upper`` band when saved."""
    curve = {"label": label, "data": data, "role": role, "color": color, "per_model": per_model}
    lower, upper = data.attrs.get("lower"), data.attrs.get("upper")
    if lower in fields and upper in fields:
        curve["lower"], curve["upper"] = fields[lower].values, fields[upper].values
    return curve


def _same_curve(a: xr.DataArray, b: xr.DataArray) -> bool:
    """The same values over the same coordinates (NaN equal to NaN)."""
    if a.dims != b.dims or a.shape != b.shape:
        return False
    if any(not np.array_equal(np.asarray(a[d].values), np.asarray(b[d].values)) for d in a.dims if d in a.coords):
        return False
    return bool(np.allclose(np.asarray(a.values, float), np.asarray(b.values, float), rtol=1e-9, atol=0.0,
                            equal_nan=True))


class ConfrontationPage:
    """Builds ``c/<name>/index.html`` and its images and CSV files."""

    def __init__(self, site: Site, run: Run, conf: Confrontation, tick: Callable[[str], None],
                 common: dict[str, Any]):
        self.site, self.run, self.conf, self.tick, self.common = site, run, conf, tick, common
        self.dir = f"c/{safe_name(conf.name)}"
        self.colors = {model: plots.model_color(i) for i, model in enumerate(run.models)}

    @property
    def href(self) -> str:
        return f"{self.dir}/index.html"

    def _image(self, name: str, png: bytes) -> str:
        """Write an image next to the page; return its page-relative href."""
        self.site.write_bytes(f"{self.dir}/{name}.png", png)
        return f"{name}.png"

    def _safe_plot(self, description: str, make: Callable[[], bytes], name: str) -> dict[str, str] | None:
        """One figure; a figure that cannot be drawn is logged and left out, never fatal."""
        try:
            return {"title": description, "src": self._image(name, make())}
        except Exception as err:  # noqa: BLE001 - bad data in one table must not lose the whole report
            log.warning("report: %s: cannot draw %s: %s", self.conf.name, description, " ".join(str(err).split()))
            return None

    # -- page ----------------------------------------------------------------------------
    def build(self) -> None:
        conf = self.conf
        scalars = self.run.scalars[self.run.scalars["confrontation"] == conf.name]
        if conf.reference_task is not None and conf.reference_task.ok:
            scalars = pd.concat([scalars, conf.reference_task.result.scalars], ignore_index=True)
        scalars = scalars[SCALAR_COLUMNS]
        self.site.write_csv(f"{self.dir}/scalars.csv", scalars)
        combined = self._combined_figures()
        summaries = self._summaries()
        models = [self._model_section(model, task) for model, task in conf.tasks.items()]
        self.site.render(
            f"{self.dir}/index.html", "confrontation.html",
            title=conf.name, conf=conf, combined=combined, summaries=summaries, models=models,
            score_table=self._score_table(scalars), scalars=scalars.to_dict("records"),
            scalar_columns=SCALAR_COLUMNS, notes=self._notes(), **self.common,
        )

    def _notes(self) -> list[dict[str, str]]:
        """Notes from meta.json, the same note from several models shown once with its models."""
        by_text: dict[str, list[str]] = {}
        tasks = list(self.conf.tasks.values()) + ([self.conf.reference_task] if self.conf.reference_task else [])
        for task in tasks:
            for note in task.meta.get("notes", []) or []:
                by_text.setdefault(" ".join(str(note).split()), []).append(task.model)
        return [{"text": text, "models": ", ".join(models)} for text, models in by_text.items()]

    def _score_table(self, scalars: pd.DataFrame) -> dict[str, Any]:
        """Models × global scores, coloured relative across models like the scoreboard."""
        scores = scalars[(scalars["type"] == "score") & (scalars["region"] == "global")
                         & (scalars["model"].isin(list(self.conf.tasks)))]
        if scores.empty:
            return {"columns": [], "rows": []}
        matrix = scores.pivot_table(index="model", columns="name", values="value", aggfunc="mean")
        order = ["overall score"] if "overall score" in matrix.columns else []
        columns = order + [c for c in matrix.columns if c not in order]
        matrix = matrix[columns]
        z = z_scores(matrix)
        rows = []
        for model in [m for m in self.run.models if m in matrix.index]:
            cells = [{"value": matrix.at[model, c], "cls": z_class(z.at[model, c])} for c in columns]
            rows.append({"model": model, "anchor": f"m-{model_slug(model)}", "cells": cells})
        return {"columns": columns, "rows": rows}

    # -- combined across models -----------------------------------------------------------
    def _combined_figures(self) -> list[dict[str, str]]:
        figures: list[dict[str, str] | None] = []
        ok_tasks = [t for t in self.conf.tasks.values() if t.ok]
        self.tick(f"{self.conf.name}: combined figures")
        # each plot kind's own dimension (docs/architecture.md): zonal curves live on `lat_band`
        for kind, x_dim in (("series", "year"), ("zonal", "lat_band")):
            for key, curves in self._profile_groups(ok_tasks, kind).items():
                title = f"{'Zonal mean' if kind == 'zonal' else 'Series'} [{key}]" if key else kind
                figures.append(self._safe_plot(title, lambda c=curves, t=title, d=x_dim: plots.profile_figure(c, d, t),
                                               f"{kind}_{safe_name(key or 'none')}"))
        names = sorted({n for t in ok_tasks for n, m in t.result.table_meta.items()
                        if m.get("plot") in COMBINED_TABLE_KINDS and n in t.result.tables})
        for name in names:
            figures.append(self._combined_table(name, ok_tasks))
        return [f for f in figures if f]

    def _profile_groups(self, tasks: list[Task], kind: str) -> dict[str, list[dict[str, Any]]]:
        """Curves of one plot kind grouped by units: every model's, and the references'.

        A reference curve is saved with every model. When it is the same for all of them (a
        product's series) it is drawn once, in black. When it differs (zonal means on the cells
        valid in both model and reference) each model's reference curve is drawn, thin, dashed and
        in the model's colour, so every model is read against its own reference.
        """
        groups: dict[str, list[dict[str, Any]]] = {}
        references: dict[str, list[tuple[Task, xr.DataArray]]] = {}
        for task in tasks:
            fields = task.result.fields
            model_vars = [v for v in _plot_vars(fields, kind) if fields[v].attrs.get("role", "model") == "model"]
            for var in _plot_vars(fields, kind):
                data = fields[var]
                role = data.attrs.get("role", "model")
                if role != "model":
                    references.setdefault(var, []).append((task, data))
                    continue
                label = task.model if len(model_vars) == 1 else f"{task.model}: {data.attrs.get('long_name', var)}"
                groups.setdefault(str(data.attrs.get("units", "")), []).append(
                    _curve(label, data, role, self.colors.get(task.model), fields))
        for var, saved in references.items():
            first_task, first = saved[0]
            if all(_same_curve(first, data) for _, data in saved[1:]):
                label = str(first.attrs.get("long_name", var))
                curves = [_curve(label, first, first.attrs.get("role", "reference"), None, first_task.result.fields)]
            else:
                curves = [_curve(f"{task.model}: {data.attrs.get('long_name', var)}", data,
                                 data.attrs.get("role", "reference"), self.colors.get(task.model), task.result.fields,
                                 per_model=True)
                          for task, data in saved]
            groups.setdefault(str(first.attrs.get("units", "")), []).extend(curves)
        for curves in groups.values():  # references first in the legend, then models
            curves.sort(key=lambda c: c["role"] == "model")
        return groups

    def _combined_table(self, name: str, tasks: list[Task]) -> dict[str, str] | None:
        """Rows of the same-named table from every model (and the references' task) in one figure."""
        frames, meta = [], {}
        seen: set[str] = set()
        sources = tasks + ([self.conf.reference_task] if self.conf.reference_task and self.conf.reference_task.ok else [])
        for task in sources:
            table = task.result.tables.get(name)
            if table is None or "label" not in table:
                continue
            meta = meta or task.result.table_meta.get(name, {})
            table = table.copy()
            role = table["role"].astype(str) if "role" in table else pd.Series("model", index=table.index)
            is_model = (role == "model") & (task is not self.conf.reference_task)
            others = table[~is_model & ~table["label"].astype(str).isin(seen)]
            seen.update(others["label"].astype(str))
            mine = table[is_model].assign(color=self.colors.get(task.model))
            frames += [mine, others.assign(color=None)]
        if not frames:
            return None
        rows = pd.concat([f for f in frames if not f.empty], ignore_index=True)
        kind = meta.get("plot")
        self.site.write_csv(f"{self.dir}/{safe_name(name)}.csv", rows.drop(columns=["color"]))
        title = _title(meta, name)
        if kind == "taylor":
            rows = rows.sort_values("role", key=lambda r: r != "model", kind="stable")
            return self._safe_plot(title, lambda: plots.taylor_figure(rows, title), f"table_{safe_name(name)}")
        units = str(meta.get("units") or (rows["units"].dropna().iloc[0] if "units" in rows and rows["units"].notna().any() else ""))
        order = rows["role"].map(lambda r: 0 if r == "literature" else 1 if r != "model" else 2) if "role" in rows else 0
        rows = rows.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order")
        return self._safe_plot(title, lambda: plots.bars_figure(rows, title, units), f"table_{safe_name(name)}")

    # -- cross-model summaries ------------------------------------------------------------------
    def _summaries(self) -> list[dict[str, Any]]:
        """The run's saved summaries of this confrontation: a table and CSV each (+ a figure for the
        spread), exactly as saved — nothing is recomputed here."""
        sections = []
        for name, table in sorted(self.run.summaries.get(self.conf.name, {}).items()):
            title, note = SUMMARY_TEXT.get(name, (name.replace("_", " "), "Computed after the run from every model's saved results."))
            figure = None
            if name == "regional_spread" and {"region", "cv_models", "cv_products"} <= set(table.columns):
                figure = self._safe_plot(title, lambda t=table, ti=title: summary_figures.spread_figure(t, ti),
                                         f"summary_{safe_name(name)}")
            html = self._html_table(name, table, {"title": title}, "summary")
            html["id"] = f"summary-{safe_name(name)}"
            sections.append({"title": title, "note": note, "table": html, "figure": figure})
        return sections

    # -- per model ----------------------------------------------------------------------------
    def _map_limits(self) -> dict[str, tuple[float, float]]:
        """Shared colour limits per map variable across models, so the maps can be compared."""
        by_var: dict[str, list[xr.DataArray]] = {}
        for task in self.conf.tasks.values():
            if task.ok:
                for var in _plot_vars(task.result.fields, "map"):
                    by_var.setdefault(var, []).append(task.result.fields[var])
        limits = {}
        for var, arrays in by_var.items():
            if arrays[0].attrs.get("colormap") != "categorical":
                limits[var] = plots.map_limits(arrays)
        return limits

    def _model_section(self, model: str, task: Task) -> dict[str, Any]:
        slug = model_slug(model)
        section: dict[str, Any] = {"model": model, "anchor": f"m-{slug}", "ok": task.ok, "error": task.error,
                                   "not_applicable": task.not_applicable, "reason": task.reason,
                                   "figures": [], "tables": []}
        self.tick(f"{self.conf.name} / {model}")
        if not task.ok:
            return section
        if not hasattr(self, "_limits"):
            self._limits = self._map_limits()
        fields = task.result.fields
        map_vars = sorted(_plot_vars(fields, "map"), key=lambda v: ROLE_ORDER.get(fields[v].attrs.get("role"), 9))
        for var in map_vars:
            data = fields[var]
            title = f"{model} — {data.attrs.get('long_name', var)} ({data.attrs.get('role', 'map')})"
            section["figures"].append(self._safe_plot(
                title, lambda d=data, t=title, v=var: plots.map_figure(d, t, self._limits.get(v)),
                f"{slug}_{safe_name(var)}"))
        for name, table in task.result.tables.items():
            meta = task.result.table_meta.get(name, {})
            kind = meta.get("plot", "table")
            title = f"{model} — {_title(meta, name)}"
            image = f"{slug}_{safe_name(name)}"
            if kind == "site_map" and {"lat", "lon"} <= set(table.columns):
                section["figures"].append(self._safe_plot(title, lambda t=table, ti=title: plots.site_map_figure(t, ti), image))
            elif kind == "scatter" and {"observed", "modelled"} <= set(table.columns):
                section["figures"].append(self._safe_plot(title, lambda t=table, ti=title, m=meta: plots.scatter_figure(t, ti, m), image))
            elif kind == "seasonal_cycle" and {"group", "doy", "observed", "modelled"} <= set(table.columns):
                section["figures"].append(self._safe_plot(
                    title, lambda t=table, ti=title, m=meta: plots.seasonal_figure(t, ti, m, self.colors.get(model, "#1b6ca8")), image))
            elif kind in COMBINED_TABLE_KINDS:
                continue  # drawn once for all models above
            else:  # "table" and any kind this report does not know: a sortable table is always readable
                section["tables"].append(self._html_table(name, table, meta, slug))
        section["figures"] = [f for f in section["figures"] if f]
        return section

    def _html_table(self, name: str, table: pd.DataFrame, meta: dict[str, Any], slug: str) -> dict[str, Any]:
        csv = f"{slug}_{safe_name(name)}.csv"
        self.site.write_csv(f"{self.dir}/{csv}", table)
        shown = table.head(MAX_TABLE_ROWS)
        numeric = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
        return {"title": _title(meta, name), "csv": csv, "columns": [str(c) for c in shown.columns],
                "numeric": numeric, "rows": shown.itertuples(index=False, name=None),
                "truncated": len(table) > MAX_TABLE_ROWS, "n_rows": len(table), "shown": len(shown)}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
