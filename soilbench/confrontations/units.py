"""Analysis units: the small, declared pieces a confrontation is made of.

A confrontation stages its references and prepares the model (period, derived field, common
grid); its **units** then do the science, each one thing: global totals, regional totals, zonal
bands, mean-state maps. A unit declares

- its ``name``;
- the canonical ``quantities`` it needs;
- its lazy reductions of a model (:meth:`AnalysisUnit.reductions`, gathered by the runner's one
  pass together with every other confrontation's);
- its options as ONE typed definition that validates itself (:class:`Options`, a frozen dataclass
  whose ``__post_init__`` raises :class:`OptionError`; the confrontation turns that into a
  :class:`~soilbench.errors.ConfigError` naming the file and ``options.<key>``);
- ``__call__(inputs) -> UnitResult``: rows of the tidy scalars, fields, tables and the unit's
  components of the overall score.

The confrontation hands the units' results to the one result builder
(:func:`soilbench.confrontations.build.build_result`), which writes the ``overall score`` row
under the rule of ``docs/scores.md`` ("One overall score per task").
"""

from __future__ import annotations

import copy
import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd
import xarray as xr

from soilbench.errors import ConfigError


class OptionError(ValueError):
    """An option value an :class:`Options` definition refuses: the key and a one-line problem."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Options:
    """Base of a typed options definition: one field per option, its default the declared default.

    Subclasses validate in ``__post_init__`` and raise :class:`OptionError` (the option's key and
    the problem as the user should read it). :meth:`defaults` is what
    :attr:`Confrontation.option_defaults` declares; :meth:`parse` builds the definition from a
    benchmark definition's ``options`` mapping.
    """

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every option and its default, in declaration order."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                out[f.name] = copy.deepcopy(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
            else:  # an option without a default cannot be left out of a definition
                raise TypeError(f"{cls.__name__}.{f.name} has no default")
        return out

    @classmethod
    def parse(cls, values: Mapping[str, Any], *, name: str, kind: str, source: str | None) -> "Options":
        """The typed options of confrontation ``name`` from ``values``; a :class:`ConfigError`
        (file, ``options.<key>``) for an unknown key or a value the definition refuses."""
        allowed = cls.defaults()
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ConfigError(source, f"confrontation '{name}' ({kind}) has unknown option(s) {unknown}; "
                              f"allowed: {sorted(allowed)}", "options")
        try:
            return cls(**{**allowed, **values})
        except OptionError as err:
            raise ConfigError(source, f"confrontation '{name}': {err.problem}", f"options.{err.key}") from None


def is_number(value: Any) -> bool:
    """Whether an option value is a finite number (YAML's true/false are not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number_list(options: Options, key: str, n: int) -> list[float]:
    """The option ``key`` as ``n`` finite numbers; :class:`OptionError` when it is anything else."""
    value = getattr(options, key)
    if not isinstance(value, (list, tuple)) or len(value) != n or not all(is_number(x) for x in value):
        raise OptionError(key, f"option {key} must be a list of {n} numbers, got {value!r}")
    return [float(x) for x in value]


def year_range(options: Options, key: str) -> tuple[int, int]:
    """The option ``key`` as ``[first_year, last_year]`` (two integers, first <= last)."""
    value = getattr(options, key)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in value) or value[0] > value[1]):
        raise OptionError(key, f"option {key} must be [first_year, last_year], got {value!r}")
    return int(value[0]), int(value[1])


@dataclass
class UnitResult:
    """What one analysis unit produced for one model (or for the references against each other).

    ``rows`` are scalar rows without the model and confrontation columns (the builder adds them);
    ``components`` are the unit's parts of the task's overall score (name → score in [0, 1], NaN
    when the model left it without a value) and ``weights`` their weights (1 when absent).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, xr.DataArray] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    table_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    field_attrs: dict[str, Any] = field(default_factory=dict)


class AnalysisUnit(ABC):
    """One analysis of a confrontation (see the module docstring for the interface).

    ``options`` is an instance of the unit's :attr:`Options` definition (already validated).
    """

    #: the unit's name (unique within its confrontation)
    name: ClassVar[str]
    #: the unit's typed options definition
    Options: ClassVar[type[Options]] = Options

    def __init__(self, options: Options):
        self.options = options

    @property
    def quantities(self) -> tuple[str, ...]:
        """Canonical quantities the unit reads from a model (default: the option ``quantity``)."""
        quantity = getattr(self.options, "quantity", None)
        return (quantity,) if quantity else ()

    def reductions(self, model: xr.Dataset) -> dict[Hashable, xr.DataArray | xr.Dataset]:
        """The unit's lazy reductions of ``model`` by key (default: none); see
        :meth:`soilbench.confrontations.base.Confrontation.model_reductions`."""
        return {}

    @abstractmethod
    def __call__(self, inputs: Any) -> UnitResult:
        """The unit's rows, fields, tables and components for the prepared ``inputs``."""
