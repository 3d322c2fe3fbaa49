"""CMEC bundles of a saved run: ``OUT/cmec/metric_bundle.json`` and ``OUT/cmec/output_bundle.json``.

The metric bundle is the CMEC JSON of the Earth System Metrics and Diagnostics Standards, in the
form the CMIP Rapid Evaluation Framework (``climate-ref``) validates: ``DIMENSIONS`` with
``json_structure = [model, region, metric, statistic]`` and a nested ``RESULTS``. Every row of
``scalars.csv`` is one leaf of ``RESULTS`` (a missing value is JSON ``null``, which the REF reads as
NaN), so the two always carry the same numbers:

- ``model``: the ``model`` column (``references`` holds the references compared with each other);
- ``region``: the ``region`` column (``global`` is the REF vocabulary's global region);
- ``metric``: ``<confrontation>::<reference>``, or ``<confrontation>`` for rows of no one reference
  (overall score, spread), as ILAMB 2.x joins section, variable and source with ``::``/``!!``;
- ``statistic``: the row's name (``overall score`` is the REF vocabulary's value) prefixed with its
  analysis, with the units in brackets unless dimensionless. A name repeated within one cell
  (several literature estimates of one total) gets ``#2``, ``#3``... in the order of scalars.csv.

The output bundle lists what the run wrote (index, provenance, data, plots, html), with paths
relative to ``OUT/``. Both are built from saved results only (``run.json``, ``scalars.csv``,
``status.csv``, the task directories, the report's files).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from soilbench import __version__, atomic
from soilbench.results import SCALAR_COLUMNS

CMEC_DIR = "cmec"
METRIC_BUNDLE = "metric_bundle.json"
OUTPUT_BUNDLE = "output_bundle.json"
JSON_STRUCTURE = ["model", "region", "metric", "statistic"]
#: the REF's controlled vocabulary spells the scoreboard's number this way
OVERALL_STATISTIC = "overall score"
_DIMENSIONLESS = {"", "1", "dimensionless"}
_PLOT_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg"}


def read_scalars(out: str | os.PathLike) -> pd.DataFrame:
    """``OUT/scalars.csv`` as written by the runner (empty strings stay empty, not NaN)."""
    table = pd.read_csv(Path(out) / "scalars.csv", keep_default_na=False, na_values=[""], dtype={"value": float})
    for column in SCALAR_COLUMNS:
        if column != "value":
            table[column] = table[column].fillna("").astype(str)
    return table


def metric_key(confrontation: str, reference: str) -> str:
    return f"{confrontation}::{reference}" if reference else confrontation


def statistic_key(analysis: str, name: str, units: str) -> str:
    """The statistic a scalar row is filed under (before any ``#n`` for repeated rows)."""
    if analysis == "overall" and name == OVERALL_STATISTIC:
        return OVERALL_STATISTIC
    label = f"{analysis}: {name}" if analysis else name
    return label if units in _DIMENSIONLESS else f"{label} [{units}]"


def keyed_rows(scalars: pd.DataFrame) -> Iterator[tuple[tuple[str, str, str, str], float | None, pd.Series]]:
    """Each scalar row with its ``(model, region, metric, statistic)`` key, in table order.

    The value is None where scalars.csv has none (JSON null).
    """
    seen: dict[tuple[str, str, str, str], int] = {}
    for _, row in scalars.iterrows():
        base = (row["model"], row["region"], metric_key(row["confrontation"], row["reference"]),
                statistic_key(row["analysis"], row["name"], row["units"]))
        count = seen.get(base, 0) + 1
        seen[base] = count
        key = base if count == 1 else (*base[:3], f"{base[3]} #{count}")
        value = None if pd.isna(row["value"]) else float(row["value"])
        yield key, value, row


def metric_bundle(out: str | os.PathLike) -> dict[str, Any]:
    """The CMEC metric bundle of the run saved in ``out`` (see the module docstring)."""
    out = Path(out)
    run = _run_json(out)
    scalars = read_scalars(out)
    dimensions: dict[str, dict[str, Any]] = {name: {} for name in JSON_STRUCTURE}
    results: dict[str, Any] = {}
    models = {m.get("name"): m for m in run.get("models", [])}
    confrontations = {c.get("name"): c for c in (run.get("config") or {}).get("confrontations", [])}
    for (model, region, metric, statistic), value, row in keyed_rows(scalars):
        if model not in dimensions["model"]:
            dimensions["model"][model] = _model_entry(model, models.get(model))
        dimensions["region"].setdefault(region, {"long_name": _region_name(region)})
        if metric not in dimensions["metric"]:
            dimensions["metric"][metric] = _metric_entry(row, confrontations.get(row["confrontation"]))
        dimensions["statistic"].setdefault(statistic, {
            "analysis": row["analysis"], "name": row["name"], "type": row["type"], "units": row["units"] or "1",
        })
        results.setdefault(model, {}).setdefault(region, {}).setdefault(metric, {})[statistic] = value
    _fill_missing_cells(results, dimensions)
    return {
        "SCHEMA": {"name": "CMEC", "version": "v1", "package": "soilbench"},
        "DIMENSIONS": {"json_structure": list(JSON_STRUCTURE), **dimensions},
        "RESULTS": results,
        "PROVENANCE": _provenance(run),
        "DISCLAIMER": None,
        "NOTES": {"synthetic": bool(run.get("synthetic")),
                  "scalars": "every row of scalars.csv; null where it has no value"},
    }


def _fill_missing_cells(results: dict[str, Any], dimensions: dict[str, dict[str, Any]]) -> None:
    """CMEC wants every model × region × metric present; cells without rows become empty dicts."""
    for model in dimensions["model"]:
        by_region = results.setdefault(model, {})
        for region in dimensions["region"]:
            by_metric = by_region.setdefault(region, {})
            for metric in dimensions["metric"]:
                by_metric.setdefault(metric, {})


def _model_entry(name: str, described: dict[str, Any] | None) -> dict[str, Any]:
    if name == "references":
        return {"description": "the references compared with each other"}
    entry: dict[str, Any] = {}
    for key, value in (described or {}).items():
        if key in ("name", "paths"):
            continue
        entry[key] = value
    if described and described.get("paths"):
        entry["files"] = len(described["paths"])
    return entry


def _metric_entry(row: pd.Series, confrontation: dict[str, Any] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"confrontation": row["confrontation"]}
    if row["reference"]:
        entry["reference"] = row["reference"]
    if confrontation:
        entry["type"] = confrontation.get("type")
        if "weight" in confrontation:
            entry["weight"] = confrontation["weight"]
    return entry


def _region_name(region: str) -> str:
    from soilbench.regions import CLIMATE_GROUPS

    if region == "global":
        return "Global"
    if region in CLIMATE_GROUPS:
        return f"Köppen climate group {CLIMATE_GROUPS[region]}"
    if region.startswith("lat_"):
        south, _, north = region[4:].partition("_")
        return f"latitude band {south}° to {north}°"
    return region


def _run_json(out: Path) -> dict[str, Any]:
    try:
        return json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _provenance(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "soilbench": run.get("soilbench", __version__),
        "created": run.get("created"),
        "benchmark": (run.get("config") or {}).get("name"),
        "synthetic": bool(run.get("synthetic")),
    }


# -- output bundle ----------------------------------------------------------------------------------
def output_bundle(out: str | os.PathLike, report_index: str | os.PathLike | None = None) -> dict[str, Any]:
    """The CMEC output bundle: the scorecard (index), provenance, data, plots and html of the run.

    Paths are relative to ``out``; a report written outside ``out`` gets a relative path with
    ``..``. Only this run's task directories (``run.json["results"]``) are listed.
    """
    out = Path(out)
    run = _run_json(out)
    data: dict[str, dict[str, str]] = {
        "scalars": _item(out, out / "scalars.csv", "scalars", "every scalar and score of the run (tidy)"),
        "status": _item(out, out / "status.csv", "task status", "each task's status: ok, error or not_applicable"),
        "run": _item(out, out / "run.json", "run provenance", "soilbench version, definition, inputs, models"),
    }
    for written in run.get("summaries", []) or []:
        path = out / str(written)
        if path.is_file():
            data[f"summary/{path.relative_to(out).as_posix()}"] = _item(out, path, path.stem.replace("_", " "),
                                                                        "cross-model summary")
    for task in run.get("results", []) or []:
        directory = out / str(task.get("directory", ""))
        if task.get("status") != "ok" or not directory.is_dir():
            continue
        label = f"{task['confrontation']} / {task['model']}"
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.suffix in (".csv", ".nc"):
                relative = path.relative_to(out).as_posix()
                data[relative] = _item(out, path, f"{label}: {path.relative_to(directory).as_posix()}",
                                       _describe_task_file(path))
    html: dict[str, dict[str, str]] = {}
    plots: dict[str, dict[str, str]] = {}
    index = None
    if report_index is not None and Path(report_index).is_file():
        site = Path(report_index).parent
        index = Path(os.path.relpath(report_index, out)).as_posix()
        for path in sorted(site.rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(site).as_posix()
            if path.suffix == ".html":
                key = "scorecard" if path == Path(report_index) else relative
                html[key] = _item(out, path, "soilbench scorecard" if key == "scorecard" else relative,
                                  "HTML page of the scorecard")
            elif path.suffix in _PLOT_SUFFIXES:
                plots[relative] = _item(out, path, relative, "figure of the scorecard")
            elif path.suffix == ".csv":
                data[f"scorecard/{relative}"] = _item(out, path, relative, "table offered for download by the scorecard")
            else:  # the pages' stylesheet and script: whoever copies the listed files keeps the site whole
                html[relative] = _item(out, path, relative, "asset of the scorecard's pages")
    return {
        "index": index,
        "provenance": {
            "environment": {"soilbench": str(run.get("soilbench", __version__)), "python": platform.python_version()},
            "modeldata": {str(m.get("name")): m for m in run.get("models", [])},
            "obsdata": {str(i.get("id")): {k: v for k, v in i.items() if k != "id"} for i in run.get("inputs", [])},
            "log": "status.csv",
        },
        "data": data,
        "plots": plots,
        "html": html,
        "metrics": {"metric_bundle": {"filename": f"{CMEC_DIR}/{METRIC_BUNDLE}", "long_name": "CMEC metric bundle",
                                      "description": "every scalar and score of the run, as CMEC JSON"}},
    }


def _describe_task_file(path: Path) -> str:
    if path.name == "scalars.csv":
        return "the task's scalars and scores"
    if path.name == "fields.nc":
        return "fields drawn on the task's page (maps, zonal means, series)"
    return "table of the task"


def _item(out: Path, path: Path, long_name: str, description: str) -> dict[str, str]:
    return {"filename": Path(os.path.relpath(path, out)).as_posix(), "long_name": long_name, "description": description}


def write_bundles(out: str | os.PathLike, report_index: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Write both bundles under ``OUT/cmec/`` atomically; return their paths."""
    out = Path(out)
    metric = atomic.write_text(out / CMEC_DIR / METRIC_BUNDLE,
                               json.dumps(metric_bundle(out), indent=1, allow_nan=False, default=str))
    output = atomic.write_text(out / CMEC_DIR / OUTPUT_BUNDLE,
                               json.dumps(output_bundle(out, report_index), indent=1, allow_nan=False, default=str))
    return metric, output
