"""One confrontation's page: scalars table (+ CSV), combined figures, per-model sections.

Figures are chosen from the saved data's plot conventions only, by
:mod:`soilbench.report.figure_choice` (shared with the ILAMB pages): tables that compare models
(Taylor, bars) and profiles (zonal, series) are combined across models; maps, site maps, scatter
plots, seasonal cycles and histograms are drawn per model, each with its CSV; every other table is
shown as a sortable table, collapsed under its title when long (:data:`COLLAPSE_ROWS`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from soilbench.report import figure_choice as choice
from soilbench.report import plots, summary_figures
from soilbench.report.collect import Confrontation, Run, Task, years_text
from soilbench.report.figure_choice import ModelResult
from soilbench.report.figures import FigureBook
from soilbench.report.limits import SharedLimits
from soilbench.report.scoreboard import z_class, z_scores
from soilbench.report.site import Site, safe_name
from soilbench.report.units import display_units
from soilbench.results import SCALAR_COLUMNS, model_slug

log = logging.getLogger(__name__)

#: cross-model summaries (``OUT/_summary/<confrontation>/<name>.csv``) the page knows how to present
SUMMARY_TEXT = {
    "regional_spread": (
        "Spread of regional totals: coefficient of variation across models and across products",
        "Computed after the run from every model's saved regional totals: sample standard deviation over |mean| "
        "(cv_ratio = cv_models / cv_products); products are the gridded references, each counted once.",
    ),
    "log_soc_correlations": (
        "Correlation of ln soil carbon between models and products",
        "Computed after the run from every model's saved stock on a common regular grid: area-weighted Pearson r "
        "of ln SOC over cells where both stocks are positive ([004]: r = -0.026 between two structurally different "
        "models before data assimilation, 0.51 after).",
    ),
}
MAX_TABLE_ROWS = 500  # longer tables are linked as CSV only; a page must stay fast
#: tables longer than this start collapsed (``<details>``): the page stays a page, not a data dump
COLLAPSE_ROWS = 50
#: figures drawn across the page's whole width (many panels: unreadable at half width)
WIDE_KINDS = ("seasonal_cycle", "response")


def _panels(table: pd.DataFrame | None) -> int:
    """How many panels a figure of a grouped table (``group`` column) draws: one panel is not
    stretched across the page (its text would be twice the size of every other figure's)."""
    if table is None or "group" not in table.columns:
        return 2
    return int(table["group"].nunique())


class ConfrontationPage:
    """Builds ``c/<name>/index.html`` and its images and CSV files.

    :meth:`prepare` writes the CSV files and adds the page's figures to ``figures`` (drawn as
    they are added); once they are in place (:meth:`FigureBook.wait`), :meth:`render` writes the
    page with the figures that could be drawn. :meth:`build` does all three.
    """

    def __init__(self, site: Site, run: Run, conf: Confrontation, tick: Callable[[str], None],
                 common: dict[str, Any], figures: FigureBook | None = None):
        self.site, self.run, self.conf, self.tick, self.common = site, run, conf, tick, common
        self.figures = figures if figures is not None else FigureBook(site)
        self.dir = f"c/{safe_name(conf.name)}"
        self.colors = {model: plots.model_color(i) for i, model in enumerate(run.models)}
        self._context: dict[str, Any] | None = None

    @property
    def href(self) -> str:
        return f"{self.dir}/index.html"

    def _safe_plot(self, description: str, make: Callable[[], bytes], name: str) -> dict[str, Any] | None:
        """One figure, drawn later with the others; one that cannot be drawn is left off the page
        (:meth:`render`), never fatal."""
        job = self.figures.add(f"{self.dir}/{name}.png", make, f"{self.conf.name}: {description}")
        return {"title": description, "src": f"{name}.png", "csv": None, "wide": False, "job": job}

    # -- page ----------------------------------------------------------------------------
    def build(self) -> None:
        self.prepare()
        self.figures.wait()
        self.render()

    def render(self) -> None:
        """Write the page prepared by :meth:`prepare`, without the figures that failed to draw."""
        context, self._context = self._context, None
        if context is None:
            raise RuntimeError("render() before prepare()")
        context["combined"] = _drawn(context["combined"])
        for summary in context["summaries"]:
            summary["figure"] = (_drawn([summary["figure"]]) or [None])[0] if summary["figure"] else None
        for section in context["models"]:
            section["figures"] = _drawn(section["figures"])
        self.site.render(f"{self.dir}/index.html", "confrontation.html", **context)

    def prepare(self) -> None:
        """Write the page's CSV files and add its figures, reading one model's result at a time
        (each is let go once its figures are added: the memory does not grow with the models)."""
        conf = self.conf
        scalars = self.run.scalars[self.run.scalars["confrontation"] == conf.name]
        if conf.reference_task is not None and conf.reference_task.ok:
            scalars = pd.concat([scalars, conf.reference_task.scalars], ignore_index=True)
        scalars = scalars[SCALAR_COLUMNS]
        self.site.write_csv(f"{self.dir}/scalars.csv", scalars)
        shared = SharedLimits()
        items = self._items(shared)
        combined = self._combined_figures(items)
        del items
        summaries = self._summaries()
        limits = self._map_limits(shared)
        models = []
        for model, task in conf.tasks.items():
            models.append(self._model_section(model, task, limits))
            task.release()
        if conf.reference_task is not None:
            conf.reference_task.release()
        self._context = dict(
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
        # dropna=False: a component no model has (NaN) still gets its column, shown as missing
        matrix = scores.pivot_table(index="model", columns="name", values="value", aggfunc="mean", dropna=False)
        order = ["overall score"] if "overall score" in matrix.columns else []
        columns = order + [c for c in matrix.columns if c not in order]
        matrix = matrix[columns]
        z = z_scores(matrix)
        rows = []
        for model in [m for m in self.run.models if m in matrix.index]:
            cells = [{"value": matrix.at[model, c], "cls": z_class(z.at[model, c])} for c in columns]
            task = self.conf.tasks.get(model)
            rows.append({"model": model, "anchor": f"m-{model_slug(model)}", "cells": cells,
                         "compared": years_text((task.period or {}).get("compared")) if task and task.period else "",
                         "fallback": " ".join(str((task.period or {}).get("fallback") or "").split()) if task else "",
                         "flags": [f.message for f in task.flags] if task else []})
        return {"columns": columns, "rows": rows}

    # -- combined across models -----------------------------------------------------------
    def _items(self, shared: SharedLimits) -> list[ModelResult]:
        """The confrontation's ok model tasks, each with its model's colour, for the figures that
        combine models: their results without maps (profiles and tables only). Each task's maps
        are counted for their shared colour limits on the way."""
        items = []
        for task in self.conf.tasks.values():
            result = task.result if task.ok else None
            if result is None:
                continue
            items.append(ModelResult(task.model, self.colors.get(task.model), choice.without_maps(result), task.meta))
            shared.count(result.fields)
            task.release()
        return items

    def _map_limits(self, shared: SharedLimits) -> dict[str, tuple[float, float]]:
        """Colour limits per map variable shared by every model's map (the maps compare): the
        percentiles of all models' values, found one model at a time (:mod:`~soilbench.report.limits`)."""
        if shared.needs_values():
            for task in self.conf.tasks.values():
                result = task.result if task.ok else None
                if result is not None:
                    shared.keep(result.fields)
                    task.release()
        return shared.limits()

    def _combined_figures(self, items: list[ModelResult]) -> list[dict[str, str]]:
        """Profiles and comparison tables with every model (chosen as on the ILAMB pages), and
        the rows of each comparison table as a CSV next to its figure."""
        self.tick(f"{self.conf.name}: combined figures")
        figures = [self._safe_plot(c.title, c.draw, f"{c.kind}_{safe_name(c.name or 'none')}")
                   for c in choice.profile_choices(items)]
        reference = self.conf.reference_task
        references = reference.result if reference is not None and reference.ok else None
        for chosen, rows in choice.combined_table_choices(items, references):
            csv = f"{safe_name(chosen.name)}.csv"
            self.site.write_csv(f"{self.dir}/{csv}", rows.drop(columns=["color", "model"], errors="ignore"))
            figure = self._safe_plot(chosen.title, chosen.draw, f"table_{safe_name(chosen.name)}")
            if figure:
                figure["csv"] = csv
            figures.append(figure)
        return [f for f in figures if f]

    # -- cross-model summaries ------------------------------------------------------------------
    def _summaries(self) -> list[dict[str, Any]]:
        """The run's saved summaries of this confrontation: a table and CSV each (+ a figure for the
        spread), exactly as saved — nothing is recomputed here."""
        sections = []
        for name, table in sorted(self.run.summaries.get(self.conf.name, {}).items()):
            title, note = SUMMARY_TEXT.get(name, (name.replace("_", " "), "Computed after the run from every model's saved results."))
            figure = None
            if name == "regional_spread" and {"region", "cv_models", "cv_products"} <= set(table.columns):
                figure = self._safe_plot(title, functools.partial(summary_figures.spread_figure, table, title),
                                         f"summary_{safe_name(name)}")
                if figure:
                    figure["wide"] = True  # one bar pair per region: too small at half width
            elif plots.matrix_labels(table):  # the matrix layout of docs/architecture.md
                figure = self._safe_plot(title, functools.partial(plots.matrix_figure, table, title),
                                         f"summary_{safe_name(name)}")
            html = self._html_table(name, table, {"title": title}, "summary")
            html["id"] = f"summary-{safe_name(name)}"
            sections.append({"title": title, "note": note, "table": html, "figure": figure})
        return sections

    # -- per model ----------------------------------------------------------------------------
    def _model_section(self, model: str, task: Task, limits: dict[str, tuple[float, float]]) -> dict[str, Any]:
        slug = model_slug(model)
        section: dict[str, Any] = {"model": model, "anchor": f"m-{slug}", "ok": task.ok, "error": task.error,
                                   "not_applicable": task.not_applicable, "reason": task.reason,
                                   "period": task.period_facts(), "flags": [f.as_dict() for f in task.flags],
                                   "figures": [], "tables": []}
        self.tick(f"{self.conf.name} / {model}")
        if not task.ok or task.result is None:
            if task.ok:  # its files could not be read back (logged)
                section.update(ok=False, error="the saved result cannot be read")
            return section
        choices = choice.model_choices(ModelResult(model, self.colors.get(model), task.result, task.meta), limits)
        drawn = {chosen.name for chosen in choices if chosen.kind != "map"}  # tables drawn as figures
        for chosen in choices:
            figure = self._safe_plot(f"{model} — {chosen.title}", chosen.draw, f"{slug}_{safe_name(chosen.name)}")
            if figure and chosen.kind != "map":  # the drawn table's rows: as CSV only, never inline
                figure["csv"] = self._table_csv(chosen.name, task.result.tables[chosen.name], slug)
            if figure:
                figure["wide"] = chosen.kind in WIDE_KINDS and _panels(task.result.tables.get(chosen.name)) > 1
            section["figures"].append(figure)
        for name, table in task.result.tables.items():
            meta = task.result.table_meta.get(name, {})
            if name in drawn or meta.get("plot") in choice.COMBINED_TABLE_KINDS:
                continue  # a figure of this model, or drawn once for all models above
            # "table" and any kind this report does not know: a sortable table is always readable
            section["tables"].append(self._html_table(name, table, meta, slug))
        section["figures"] = [f for f in section["figures"] if f]
        return section

    def _table_csv(self, name: str, table: pd.DataFrame, slug: str) -> str:
        """Write a table's rows next to the page as they were saved; return the CSV's href."""
        csv = f"{slug}_{safe_name(name)}.csv"
        self.site.write_csv(f"{self.dir}/{csv}", table)
        return csv

    def _html_table(self, name: str, table: pd.DataFrame, meta: dict[str, Any], slug: str) -> dict[str, Any]:
        """A table for the page: display units in its title and ``units`` cells, its CSV as saved;
        collapsed when longer than :data:`COLLAPSE_ROWS`, cut at :data:`MAX_TABLE_ROWS`."""
        csv = self._table_csv(name, table, slug)
        shown = table.head(MAX_TABLE_ROWS)
        if "units" in shown.columns:
            shown = shown.assign(units=shown["units"].map(display_units))
        numeric = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
        units = display_units(meta.get("units"))
        title = choice.table_title(meta, name) + (f" [{units}]" if units and "units" not in table.columns else "")
        return {"title": title, "csv": csv, "columns": [str(c) for c in shown.columns],
                "numeric": numeric, "rows": shown.itertuples(index=False, name=None),
                "truncated": len(table) > MAX_TABLE_ROWS, "n_rows": len(table), "shown": len(shown),
                "collapsed": len(table) > COLLAPSE_ROWS}


def _drawn(figures: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The figures whose PNG is in place, without their drawing jobs."""
    return [{k: v for k, v in f.items() if k != "job"} for f in figures if f and f["job"].ok]
