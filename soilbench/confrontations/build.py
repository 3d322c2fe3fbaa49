"""The one result builder: the units' outputs → tidy scalars with ONE ``overall score`` row.

The weighting rule (``docs/scores.md``, "One overall score per task") is :func:`overall`, and
every confrontation type computes its overall score with it:

    overall = Σ wᵢ sᵢ / Σ wᵢ   over the components i that apply to the model,

where wᵢ is the component's declared weight (1 when none is declared). Components the type
declares *not applicable* to this model (a sub-annual score of a climatology) are left out of
both sums. Every other component is expected: one without a value (NaN: no valid common cell, a
region without data) counts as 0 and is named as *missing*, so leaving a component empty never
raises a score. The overall score is NaN only when no component applies (references that are
not scored against each other).

:func:`overall_rows` writes the rows of that score (optionally its components and the
``missing components`` count); :func:`build_result` collects a confrontation's
:class:`~soilbench.confrontations.units.UnitResult` s into one
:class:`~soilbench.results.ConfrontationResult`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import xarray as xr

from soilbench.analysis import scores
from soilbench.confrontations.units import UnitResult
from soilbench.regions import GLOBAL
from soilbench.results import ConfrontationResult, Flag, scalar_rows

#: the scoreboard's row (``docs/architecture.md``, "Results on disk")
OVERALL_ANALYSIS, OVERALL_NAME = "overall", "overall score"


@dataclass(frozen=True)
class Overall:
    """An overall score and what it was made of: the missing (NaN, counted as 0) and the
    not-applicable (left out) components, by name."""

    value: float
    missing: list[str]
    not_applicable: list[str]

    def __iter__(self):  # ``value, missing = overall(...)``
        return iter((self.value, self.missing))


def overall(parts: Mapping[str, float], weights: Mapping[str, float] | None = None,
            not_applicable: Iterable[str] = ()) -> Overall:
    """The overall score of ``parts`` under the one weighting rule (module docstring)."""
    skipped = [name for name in not_applicable if name in parts]
    expected = {name: float(value) for name, value in parts.items() if name not in skipped}
    value, missing = scores.overall_score_counting_missing(expected, weights)
    return Overall(float(value), missing, skipped)


def overall_rows(parts: Mapping[str, float], notes: list[str], weights: Mapping[str, float] | None = None, *,
                 not_applicable: Iterable[str] | None = None, with_parts: bool = False, completeness: bool = True,
                 reference: str = "") -> list[dict[str, Any]]:
    """The ``overall score`` row of ``parts`` (:func:`overall`), preceded by one
    ``analysis="overall"`` row per component when ``with_parts`` and by the scalar
    ``completeness / missing components`` when ``completeness`` (and ``components not
    applicable`` when the type declares which may not apply: ``not_applicable`` not None). A note
    naming the missing components is appended to ``notes``."""
    result = overall(parts, weights, not_applicable or ())
    common = {"reference": reference, "region": GLOBAL, "analysis": OVERALL_ANALYSIS, "units": "1"}
    rows = [{**common, "name": name, "type": "score", "value": value} for name, value in parts.items()] if with_parts else []
    if result.missing:
        notes.append(f"incomplete: {', '.join(result.missing)} missing (no value on the cells or regions compared); "
                     "counted as 0 in the overall score")
    if completeness:
        rows.append({**common, "analysis": "completeness", "name": "missing components", "type": "scalar",
                     "value": float(len(result.missing))})
        if not_applicable is not None:
            rows.append({**common, "analysis": "completeness", "name": "components not applicable",
                         "type": "scalar", "value": float(len(result.not_applicable))})
    rows.append({**common, "name": OVERALL_NAME, "type": "score", "value": result.value})
    return rows


def build_result(results: Sequence[UnitResult], *, model: str, confrontation: str, notes: Sequence[str] = (),
                 comparison: dict[str, Any] | None = None,
                 flags: Sequence[Flag] = (), with_parts: bool = False, completeness: bool = True,
                 reference: str = "", not_applicable: Sequence[str] | None = None,
                 fields_attrs: Mapping[str, Any] | None = None) -> ConfrontationResult:
    """One task's result from its units' results, in order: their rows, then the overall rows
    (:func:`overall_rows` over every unit's components); their fields (one dataset, with
    ``fields_attrs``), tables and notes. ``notes`` come first."""
    rows: list[dict[str, Any]] = []
    parts: dict[str, float] = {}
    weights: dict[str, float] = {}
    fields: dict[str, xr.DataArray] = {}
    attrs: dict[str, Any] = {}
    tables: dict[str, pd.DataFrame] = {}
    table_meta: dict[str, dict[str, Any]] = {}
    all_notes = list(notes)
    for result in results:
        rows += result.rows
        clash = set(parts) & set(result.components)
        if clash:
            raise ValueError(f"{confrontation}: overall-score component(s) {sorted(clash)} given by two units")
        parts.update(result.components)
        weights.update(result.weights)
        fields.update(result.fields)
        attrs.update(result.field_attrs)
        tables.update(result.tables)
        table_meta.update(result.table_meta)
        all_notes += result.notes
    rows += overall_rows(parts, all_notes, weights or None, not_applicable=not_applicable, with_parts=with_parts,
                         completeness=completeness, reference=reference)
    dataset = None
    if fields:
        dataset = xr.Dataset(fields)
        dataset.attrs = {**attrs, **(fields_attrs or {})}
    return ConfrontationResult(scalar_rows(rows, model=model, confrontation=confrontation, reference=reference),
                               dataset, tables,
                               table_meta, all_notes, dict(comparison or {}), list(flags))

