"""The run's files: per-task results, and ``scalars.csv``, ``status.csv``, ``run.json`` (all atomic).

A task directory is complete when its ``meta.json`` exists (it is written last). A task is
reused on a re-run when that ``meta.json`` says ``status: ok`` (or ``not_applicable``: the same
model and definition give the same answer) with the same fingerprint; anything else (missing,
failed, changed inputs, half-written by an interrupted run) is recomputed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from soilbench import atomic
from soilbench.results import NOT_APPLICABLE, OK, SCALAR_COLUMNS, save_failure, save_not_applicable

STATUS_COLUMNS = ["confrontation", "model", "status", "error", "kind", "group", "weight", "directory", "reused", "seconds"]
#: per confrontation: fingerprint of a confront_references() that returned None (nothing to save)
NO_REFERENCES_MARKER = ".no-references.json"


def read_meta(directory: Path) -> dict[str, Any] | None:
    """The task's ``meta.json``, or None when absent or unreadable (an incomplete task)."""
    try:
        return json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(directory: Path, fingerprint: str) -> bool:
    """Whether the saved result is complete, ok (or not applicable) and from the same inputs."""
    meta = read_meta(directory)
    return bool(meta) and meta.get("status") in (OK, NOT_APPLICABLE) and meta.get("fingerprint") == fingerprint


def no_references_current(confrontation_dir: Path, fingerprint: str) -> bool:
    try:
        marker = json.loads((confrontation_dir / NO_REFERENCES_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("fingerprint") == fingerprint


def mark_no_references(confrontation_dir: Path, fingerprint: str) -> None:
    atomic.write_text(confrontation_dir / NO_REFERENCES_MARKER, json.dumps({"fingerprint": fingerprint}))


def clear_task_dir(directory: Path) -> None:
    """Empty a task directory before it is rewritten.

    ``meta.json`` goes first, so an interruption at any point leaves the directory incomplete
    (redone next time) rather than complete with stale tables from an earlier run.
    """
    (directory / "meta.json").unlink(missing_ok=True)
    if directory.is_dir():
        for child in directory.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


def save_outcome(directory: Path, meta: dict[str, Any], outcome: Any) -> None:
    """Write one task's outcome (result, not applicable, or failure) into its directory."""
    clear_task_dir(directory)
    meta = {**meta, "timings": outcome.timings, "worker": outcome.worker}
    if outcome.available:
        meta["model_quantities"] = list(outcome.available)
    if outcome.status == OK:
        outcome.result.save(directory, meta)
    elif outcome.status == NOT_APPLICABLE:
        save_not_applicable(directory, meta, outcome.reason)
    else:
        save_failure(directory, {**meta, "traceback": outcome.traceback}, outcome.error)


def write_scalars(out: Path, directories: list[Path]) -> Path:
    """``OUT/scalars.csv``: the scalars of every ok task of this run, concatenated."""
    frames = []
    for directory in directories:
        meta = read_meta(directory)
        path = directory / "scalars.csv"
        if meta and meta.get("status") == "ok" and path.is_file():
            frames.append(pd.read_csv(path, keep_default_na=False, na_values=[""]))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SCALAR_COLUMNS)
    with atomic.atomic_path(out / "scalars.csv") as tmp:
        table.reindex(columns=SCALAR_COLUMNS).to_csv(tmp, index=False)
    return out / "scalars.csv"


def write_status(out: Path, rows: list[dict[str, Any]]) -> Path:
    """``OUT/status.csv``: one row per task (confrontation, model, status, error, ...)."""
    table = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    with atomic.atomic_path(out / "status.csv") as tmp:
        table.to_csv(tmp, index=False)
    return out / "status.csv"


def write_run_json(out: Path, provenance: dict[str, Any]) -> Path:
    return atomic.write_text(out / "run.json", json.dumps(provenance, indent=2, default=str))


def write_cmec(out: Path, report_index: Path | None = None) -> tuple[Path, Path]:
    """``OUT/cmec/metric_bundle.json`` and ``output_bundle.json``, from the files written above."""
    from soilbench.cmec import write_bundles

    return write_bundles(out, report_index)
