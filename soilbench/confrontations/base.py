"""ILAMB's lifecycle, kept small: stage data → confront → scores; plots belong to the report.

A confrontation compares one model (a canonical dataset from :mod:`soilbench.load`) with one
or more references. Subclasses keep the science in pure functions under
:mod:`soilbench.analysis` and only wire data to them here.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import xarray as xr

from soilbench import __version__, derived
from soilbench.errors import ConfigError
from soilbench.confrontations.units import AnalysisUnit, Options
from soilbench.results import ConfrontationResult

#: types registered in this process with :func:`register` (tests, notebooks); installed types
#: come from the entry-point group :data:`ENTRY_POINT_GROUP`
_REGISTRY: dict[str, type["Confrontation"]] = {}
_LOADED: dict[str, type["Confrontation"]] = {}

#: a reduction's key: a tuple describing it canonically, e.g. ``("annual_step_sums", "rh", "rh", 2001, 2010)``;
#: equal keys from several confrontations are computed once (see :meth:`Confrontation.model_reductions`)
ReductionKey = Hashable
Reductions = Mapping[ReductionKey, Any]

#: numpy's default floating-point error handling, under which every confrontation computes.
#: A host process may change the global setting: ILAMB 2.x sets ``over`` and ``under`` to "raise"
#: when its modules run, and an exp() that underflows to 0 (a score far from 1) is not an error.
NUMPY_ERRORS: dict[str, str] = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}

#: the Python entry-point group of confrontation types: ``<kind> = "package.module:Class"``
ENTRY_POINT_GROUP = "soilbench.confrontations"


def register(cls: type["Confrontation"]) -> type["Confrontation"]:
    """Class decorator: make ``cls`` available under ``cls.kind`` in this process only.

    Packages register their types through the entry-point group :data:`ENTRY_POINT_GROUP`
    instead (``docs/architecture.md``); this is for types defined at run time (tests, notebooks).
    """
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise ValueError(f"confrontation type {cls.kind!r} registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def _source_checkout_entry_points() -> dict[str, str]:
    """soilbench's own entry points from ``pyproject.toml`` when running from a source checkout.

    Entry points live in the installed package metadata; a checkout on ``PYTHONPATH`` (or an
    editable install made before a type was added) has none or stale ones, and the built-in types
    must still be found. Returns {} when the package does not sit in a soilbench checkout.
    """
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: installed metadata is the only source
        return {}
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, ValueError):
        return {}
    if project.get("name") != "soilbench":
        return {}
    return dict(project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {}))


def _declarations() -> dict[str, dict[str, str]]:
    """kind → {``"module:Class"`` → who declares it}, from the installed packages' metadata
    (entry-point group :data:`ENTRY_POINT_GROUP`) and soilbench's source checkout."""
    from importlib.metadata import entry_points as installed

    found = [(ep.name, ep.value, ep.dist.name if ep.dist else "?") for ep in installed(group=ENTRY_POINT_GROUP)]
    found += [(kind, value, "soilbench (source checkout)") for kind, value in _source_checkout_entry_points().items()]
    declared: dict[str, dict[str, str]] = {}
    for kind, value, dist in found:
        declared.setdefault(kind, {}).setdefault("".join(value.split()), dist)
    return declared


def entry_points() -> dict[str, str]:
    """Every declared confrontation type: kind → ``"module:Class"`` (not imported yet).

    A kind declared with two different targets (two packages claiming it) is a
    :class:`ConfigError` naming both, raised when that kind is looked up.
    """
    targets = {}
    for kind, declared in _declarations().items():
        if len(declared) > 1:
            (first, by_first), (second, by_second) = list(declared.items())[:2]
            targets[kind] = ConfigError(None, f"confrontation type {kind!r} is declared twice: {first} "
                                        f"({by_first}) and {second} ({by_second})", ENTRY_POINT_GROUP)
        else:
            targets[kind] = next(iter(declared))
    return targets


def known_kinds() -> list[str]:
    """Names of every confrontation type: declared entry points and :func:`register`-ed classes."""
    return sorted(set(entry_points()) | set(_REGISTRY))


def _load_entry_point(kind: str, target: str, source: str | None) -> type["Confrontation"]:
    from importlib.metadata import EntryPoint

    try:
        cls = EntryPoint(kind, target, ENTRY_POINT_GROUP).load()
    except Exception as err:  # an installed plugin that does not import: say which one
        raise ConfigError(source, f"confrontation type {kind!r} ({target}) cannot be loaded: "
                          f"{type(err).__name__}: {' '.join(str(err).split())}", "type") from None
    if not (isinstance(cls, type) and issubclass(cls, Confrontation)):
        raise ConfigError(source, f"confrontation type {kind!r} ({target}) is not a soilbench Confrontation "
                          "subclass", "type")
    if getattr(cls, "kind", None) != kind:
        raise ConfigError(source, f"confrontation type {kind!r} ({target}) declares kind "
                          f"{getattr(cls, 'kind', None)!r}; the entry-point name must equal the class's kind", "type")
    return cls


def confrontation_class(kind: str, source: str | None = None) -> type["Confrontation"]:
    """The class registered for ``kind``; a :class:`ConfigError` naming the choices otherwise.

    Only the module of ``kind`` is imported (importing soilbench stays cheap).
    """
    if kind in _REGISTRY:
        return _REGISTRY[kind]
    if kind not in _LOADED:
        target = entry_points().get(kind)
        if target is None:
            raise ConfigError(source, f"unknown confrontation type {kind!r}; known types: {', '.join(known_kinds())}",
                              "type")
        if isinstance(target, ConfigError):
            raise target
        _LOADED[kind] = _load_entry_point(kind, target, source)
    return _LOADED[kind]


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
    #: allowed options and their defaults; derived from :attr:`options_type` when a type declares one
    option_defaults: ClassVar[dict[str, Any]] = {}
    #: the type's options as one typed definition that validates itself
    #: (:class:`soilbench.confrontations.units.Options`); None: :attr:`option_defaults` only
    options_type: ClassVar[type[Options] | None] = None
    #: the analysis units the type is made of (:mod:`soilbench.confrontations.units`), each
    #: built with the typed options in ``__init__`` as :attr:`units`
    unit_types: ClassVar[tuple[type[AnalysisUnit], ...]] = ()
    #: reference ids the type provides itself besides the registry and the catalogs (none for
    #: soilbench's own types: their references are catalog entries)
    builtin_references: ClassVar[tuple[str, ...]] = ()
    #: the catalog loaders (``metadata.loader`` of a reference's entry) whose references the type
    #: can stage; () accepts any. The config refuses a reference read otherwise (or not at all).
    reference_loaders: ClassVar[tuple[str, ...]] = ()
    #: whether a user's own site table (a ``sites``/``table`` CSV entry of a catalog that is not a
    #: registered file) can be a reference of the type (the site types read SRDB/MGRhD layouts)
    reads_site_tables: ClassVar[bool] = False
    #: whether a model given only as a series of annual global totals (``soilbench.load.seriesmodel``)
    #: can be confronted; every other type says "not applicable" to such a model
    reads_global_series: ClassVar[bool] = False
    #: options that ``null`` switches off, besides config.NULLABLE_OPTIONS
    nullable_options: ClassVar[tuple[str, ...]] = ()
    #: registry ids read besides the references (a root-contribution map, the files a merged
    #: reference is made of): their sha256 enter fingerprints and ``run.json``'s inputs.
    #: Instances set it from their options in ``__init__``.
    auxiliary_data: tuple[str, ...] | list[str] = ()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("options_type") is not None:
            # the declared defaults ARE the typed definition's: the config checks option names
            # and value types against them
            cls.option_defaults = cls.options_type.defaults()

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
        #: the typed options (None for a type without :attr:`options_type`)
        self.settings: Options | None = None
        if self.options_type is not None:
            self.settings = self.options_type.parse(options, name=name, kind=self.kind, source=source)
        self.units: list[AnalysisUnit] = [unit(self.settings) for unit in self.unit_types]
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
    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        """Compare one canonical model dataset (``model.attrs['model']`` is its name).

        The runner calls this only when :meth:`applicable` found nothing missing, with
        ``reductions`` = the computed reductions of its one pass over the model (None when there
        was none); a confrontation takes the ones it declared (:meth:`model_reductions`) from
        them and computes any that are absent itself (:meth:`reduced`), with the same functions.
        """

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray | xr.Dataset]:
        """The reductions of ``model`` that :meth:`confront` reads, lazy (dask-backed), by key.

        The runner gathers these from every confrontation of a run, drops duplicate keys and
        computes them all in ONE ``dask.compute`` per model, so the model's fields are read
        once however many confrontations use them (``docs/performance.md``). A key describes
        its reduction canonically (kind, quantity, how it was derived, period): equal keys must
        mean equal values. Building them must not read the fields (only coordinates and small
        variables such as ``land_fraction``). The default: the reductions its :attr:`units`
        declare (none without units: ``confront`` reads the model).
        """
        wanted: dict[ReductionKey, xr.DataArray | xr.Dataset] = {}
        for unit in self.units:
            wanted.update(unit.reductions(model))
        return wanted

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

        The one way to say "not applicable": the runner (and the ILAMB ctypes) call this after
        loading the model and before :meth:`confront`, with ``available`` = the canonical
        quantities (``rh``, ``rs``, ``csoil``, ...) the loaded model provides. A returned reason
        makes the task ``not_applicable``: "n/a" on the scoreboard, left out of the overall
        scores, not a failure (the run still exits 0); :meth:`confront` is then not called.

        The default requires every quantity in :attr:`quantities`, derived ones counting
        (:mod:`soilbench.derived`: ``rs = rh + ra_root``). **Override** it in classes whose
        options make more derivable (``rs_from_rh``): return None when :meth:`confront` can run,
        else a one-line reason such as ``"the model provides no rs (it provides: csoil)"``.
        """
        return derived.not_applicable_reason(self.quantities, available)

    def applicable_to(self, model: xr.Dataset, available: set[str]) -> str | None:
        """:meth:`applicable` for a loaded model: what only the model itself tells (its time axis,
        whether it is a grid at all) and then the quantities it provides.

        The runner and the ILAMB ctypes call this after loading the model, with ``available`` =
        the canonical quantities it provides. The default: a model given only as a series of
        annual global totals is not applicable unless the type reads such series
        (:attr:`reads_global_series`); otherwise :meth:`applicable`. **Override** it (and call
        it) in types that need a time axis or a number of years.
        """
        from soilbench.load.seriesmodel import is_global_series

        if is_global_series(model) and not self.reads_global_series:
            return (f"the model is given as a series of annual global totals only; {self.kind} compares "
                    "gridded fields")
        return self.applicable(available)

    def model_quantities(self) -> set[str]:
        """Canonical quantities :meth:`confront` may read from a model (the runner loads only these).

        The default: :attr:`quantities` and what they derive from (:func:`soilbench.derived.inputs`).
        **Override** this in classes that read more than :attr:`quantities` (optional analyses).
        """
        return derived.inputs(self.quantities)

    @classmethod
    def summarize_models(cls, out_dir: str | Path, confrontation_name: str,
                         task_dirs: Iterable[str | Path]) -> Any:
        """A cross-model summary, run once after every task of a run (default: none).

        ``task_dirs`` are this run's ok model task directories of the confrontation (never
        directories an earlier run into the same ``OUT/`` left behind). Write under
        ``OUT/<confrontation_name>/`` or ``OUT/_summary/<confrontation_name>/`` with
        :mod:`soilbench.atomic`. Return the list of files written under ``OUT/_summary/<confrontation_name>/``
        that the report should show (other return values are ignored). A failing summary is
        logged and never fails the run.
        """
        return None

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
