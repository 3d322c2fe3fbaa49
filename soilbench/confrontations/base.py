"""ILAMB's lifecycle, kept small: stage data → confront → scores; plots belong to the report.

A confrontation compares one model (a canonical dataset from :mod:`soilbench.load`) with one
or more references. Subclasses keep the science in pure functions under
:mod:`soilbench.analysis` and only wire data to them here.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import xarray as xr

from soilbench import __version__
from soilbench.errors import ConfigError
from soilbench.results import ConfrontationResult

_REGISTRY: dict[str, type["Confrontation"]] = {}

#: a reduction's key: a tuple describing it canonically, e.g. ``("annual_step_sums", "rh", "rh", 2001, 2010)``;
#: equal keys from several confrontations are computed once (see :meth:`Confrontation.model_reductions`)
ReductionKey = Hashable
Reductions = Mapping[ReductionKey, Any]

# Modules that define confrontation types; imported on first lookup so that importing
# soilbench stays cheap.
_MODULES = (
    "soilbench.confrontations.gridded",
    "soilbench.confrontations.sites",
    "soilbench.confrontations.turnover",
    "soilbench.confrontations.stocks",
)


def register(cls: type["Confrontation"]) -> type["Confrontation"]:
    """Class decorator: make ``cls`` available under ``cls.kind`` in benchmark definitions."""
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise ValueError(f"confrontation type {cls.kind!r} registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def confrontation_class(kind: str, source: str | None = None) -> type["Confrontation"]:
    """The class registered for ``kind``; a :class:`ConfigError` naming the choices otherwise."""
    for module in _MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ConfigError(
            source, f"unknown confrontation type {kind!r}; known types: {', '.join(sorted(_REGISTRY))}", "type"
        ) from None


class Confrontation(ABC):
    """Base class of every soilbench confrontation.

    Parameters
    ----------
    name
        Unique name in the benchmark definition (e.g. ``rh-global-totals``).
    references
        Registry / catalog ids of the references to compare against.
    options
        Type-specific options; only keys of :attr:`option_defaults` are accepted.
    weight
        Weight of this confrontation's overall score in the scoreboard.
    data_dir
        Data directory override passed to :func:`soilbench.data.fetch`.
    source
        Where the definition came from, for error messages.
    """

    kind: ClassVar[str]
    #: canonical quantities the model must provide (see :mod:`soilbench.quantities`)
    quantities: ClassVar[tuple[str, ...]] = ()
    #: the group on the scoreboard: "Rh", "SR" or "τ"
    group: ClassVar[str] = ""
    #: allowed options and their defaults
    option_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        name: str,
        references: list[str],
        options: dict[str, Any] | None = None,
        weight: float = 1.0,
        data_dir: str | Path | None = None,
        source: str | None = None,
    ):
        options = dict(options or {})
        unknown = sorted(set(options) - set(self.option_defaults))
        if unknown:
            raise ConfigError(
                source,
                f"confrontation '{name}' ({self.kind}) has unknown option(s) {unknown}; "
                f"allowed: {sorted(self.option_defaults)}",
                "options",
            )
        self.name = name
        self.references = list(references)
        self.options = {**self.option_defaults, **options}
        self.weight = float(weight)
        self.data_dir = data_dir
        self.source = source
        self._staged = False

    # -- lifecycle -------------------------------------------------------------------------
    def stage_data(self) -> None:
        """Load and prepare the references once; later calls do nothing."""
        if not self._staged:
            self._stage()
            self._staged = True

    @abstractmethod
    def _stage(self) -> None:
        """Load references into attributes of ``self``."""

    @abstractmethod
    def confront(self, model: xr.Dataset) -> ConfrontationResult:
        """Compare one canonical model dataset (``model.attrs['model']`` is its name).

        Classes that declare :meth:`model_reductions` take ``confront(model, reductions=None)``:
        the runner passes the computed reductions of one pass over the model; without them the
        confrontation computes its own (:meth:`reduced`), with the same functions.
        """

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray | xr.Dataset]:
        """The reductions of ``model`` that :meth:`confront` reads, lazy (dask-backed), by key.

        The runner gathers these from every confrontation of a run, drops duplicate keys and
        computes them all in ONE ``dask.compute`` per model, so the model's fields are read
        once however many confrontations use them (``docs/performance.md``). A key describes
        its reduction canonically (kind, quantity, how it was derived, period): equal keys must
        mean equal values. Building them must not read the fields (only coordinates and small
        variables such as ``land_fraction``). The default: none (``confront`` reads the model).
        """
        return {}

    def reduced(self, model: xr.Dataset, reductions: Reductions | None = None) -> dict[ReductionKey, Any]:
        """This confrontation's reductions of ``model``, computed: taken from ``reductions`` (the
        runner's one pass) where present, the rest computed now in one ``dask.compute``."""
        import dask

        wanted = self.model_reductions(model)
        given = reductions or {}
        todo = {key: value for key, value in wanted.items() if key not in given}
        computed = dict(zip(todo, dask.compute(*todo.values()))) if todo else {}
        return {key: given[key] if key in given else computed[key] for key in wanted}

    def confront_references(self) -> ConfrontationResult | None:
        """References against each other (spread among products); None when not meaningful."""
        return None

    def applicable(self, available: set[str]) -> str | None:
        """Whether a model with these canonical quantities can be confronted; the reason if not.

        The runner calls this on the worker, after loading the model and before :meth:`confront`,
        with ``available`` = the canonical quantities (``rh``, ``rs``, ``csoil``, ...) the loaded
        model provides; ``rs`` is already there when the loader derived it (``rh + raRoot``).
        A returned reason makes the task ``not_applicable``: shown as "n/a" on the scoreboard,
        left out of the overall scores, and not a failure (the run still exits 0).

        The default requires every quantity in :attr:`quantities`, except that an
        ``rs_from_rh`` option other than ``"none"`` lets ``rh`` stand in for ``rs``.
        **Override** this in classes whose options make other quantities derivable, or whose
        conversion needs more than ``rh`` (e.g. an ``rs_from_rh`` that also needs
        ``ra_root``): return None when :meth:`confront` can run, else a one-line reason
        such as ``"the model provides no rs or rh (it provides: csoil)"``.
        """
        missing = [q for q in self.quantities if q not in available]
        if "rs" in missing and "rh" in available and str(self.options.get("rs_from_rh", "none")) != "none":
            missing.remove("rs")  # the confrontation converts rh to rs itself
        if not missing:
            return None
        provides = ", ".join(sorted(available)) or "none of the canonical quantities"
        return f"the model provides no {', '.join(missing)} (it provides: {provides})"

    def model_quantities(self) -> set[str]:
        """Canonical quantities :meth:`confront` may read from a model (the runner loads only these).

        The default: :attr:`quantities`, plus ``rh`` and ``ra_root`` when ``rs`` is among them
        (``rs`` may come from ``rh + ra_root`` or from ``rh`` through an ``rs_from_rh`` option).
        **Override** this in classes that read more than :attr:`quantities` (optional analyses).
        """
        needed = set(self.quantities)
        if "rs" in needed:
            needed |= {"rh", "ra_root"}
        return needed

    # -- bookkeeping ------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "group": self.group,
            "quantities": list(self.quantities),
            "references": self.references,
            "options": self.options,
            "weight": self.weight,
        }

    def fingerprint(self, reference_hashes: dict[str, str] | None = None) -> str:
        """Hash of everything that determines this confrontation's results except the model."""
        payload = {**self.describe(), "soilbench": __version__, "reference_hashes": reference_hashes or {}}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} refs={self.references}>"
