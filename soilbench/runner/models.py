"""The models of a run: what ``--models`` names, resolved into picklable :class:`ModelSpec` s.

``--models`` takes any mix of

- model files and directories: the files given together are one model (read together, as
  ``soilbench inspect`` reads them: one file per variable, time pieces...), unless their CMIP
  attributes name several models (then one model per source, member and experiment); each
  directory is one model of its own;
- catalog files (``*.yaml``): every model entry of the catalog;
- intake-esm collections (``*.json`` + CSV): each simulation (source, member, experiment) the
  ``--select`` facets choose is one model (:mod:`soilbench.runner.esm_collection`);
- ids: an entry of a catalog in the project's ``catalogs/`` directory, or a model file of the data
  registry (``testbed-casacnp``);
- series files (``*.csv``): models given only as annual global totals, one per file
  (``year, value, units``) or one per model and member of an ensemble table in the CMIP6 layout
  (:mod:`soilbench.load.seriesmodel`); only the ``global_series`` confrontations apply to them.

A model read from files is named from their CMIP global attributes, ``source_id`` (or CMIP5's
``model_id``) and ``member_id`` (or ``variant_label``/``realization``), plus ``experiment_id`` when
the run's models do not all share one experiment (``CESM2 r1i1p1f1 historical``); only files
without these attributes fall back to the file or directory name.

A spec is plain data so that it can travel to dask workers; :meth:`ModelSpec.load` runs on the
worker and goes through the normal loader, :func:`soilbench.load.load_model`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from soilbench.data import PROJECT_ROOT
from soilbench.errors import SoilbenchError

CATALOGS_DIR = PROJECT_ROOT / "catalogs"
SERIES_SUFFIXES = (".csv",)  # soilbench.load.seriesmodel.SERIES_SUFFIXES, without importing pandas here
_CATALOG_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ModelSpec:
    """One model of a run.

    Attributes
    ----------
    name
        Display name (``model.attrs['model']``); results go to ``model_slug(name)``.
    paths
        The model's files (for a directory, the directory itself).
    catalog, entry
        The catalog file and entry id the model came from, when it came from a catalog; the entry
        is re-opened on the worker so that its reader arguments apply.
    dataset_id
        The registry id, for registered model files (their sha256 is known).
    period
        ``(first_year, last_year)`` to keep, from the command line's ``--period``.
    error
        Why the model cannot be used (a catalog entry whose files are missing): its tasks fail
        with this message while the other models of the run are scored.
    series
        The model is one series of annual global totals of the CSV file ``paths[0]``
        (:mod:`soilbench.load.seriesmodel`), named ``name`` there.
    """

    name: str
    paths: tuple[str, ...]
    catalog: str | None = None
    entry: str | None = None
    dataset_id: str | None = None
    period: tuple[int, int] | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    error: str | None = None
    series: bool = False

    def input_fingerprint(self) -> str:
        """Hash of what the model's results depend on: its files (path, size, mtime) and origin.

        Size and modification time rather than sha256: hashing gigabytes of model output on
        every run would cost more than a confrontation; a registered file's sha256 is known.
        """
        files = []
        for path in _files_of(self.paths):
            info = path.stat()
            files.append([str(path), info.st_size, info.st_mtime_ns])
        payload = {
            "name": self.name, "files": files, "catalog": self.catalog, "entry": self.entry,
            "dataset_id": self.dataset_id, "period": self.period, "error": self.error,
        }
        if self.series:  # only then: the fingerprints of gridded models stay what they were
            payload["series"] = True
        if self.dataset_id:
            from soilbench.data import entry as registry_entry

            payload["sha256"] = registry_entry(self.dataset_id)["sha256"]
        if self.catalog:
            payload["catalog_file"] = _file_state(Path(self.catalog))
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Provenance for ``run.json``."""
        out: dict[str, Any] = {"name": self.name, "paths": list(self.paths)}
        for key in ("catalog", "entry", "dataset_id", "period", "error", "series"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        for key in ("source_id", "member_id", "experiment_id", "grid_label"):  # the CMIP identity, when known
            if self.metadata.get(key):
                out[key] = self.metadata[key]
        if self.dataset_id:
            from soilbench.data import entry as registry_entry

            out["sha256"] = registry_entry(self.dataset_id)["sha256"]
        return out

    def load(self, data_dir: str | os.PathLike | None = None, quantities: Iterable[str] | None = None) -> xr.Dataset:
        """The canonical dataset (runs wherever the task runs), lazy; only ``quantities`` when given."""
        from soilbench.load import load_model

        if self.error:
            raise SoilbenchError(None, self.error)
        if self.series:
            from soilbench.load.seriesmodel import load_series_model

            return load_series_model(self.paths[0], self.name, self.period)
        if self.catalog and self.entry:  # re-opened here: its reader arguments and metadata apply
            source: Any = _catalog_entry(Path(self.catalog), self.entry)
        elif self.dataset_id:
            source = self.dataset_id
        elif len(self.paths) == 1:
            source = self.paths[0]
        else:
            source = list(self.paths)
        model = load_model(source, name=self.name, period=self.period, data_dir=data_dir, quantities=quantities)
        model.attrs["model"] = self.name
        return model


def _file_state(path: Path) -> list[Any]:
    info = path.stat()
    return [str(path), info.st_size, info.st_mtime_ns]


def _files_of(paths: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise SoilbenchError(path, "model file not found")
    return files


# -- catalogs -------------------------------------------------------------------------------------
def _open_catalog(path: Path) -> Any:
    from soilbench.catalogs import open_catalog

    return open_catalog(path)


def _catalog_entry(path: Path, entry_id: str) -> Any:
    entries = _open_catalog(path).entries
    if entry_id not in entries:
        raise SoilbenchError(path, f"catalog has no entry {entry_id!r}; entries: {', '.join(sorted(entries))}")
    return entries[entry_id]


def _spec_from_entry(entry: Any, data_dir: str | os.PathLike | None, period: tuple[int, int] | None) -> ModelSpec:
    metadata = dict(entry.metadata or {})
    name = str(metadata.get("model") or metadata.get("name") or entry.id)
    paths = tuple(str(p) for p in entry.paths(data_dir))
    return ModelSpec(
        name=name, paths=paths, catalog=str(Path(entry.catalog).resolve()), entry=entry.id,
        dataset_id=entry.registry_id, period=period, metadata=metadata,
    )


def _usable_or_failed(entry: Any, data_dir: str | os.PathLike | None, period: tuple[int, int] | None) -> ModelSpec:
    """The entry's spec, or a spec carrying why it cannot be used: one model of a catalog with
    missing files fails alone, the others are still scored."""
    try:
        return _spec_from_entry(entry, data_dir, period)
    except SoilbenchError as err:
        metadata = dict(entry.metadata or {})
        return ModelSpec(
            name=str(metadata.get("model") or entry.id), paths=(), catalog=str(Path(entry.catalog).resolve()),
            entry=entry.id, period=period, metadata=metadata, error=err.one_line(),
        )


# -- resolution -----------------------------------------------------------------------------------
def resolve_models(
    arguments: Iterable[str], data_dir: str | os.PathLike | None = None, period: tuple[int, int] | None = None,
    select: list[str] | None = None,
) -> list[ModelSpec]:
    """Turn ``--models`` arguments into model specs (see the module docstring).

    ``select`` (``--select FACET=VALUE``) chooses the datasets of ESM collections by facet.

    Raises
    ------
    SoilbenchError
        An argument that is neither an existing file/directory, a catalog nor a known id, or two
        models with the same name (their results would overwrite each other).
    """
    specs: list[Any] = []
    loose_files: list[str] | None = None
    from soilbench.runner import esm_collection

    selected = esm_collection.parse_select(select)
    collections = 0
    for argument in arguments:
        path = Path(argument).expanduser()
        if esm_collection.is_esm_collection(path):
            collections += 1
            specs.extend(_collection_models(path.resolve(), selected))
        elif path.is_file() and path.suffix in _CATALOG_SUFFIXES:
            entries = _open_catalog(path).entries
            models = [_usable_or_failed(e, data_dir, period) for e in entries.values() if e.kind == "model"]
            if not models:
                raise SoilbenchError(path, "catalog has no model entries")
            if all(spec.error for spec in models):
                raise SoilbenchError(None, models[0].error)  # nothing to score: say why now
            specs.extend(models)
        elif path.is_file() and path.suffix.lower() in SERIES_SUFFIXES:
            specs.extend(_series_models(path.resolve(), period))
        elif path.is_file():
            if loose_files is None:  # the model of all files given, at the place of the first
                loose_files = []
                specs.append(_LOOSE_FILES)
            loose_files.append(str(path.resolve()))
        elif path.exists():
            specs.append(_NamedByFiles((str(path.resolve()),), path.name))
        else:
            specs.append(_resolve_id(argument, data_dir, period))
    if loose_files is not None:
        at = specs.index(_LOOSE_FILES)
        specs[at:at + 1] = _group_loose_files(loose_files)
    if selected and not collections:
        raise SoilbenchError("--select", "chooses datasets of an ESM collection; no --models argument is one")
    specs = name_by_identity(specs, period)
    if specs and all(spec.error for spec in specs):
        raise SoilbenchError(None, specs[0].error)  # nothing to score: say why now
    names = [spec.name for spec in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SoilbenchError(
            "--models", f"model name(s) {', '.join(duplicates)} given twice; results would overwrite each other"
        )
    if not specs:
        raise SoilbenchError("--models", "no models given")
    return specs


def _series_models(path: Path, period: tuple[int, int] | None) -> list[ModelSpec]:
    """One spec per model of a series file (:func:`soilbench.load.seriesmodel.read_series_models`):
    the file is read here, so a malformed one stops the run at once with its one-line error."""
    from soilbench.load.seriesmodel import read_series_models

    return [ModelSpec(name=name, paths=(str(path),), period=period, series=True)
            for name in read_series_models(path)]


# -- model identity -----------------------------------------------------------------------------------
#: global attributes naming a model, in order of preference (CMIP6/CMIP7, then CMIP5)
SOURCE_ATTRS = ("source_id", "model_id")
MEMBER_ATTRS = ("member_id", "variant_label", "realization")
EXPERIMENT_ATTRS = ("experiment_id",)
_LOOSE_FILES = object()  # placeholder for the model of the loose files while arguments are read


@dataclass(frozen=True)
class _NamedByFiles:
    """Files (or a directory) whose model name comes from their attributes, else ``fallback``."""

    paths: tuple[str, ...]
    fallback: str
    identity: tuple[tuple[str, str], ...] = ()  # known without opening the files (ESM collections)


def _first(attrs: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        value = str(attrs.get(name, "") or "").strip()
        if value:
            return value if name != "realization" else f"r{value}"
    return ""


def file_identity(path: str | os.PathLike) -> dict[str, str]:
    """``source_id``, ``member_id`` and ``experiment_id`` of a NetCDF file's global attributes
    (empty strings for those it lacks; a file that cannot be read has none: the loader reports it)."""
    try:
        with xr.open_dataset(path, decode_cf=False, decode_times=False) as ds:
            attrs = dict(ds.attrs)
    except Exception:  # noqa: BLE001 - the loader names the problem with the file when it reads it
        attrs = {}
    member = _first(attrs, MEMBER_ATTRS)
    sub_experiment = str(attrs.get("sub_experiment_id", "") or "").strip()
    if member and "member_id" not in attrs and sub_experiment not in ("", "none"):
        member = f"{sub_experiment}-{member}"  # CMIP6's member_id: [sub_experiment_id-]variant_label
    return {"source_id": _first(attrs, SOURCE_ATTRS), "member_id": member,
            "experiment_id": _first(attrs, EXPERIMENT_ATTRS)}


def model_identity(files: Iterable[str | os.PathLike]) -> dict[str, str]:
    """The identity of a model made of ``files``: the most common source and member among the
    files that carry one (fixed fields such as ``areacella`` may come from another member), and
    every experiment, ``+``-joined (``historical+ssp585``)."""
    from collections import Counter

    identities = [file_identity(f) for f in files]
    out = {}
    for key in ("source_id", "member_id"):
        counts = Counter(i[key] for i in identities if i[key])
        out[key] = counts.most_common(1)[0][0] if counts else ""
    out["experiment_id"] = "+".join(sorted({i["experiment_id"] for i in identities if i["experiment_id"]}))
    return out


def identity_name(identity: dict[str, str], with_experiment: bool = False) -> str | None:
    """``"CESM2 r1i1p1f1"`` (``"CESM2 r1i1p1f1 historical"`` with the experiment); None without a source."""
    if not identity.get("source_id"):
        return None
    parts = [identity["source_id"], identity.get("member_id", "")]
    if with_experiment:
        parts.append(identity.get("experiment_id", ""))
    return " ".join(p for p in parts if p)


def _collection_models(path: Path, selected: dict[str, list[str]]) -> list[_NamedByFiles]:
    """One model per simulation of an ESM collection (:mod:`soilbench.runner.esm_collection`)."""
    from soilbench.runner import esm_collection

    table = esm_collection.select(esm_collection.read_collection(path), selected, path)
    groups = esm_collection.model_groups(table, esm_collection.variables_read())
    if not groups:
        chosen = " ".join(f"{k}={','.join(v)}" for k, v in selected.items()) or "(no --select)"
        raise SoilbenchError(path, f"has no dataset with a variable soilbench reads for {chosen}", "--models")
    out = []
    for group in groups:
        facets = group["facets"]
        fallback = " ".join(str(facets[k]) for k in ("source_id", "member_id", "experiment_id"))
        identity = tuple((k, str(facets.get(k, ""))) for k in ("source_id", "member_id", "experiment_id", "grid_label"))
        out.append(_NamedByFiles(tuple(group["paths"]), fallback, identity))
    return out


def _group_loose_files(files: list[str]) -> list[_NamedByFiles]:
    """The files given on the command line: one model, unless their attributes name several
    (``--models a/rh_*.nc b/rh_*.nc`` of two sources); then one model per (source, member,
    experiment), and a file naming none of them is an error (it cannot be placed)."""
    from soilbench.load.sources import NETCDF_SUFFIXES

    def fallback(paths: list[str]) -> str:
        return Path(paths[0]).stem if len(paths) == 1 else Path(paths[0]).parent.name

    identities = {f: file_identity(f) if Path(f).suffix.lower() in NETCDF_SUFFIXES else {} for f in files}
    keys = {f: (i.get("source_id", ""), i.get("member_id", ""), i.get("experiment_id", "")) for f, i in identities.items()}
    named = {k for k in keys.values() if k[0]}
    if len(named) <= 1:
        return [_NamedByFiles(tuple(files), fallback(files))]
    groups: dict[tuple[str, str, str], list[str]] = {}
    for path, key in keys.items():
        if not key[0]:
            raise SoilbenchError(path, "has no source_id or model_id attribute, and the other files given "
                                       "with it belong to several models; give each model's files as a directory",
                                 "--models")
        groups.setdefault(key, []).append(path)
    return [_NamedByFiles(tuple(paths), fallback(paths)) for paths in groups.values()]


def name_by_identity(specs: list[Any], period: tuple[int, int] | None) -> list[ModelSpec]:
    """Replace each :class:`_NamedByFiles` by a :class:`ModelSpec` named from its files' identity."""
    from soilbench.load.sources import NETCDF_SUFFIXES

    def read_files(paths: tuple[str, ...]) -> list[Path]:
        """The files the loader reads: a directory's NetCDF files (not its subdirectories')."""
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files += [p for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() in NETCDF_SUFFIXES]
            elif path.suffix.lower() in NETCDF_SUFFIXES:
                files.append(path)
        return files

    identities = {
        id(spec): dict(spec.identity) if spec.identity else model_identity(read_files(spec.paths))
        for spec in specs if isinstance(spec, _NamedByFiles)
    }
    experiments = {i["experiment_id"] for i in identities.values() if i["source_id"]}
    with_experiment = len(experiments) > 1 or any("+" in e for e in experiments)
    out = []
    for spec in specs:
        if not isinstance(spec, _NamedByFiles):
            out.append(spec)
            continue
        identity = identities[id(spec)]
        name = identity_name(identity, with_experiment) or spec.fallback
        metadata = {k: v for k, v in identity.items() if v}
        out.append(ModelSpec(name=name, paths=spec.paths, period=period, metadata=metadata))
    return _grid_in_shared_names(out)


def _grid_in_shared_names(specs: list[Any]) -> list[Any]:
    """A source published on two grids (``gn``, ``gr``) gives two models of one name: add the grid."""
    from collections import Counter
    from dataclasses import replace

    counts = Counter(spec.name for spec in specs)
    out = []
    for spec in specs:
        grid = spec.metadata.get("grid_label", "") if isinstance(spec, ModelSpec) else ""
        out.append(replace(spec, name=f"{spec.name} {grid}") if counts[spec.name] > 1 and grid else spec)
    return out


def _resolve_id(identifier: str, data_dir: str | os.PathLike | None, period: tuple[int, int] | None) -> ModelSpec:
    from soilbench import catalogs, data

    entries = catalogs.all_entries()
    if identifier in entries:
        if entries[identifier].kind != "model":
            raise SoilbenchError(identifier, f"catalog entry is a {entries[identifier].kind} reference, not a model",
                                 "--models")
        return _usable_or_failed(entries[identifier], data_dir, period)

    if identifier in data.registry():
        path = data.fetch(identifier, data_dir=data_dir)
        name = str(data.entry(identifier).get("model") or identifier)
        return ModelSpec(name=name, paths=(str(path),), dataset_id=identifier, period=period)
    raise SoilbenchError(
        identifier, "not a model file, directory, catalog file, catalog entry id or registered dataset id", "--models"
    )
