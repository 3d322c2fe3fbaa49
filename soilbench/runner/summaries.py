"""Cross-model summaries, computed after every task from the saved results of *this* run.

Two kinds:

- the confrontation types' own (:meth:`Confrontation.summarize_models`, declared on the base
  class, e.g. the turnover 2-box ensemble), written where the type decides;
- the spread among models and among products (``soilbench.analysis.spread.spread_table``) of
  every confrontation whose model results carry a ``regional_totals`` table (the global-totals
  type): ``OUT/_summary/<confrontation>/regional_spread.csv``, which the report shows on that
  confrontation's page without recomputing anything.

Only the (model, confrontation) directories of the current run count (the ``rows`` the runner
passes, also recorded in ``run.json["results"]``): directories of models or confrontations
dropped since an earlier run into the same ``OUT/`` stay on disk for reuse but are ignored.
A summary that fails is logged and never fails the run: the per-model results are what matter.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from soilbench import atomic
from soilbench.confrontations.base import Confrontation
from soilbench.results import OK, REFERENCES_SLUG

log = logging.getLogger("soilbench.runner")

SUMMARY_DIR = "_summary"  # underscore: never a confrontation name ([a-z0-9-])
#: the per-model table the spread is computed from, and the summary file it gives
SPREAD_SOURCE_TABLE = "regional_totals"
SPREAD_FILE = "regional_spread.csv"


def model_task_dirs(out: Path, rows: Iterable[dict[str, Any]], confrontation: str) -> list[Path]:
    """Directories of the ok model tasks (not references) of ``confrontation`` in this run."""
    return [out / row["directory"] for row in rows
            if row["confrontation"] == confrontation and row["status"] == OK
            and Path(row["directory"]).name != REFERENCES_SLUG]


def spread_path(out: Path, confrontation: str) -> Path:
    return out / SUMMARY_DIR / confrontation / SPREAD_FILE


def regional_spread(task_dirs: Iterable[Path]) -> pd.DataFrame | None:
    """:func:`~soilbench.analysis.spread.spread_table` of the tasks' ``regional_totals`` tables.

    None when fewer than two models saved the table (no spread across models to speak of).
    """
    from soilbench.analysis.spread import spread_table

    frames = [pd.read_csv(path, keep_default_na=False, na_values=[""])
              for path in (Path(d) / "tables" / f"{SPREAD_SOURCE_TABLE}.csv" for d in task_dirs) if path.is_file()]
    if len(frames) < 2:
        return None
    return spread_table(pd.concat(frames, ignore_index=True))


def write_summaries(out: Path, confrontations: list[Confrontation], rows: list[dict[str, Any]]) -> list[str]:
    """Write every cross-model summary of the run; return the files written (relative to ``out``)."""
    written: list[str] = []
    for confrontation in confrontations:
        task_dirs = model_task_dirs(out, rows, confrontation.name)
        written += _spread(out, confrontation.name, task_dirs)
        written += _type_summary(out, confrontation, task_dirs)
    return written


def _spread(out: Path, name: str, task_dirs: list[Path]) -> list[str]:
    path = spread_path(out, name)
    try:
        table = regional_spread(task_dirs)
    except Exception as err:  # a summary is an extra; never lose the run over it
        log.warning("spread summary of %s failed: %s", name, " ".join(str(err).split()))
        table = None
    if table is None:
        path.unlink(missing_ok=True)  # an earlier run's file would describe other models
        return []
    with atomic.atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return [path.relative_to(out).as_posix()]


def _type_summary(out: Path, confrontation: Confrontation, task_dirs: list[Path]) -> list[str]:
    """The type's :meth:`~soilbench.confrontations.base.Confrontation.summarize_models` over
    ``task_dirs`` (this run's ok model tasks), so that it reads exactly the current run's models.
    Returns the files it reports writing under ``OUT/_summary/<confrontation>/`` (a list of
    paths), which the report then shows."""
    try:
        result = type(confrontation).summarize_models(out, confrontation.name, task_dirs=task_dirs)
    except Exception as err:  # a summary is an extra; never lose the run over it
        log.warning("summary of %s failed: %s", confrontation.name, " ".join(str(err).split()))
        return []
    base = (out / SUMMARY_DIR / confrontation.name).resolve()
    return [Path(p).resolve().relative_to(out.resolve()).as_posix() for p in result
            if isinstance(p, Path) and Path(p).resolve().parent == base] if isinstance(result, list) else []
