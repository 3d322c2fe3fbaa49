"""The one currency between analyses, scores, the scoreboard, CSV and HTML.

A confrontation of one model gives a :class:`ConfrontationResult`: a tidy table of scalars,
optional NetCDF fields for plots and optional tables (per-site, per-study, Taylor points...).
It is saved under ``OUT/<confrontation>/<model_slug>/`` (see ``docs/results.md``) atomically,
and everything downstream (report, compare, ILAMB plugin scoreboard) reads only what is saved.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from soilbench import atomic

SCALAR_COLUMNS = ["model", "confrontation", "reference", "region", "analysis", "name", "type", "units", "value"]
SCALAR_TYPES = ("scalar", "score")
REFERENCES_SLUG = "_references"  # results of references against each other (no model)
#: ``meta.json`` status values: a result, a failure, or a model without what the task compares
OK, ERROR, NOT_APPLICABLE = "ok", "error", "not_applicable"
#: ``meta.json`` keys a confrontation states about what it compared (:attr:`ConfrontationResult.comparison`)
COMPARISON_KEYS = ("quantity", "units", "reference_ids", "period")


@dataclass(frozen=True)
class Flag:
    """A warning about a scored model that the reader must see next to its score.

    ``code`` is stable (``small_land_area``, ``total_out_of_range``, ``grid_gaps``,
    ``partial_grid``, ``overall_incomplete``…, see ``docs/report.md``); ``message`` is one line
    for people.
    """

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def model_slug(model_name: str) -> str:
    """A file-name-safe, collision-free directory name for any model name.

    Model names come from users and catalogs (``../../x``, ``<script>``); the slug keeps only
    ``[A-Za-z0-9._-]``, never starts with a dot, and carries a short hash of the real name.
    """
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", model_name).strip("_")[:60] or "model"
    digest = hashlib.sha256(model_name.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned}-{digest}"


def scalar_rows(rows: list[dict[str, Any]], **common: Any) -> pd.DataFrame:
    """Build a tidy scalar table from row dicts, filling ``common`` columns and checking types."""
    frame = pd.DataFrame([{**common, **row} for row in rows], columns=SCALAR_COLUMNS)
    bad = set(frame["type"].dropna()) - set(SCALAR_TYPES)
    if bad:
        raise ValueError(f"scalar type must be one of {SCALAR_TYPES}, got {sorted(bad)}")
    frame["value"] = frame["value"].astype(float)
    return frame


@dataclass
class ConfrontationResult:
    """What one (confrontation, model) pair produced.

    Attributes
    ----------
    scalars
        Tidy table with :data:`SCALAR_COLUMNS`; ``type`` is ``score`` (0–1, higher is better)
        or ``scalar``.
    fields
        Gridded/profile fields for plots; each variable carries a ``plot`` attribute (see
        ``docs/results.md``).
    tables
        Named tables (per study, per site, Taylor points...); described in ``table_meta``.
    table_meta
        Per table: ``{"plot": kind, "title": ..., ...}`` telling the report how to draw it.
    notes
        Human-readable remarks shown on the confrontation page (e.g. "model is a 2000-2010
        climatology; compared as such").
    comparison
        What was compared, saved as top-level ``meta.json`` keys (:data:`COMPARISON_KEYS`):
        ``quantity``, ``units``, ``reference_ids`` and ``period`` (``model``, ``references``,
        ``requested``, ``compared`` as ``[first, last]`` years or null, ``fallback``: what was
        done when model and references share no year, else null; see
        :func:`soilbench.analysis.periods.choose_period`). The report reads these, never the notes.
    flags
        Warnings shown on the scoreboard cell and the page (:class:`Flag`), saved as
        ``meta.json["flags"]`` (a list of ``{code, message}``).
    """

    scalars: pd.DataFrame
    fields: xr.Dataset | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    table_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    comparison: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)

    def save(self, directory: str | Path, meta: dict[str, Any]) -> Path:
        """Write the result into ``directory`` atomically; ``meta.json`` is written last.

        A directory whose ``meta.json`` exists is therefore complete.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(directory / "scalars.csv") as tmp:
            self.scalars.to_csv(tmp, index=False)
        if self.fields is not None and len(self.fields.data_vars):
            with atomic.atomic_path(directory / "fields.nc") as tmp:
                self.fields.to_netcdf(tmp)
        for name, table in self.tables.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
                raise ValueError(f"table name {name!r} is not a safe file name")
            with atomic.atomic_path(directory / "tables" / f"{name}.csv") as tmp:
                table.to_csv(tmp, index=False)
        full_meta = {**meta, **{k: v for k, v in self.comparison.items() if k in COMPARISON_KEYS}, "status": "ok",
                     "notes": self.notes, "tables": self.table_meta, "flags": [f.as_dict() for f in self.flags]}
        atomic.write_text(directory / "meta.json", json.dumps(full_meta, indent=2, default=str))
        return directory


def save_failure(directory: str | Path, meta: dict[str, Any], error: str) -> Path:
    """Record that a (confrontation, model) task failed, with its one-line error."""
    directory = Path(directory)
    full_meta = {**meta, "status": "error", "error": error}
    atomic.write_text(directory / "meta.json", json.dumps(full_meta, indent=2, default=str))
    return directory


def save_not_applicable(directory: str | Path, meta: dict[str, Any], reason: str) -> Path:
    """Record that a task does not apply to its model (e.g. no ``rs`` and no conversion), with why.

    Not a failure: the model lacks what the confrontation compares, so there is no score to give.
    """
    directory = Path(directory)
    full_meta = {**meta, "status": NOT_APPLICABLE, "reason": reason}
    atomic.write_text(directory / "meta.json", json.dumps(full_meta, indent=2, default=str))
    return directory


def load_result(directory: str | Path) -> tuple[dict[str, Any], ConfrontationResult | None]:
    """Read a saved result back: ``(meta, result)``; ``result`` is None for failed tasks and for
    tasks that were not applicable (``meta["status"]`` says which; ``meta["reason"]`` why)."""
    directory = Path(directory)
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    if meta.get("status") != "ok":
        return meta, None
    scalars = pd.read_csv(directory / "scalars.csv", keep_default_na=False, na_values=[""])
    fields_path = directory / "fields.nc"
    fields = xr.load_dataset(fields_path) if fields_path.exists() else None
    tables = {
        p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""])
        for p in sorted((directory / "tables").glob("*.csv"))
    }
    comparison = {key: meta[key] for key in COMPARISON_KEYS if key in meta}
    return meta, ConfrontationResult(scalars, fields, tables, meta.get("tables", {}), meta.get("notes", []),
                                     comparison, saved_flags(meta))


def saved_flags(meta: dict[str, Any]) -> list[Flag]:
    """The flags of a task's ``meta.json`` (malformed entries skipped: meta.json is data)."""
    flags = meta.get("flags") if isinstance(meta, dict) else None
    return [Flag(str(f["code"]), str(f.get("message", ""))) for f in flags or []
            if isinstance(f, dict) and f.get("code")]
