"""Build the HTML scorecard of a saved run: scoreboard, one page per confrontation, data page.

Only reads what the run saved (``OUT/`` layout, docs/architecture.md); never recomputes an
analysis. The site is static and self-contained: PNG images and CSV files next to the pages,
one stylesheet and one small script, no network, a strict Content-Security-Policy.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from soilbench.errors import SoilbenchError
from soilbench.report.collect import Run, load_run
from soilbench.report.confrontation_page import ConfrontationPage
from soilbench.report.figures import FigureBook
from soilbench.report.scoreboard import (
    STD_FLOOR, Z_CLASSES, Z_LABELS, overall_scores, weighted_overall, z_class, z_scores,
)
from soilbench.report.site import Site, safe_name
from soilbench.results import model_slug

log = logging.getLogger(__name__)

DEFAULT_SUBDIR = "_report"  # underscore: can never clash with a confrontation name ([a-z0-9-])


def build_report(results_dir: str | Path, out_dir: str | Path | None = None, progress: bool = True,
                 workers: int | None = None, executor: Any = None) -> Path:
    """Build the scorecard of the run saved in ``results_dir``; return the path of ``index.html``.

    Parameters
    ----------
    results_dir
        A results directory written by ``soilbench run`` (``run.json``, per-task directories).
    out_dir
        Where the site goes; ``<results_dir>/_report`` by default.
    progress
        Show a progress bar (per confrontation and model, then per figure) on stderr.
    workers
        Processes drawing the figures (:mod:`soilbench.report.figures`); one per core, at most 4,
        when None; 1 draws them in this process. Figures unchanged since the last build of the
        same site are not drawn again.
    executor
        Processes that draw the figures instead of a pool of the report's own (the run's forked
        workers, :mod:`soilbench.runner.pool`); ``workers`` is their number.
    """
    run = load_run(results_dir)
    if not any(conf.tasks or conf.reference_task for conf in run.confrontations.values()):
        # an empty scorecard with exit 0 would look like a run that compared nothing and passed
        raise SoilbenchError(results_dir, "holds no saved results (no task directory with a meta.json); "
                             "give the --out directory of a `soilbench run`")
    site = Site(out_dir if out_dir is not None else Path(results_dir) / DEFAULT_SUBDIR)
    site.copy_static()
    common = _common(run)
    total = sum(len(conf.tasks) + 1 for conf in run.confrontations.values()) + 2
    with tqdm(total=total, desc="report", unit="step", file=sys.stderr, disable=not progress, leave=False) as bar:
        def tick(what: str) -> None:
            bar.set_postfix_str(_printable(what)[:60], refresh=False)
            bar.update()

        def tick_figure(what: str) -> None:  # figures are counted as they are added
            bar.total += 1
            tick(what)

        figures = FigureBook(site, _drawing_processes(workers), executor, on_figure=tick_figure)
        try:
            # page by page: a page's figures are drawn (in parallel) while the next models are read,
            # and each page is written, and its data let go, once its figures are in place
            for conf in run.confrontations.values():
                page = ConfrontationPage(site, run, conf, tick, common, figures)
                page.prepare()
                figures.wait()
                page.render()
        finally:
            figures.finish()
        index = write_index(site, run)
        tick("index")
        write_data_page(site, run)
        tick("data")
    log.info("report written to %s", index)
    return index


def _drawing_processes(workers: int | None) -> int:
    """As many as asked, else as many as the runner's default workers (one per core, at most 4)."""
    return max(1, workers) if workers is not None else max(1, min(os.cpu_count() or 1, 4))


def _printable(text: str) -> str:
    """Model names are untrusted: keep terminal control characters out of the progress line."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def nav(run: Run) -> list[dict[str, str]]:
    return [{"name": c.name, "href": f"c/{safe_name(c.name)}/index.html"} for c in run.confrontations.values()]


def scoreboard_context(run: Run) -> dict[str, Any]:
    """Rows (models) × columns (confrontations grouped by quantity) for ``index.html``."""
    matrix = overall_scores(run.scalars)
    names = list(run.confrontations)
    matrix = matrix.reindex(index=run.models, columns=names).astype(float)
    z = z_scores(matrix)
    weights = {name: conf.weight for name, conf in run.confrontations.items()}
    overall = weighted_overall(matrix, weights)
    overall_z = z_scores(overall.to_frame("overall"))["overall"]
    failed = {(c, m): e for c, m, e in run.failures()}
    not_applicable = {(c, m): r for c, m, r in run.not_applicable()}
    # one list below the table: failures first (they need attention), then tasks that do not apply
    failure_rows = [{"id": f"fail-{i}", "confrontation": c, "model": m, "error": e, "status": "failed"}
                    for i, (c, m, e) in enumerate(run.failures(), start=1)]
    failure_rows += [{"id": f"na-{i}", "confrontation": c, "model": m, "error": r, "status": "not applicable"}
                     for i, (c, m, r) in enumerate(run.not_applicable(), start=1)]
    fail_ids = {(f["confrontation"], f["model"]): f["id"] for f in failure_rows}
    groups: list[dict[str, Any]] = []
    for col, (name, conf) in enumerate(run.confrontations.items(), start=2):
        if not groups or groups[-1]["name"] != conf.group:
            groups.append({"name": conf.group, "confs": []})
        groups[-1]["confs"].append({"name": name, "href": f"c/{safe_name(name)}/index.html", "weight": conf.weight,
                                    "col": col})
    rows = []
    for model in run.models:
        cells = []
        for name in names:
            value = matrix.at[model, name]
            page = f"c/{safe_name(name)}/index.html#m-{model_slug(model)}"
            cells.append({
                "value": None if pd.isna(value) else float(value), "cls": z_class(z.at[model, name]),
                "href": page, "failed": (name, model) in failed, "error": failed.get((name, model), ""),
                "not_applicable": (name, model) in not_applicable, "reason": not_applicable.get((name, model), ""),
                "fail_id": fail_ids.get((name, model), ""),
                "flags": _flag_messages(run, name, model),
            })
        rows.append({"model": model, "overall": overall.get(model), "overall_cls": z_class(overall_z.get(model)),
                     "cells": cells})
    csv = pd.DataFrame([
        {"model": m, "confrontation": n, "group": run.confrontations[n].group, "weight": run.confrontations[n].weight,
         "overall_score": matrix.at[m, n], "z_score": z.at[m, n], "status": _cell_status(n, m, matrix, failed, not_applicable),
         "reason": not_applicable.get((n, m), "")}
        for m in run.models for n in names])
    return {"groups": groups, "rows": rows, "failures": failure_rows, "n_failed": len(failed),
            "n_not_applicable": len(not_applicable), "csv": csv}


def _flag_messages(run: Run, conf: str, model: str) -> list[str]:
    """The saved warnings (``meta.json["flags"]``) of a task, shown on its scoreboard cell."""
    task = run.confrontations[conf].tasks.get(model)
    return [f.message for f in task.flags] if task is not None and task.ok else []


def _cell_status(conf: str, model: str, matrix: pd.DataFrame, failed: dict, not_applicable: dict) -> str:
    if (conf, model) in failed:
        return "error"
    if (conf, model) in not_applicable:
        return "not_applicable"
    return "ok" if pd.notna(matrix.at[model, conf]) else "missing"


def _common(run: Run) -> dict[str, Any]:
    config = run.info.get("config")
    config_name = config.get("name", "") if isinstance(config, dict) else ""
    return {"nav": nav(run), "synthetic": run.synthetic, "created": str(run.info.get("created", "") or ""),
            "config_name": str(config_name or "")}


def write_index(site: Site, run: Run) -> Path:
    context = scoreboard_context(run)
    site.write_csv("scoreboard.csv", context.pop("csv"))
    return site.render("index.html", "index.html", title="Scoreboard", legend=list(zip(Z_CLASSES, Z_LABELS)),
                       std_floor=STD_FLOOR, neutral_band=STD_FLOOR * 0.5, **_common(run), **context)


def write_data_page(site: Site, run: Run) -> Path:
    """References (registry) with citation, licence, URL, sha256; provenance from run.json."""
    info = run.info
    used = set()
    for conf in run.confrontations.values():
        used.update(conf.references)
    input_rows: list[tuple[str, str]] = []
    inputs = info.get("inputs") or []
    if isinstance(inputs, dict):  # {id: {...}} as well as the runner's [{"id": ..., ...}]
        inputs = [{"id": key, **(value if isinstance(value, dict) else {"value": value})} for key, value in inputs.items()]
    for item in inputs:
        if isinstance(item, dict) and "id" in item:
            used.add(str(item["id"]))
            details = item.get("sha256") or ("built into soilbench" if item.get("builtin") else "")
            extra = {k: v for k, v in item.items() if k not in {"id", "sha256", "builtin"}}
            input_rows.append((str(item["id"]), " · ".join(filter(None, [str(details), _describe(extra) if extra else ""]))))
    references = [{**{k: str(entry.get(k, "") or "") for k in ("citation", "licence", "url", "sha256", "description")},
                   "id": key, "used": key in used} for key, entry in _registry().items()]
    references.sort(key=lambda r: (not r["used"], r["id"]))
    config = info.get("config")
    provenance = [
        ("soilbench version", info.get("soilbench", info.get("soilbench_version", "unknown"))),
        ("run started", info.get("created", info.get("time", "unknown"))),
        ("configuration", config.get("name", "") if isinstance(config, dict) else (config or "")),
        ("synthetic data", "yes" if run.synthetic else "no"),
        ("results directory", str(run.directory)),
    ]
    provenance += [(str(k), _describe(v)) for k, v in info.items()
                   if k not in {"soilbench", "soilbench_version", "created", "time", "config", "synthetic", "inputs", "models"}]
    models_info = []
    for item in info.get("models", []) or []:
        if isinstance(item, dict):
            files = item.get("paths", item.get("files", ""))
            models_info.append({"name": str(item.get("name", "")),
                                "files": "; ".join(map(str, files)) if isinstance(files, list) else str(files)})
    return site.render("data.html", "data.html", title="Data & provenance", provenance=provenance, inputs=input_rows,
                       models_info=models_info, references=references,
                       run_json=json.dumps(info, indent=2, default=str, ensure_ascii=False), **_common(run))


def _describe(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"sha256"}:
        return str(value.get("sha256", ""))
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _registry() -> dict[str, dict[str, Any]]:
    """The reference registry via :mod:`soilbench.data`; a broken registry must not stop the report."""
    try:
        from soilbench.data import registry

        return registry()
    except Exception as err:  # noqa: BLE001 - the data page then lists no references, and says why in the log
        log.warning("report: cannot read the data registry: %s", " ".join(str(err).split()))
        return {}
