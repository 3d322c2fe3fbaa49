"""Which years a model is compared over: the one period rule of every confrontation.

As ILAMB trims a model and a reference to the years they share, soilbench compares a model over
the years it shares with its references (and with the confrontation's ``period`` option, when
set). Every confrontation asks :func:`choose_period` and cuts with :func:`steps_in`; the
choice is saved in each task's ``meta.json`` (``period``) and shown on the pages. The rule
(``docs/gridded.md``, "Periods"):

1. The target years are the intersection of the requested period and of every reference that
   has years (a static product, e.g. HWSD soil carbon, has none and constrains nothing).
   References whose years do not intersect each other leave the first dated reference's years.
2. A model with a time axis is cut to the years it shares with the target.
3. A one-period model (a climatology) cannot be cut: its own years are the compared period.
4. When the model shares no year with the target, the **fallback** is the model's climatology:
   the mean over its whole record (or its one period), compared with the references as they
   are. ``fallback`` says so in words; the report shows it beside the model's period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr

#: first and last calendar year, inclusive
Years = tuple[int, int]


def parse_years(value: Any) -> Years | None:
    """``"2001-2010"``, ``[2001, 2010]`` or ``(2001, 2010)`` → (2001, 2010); None for anything else
    (absent, ``"static"``, malformed)."""
    try:
        if isinstance(value, str):
            first, last = value.split("-")[:2]
        else:
            first, last = value
        first, last = int(first), int(last)
    except (TypeError, ValueError):
        return None
    return (first, last) if first <= last else None


def years_of(ds: xr.Dataset | xr.DataArray) -> Years | None:
    """The years a canonical dataset represents: its time axis, else ``attrs["period"]``."""
    if "time" in ds.dims and ds.sizes["time"]:
        years = ds["time"].dt.year
        return int(years.min()), int(years.max())
    return parse_years(ds.attrs.get("period"))


def shared(a: Years | None, b: Years | None) -> Years | None:
    """The years two periods share; None when they share none (or either is None)."""
    if a is None or b is None:
        return None
    first, last = max(a[0], b[0]), min(a[1], b[1])
    return (first, last) if first <= last else None


def steps_in(ds: xr.Dataset, years: Years | None) -> xr.Dataset:
    """The time steps of ``ds`` whose calendar year lies in ``years`` (inclusive), with
    ``attrs["period"]`` set to the years kept; ``ds`` itself without a time axis or ``years``.
    Empty when no step falls in ``years`` (callers choose ``years`` with :func:`choose_period`)."""
    if years is None or "time" not in ds.dims:
        return ds
    year = ds["time"].dt.year.values
    kept = ds.isel(time=np.flatnonzero((year >= years[0]) & (year <= years[1])))
    if kept.sizes["time"]:
        kept.attrs = {**ds.attrs, "period": "{}-{}".format(*years_of(kept))}
    return kept


@dataclass(frozen=True)
class PeriodChoice:
    """The years of a comparison (see the module's rule).

    Attributes
    ----------
    model
        The model's own years (time axis after any ``--period`` of the run, or its one period).
    references
        Each reference's years; None for a static reference.
    requested
        The confrontation's ``period`` option; None when not set.
    compared
        The years the model is compared over.
    fallback
        None when model and references share years; else what was done, in words.
    """

    model: Years | None
    references: dict[str, Years | None] = field(default_factory=dict)
    requested: Years | None = None
    compared: Years | None = None
    fallback: str | None = None

    def as_meta(self) -> dict[str, Any]:
        """JSON form for ``meta.json["period"]``: years as ``[first, last]`` or null."""
        def listed(years: Years | None) -> list[int] | None:
            return None if years is None else [int(years[0]), int(years[1])]

        return {"model": listed(self.model), "references": {k: listed(v) for k, v in self.references.items()},
                "requested": listed(self.requested), "compared": listed(self.compared), "fallback": self.fallback}


def _label(years: Years) -> str:
    return f"{years[0]}-{years[1]}"


def choose_period(model: Years | None, references: Mapping[str, Years | None], requested: Years | None = None, *,
                  model_has_time: bool = True) -> PeriodChoice:
    """The years to compare ``model`` over, by the module's rule.

    Parameters
    ----------
    model
        The model's years (:func:`years_of`).
    references
        Each reference id's years (None: static, no years).
    requested
        The confrontation's ``period`` option.
    model_has_time
        Whether the model has a time axis (else it is one period mean and cannot be cut).
    """
    target = requested
    dated = [years for years in references.values() if years is not None]
    for years in dated:
        narrowed = years if target is None else shared(target, years)
        if narrowed is None:  # disjoint references (or outside the requested period): keep what we had
            target = target or years
            continue
        target = narrowed
    refs = dict(references)
    if model is None:
        return PeriodChoice(None, refs, requested, None, None)
    if target is None:
        return PeriodChoice(model, refs, requested, model, None)
    common = shared(model, target)
    if common is None:
        what = "its whole record" if model_has_time else "its one period"
        fallback = (f"the model ({_label(model)}) shares no year with {_label(target)}: its climatology (the mean "
                    f"over {what}) is compared")
        return PeriodChoice(model, refs, requested, model, fallback)
    return PeriodChoice(model, refs, requested, common if model_has_time else model, None)


def with_fallback(choice: PeriodChoice, more: list[str]) -> PeriodChoice:
    """``choice`` with reference-side fallbacks (e.g. a series that shares no year with the compared
    period and keeps its whole record) added to its ``fallback`` text."""
    parts = [p for p in [choice.fallback, *more] if p]
    return replace(choice, fallback="; ".join(parts) if parts else None)
