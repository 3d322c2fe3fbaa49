"""The models of a run: what ``--models`` names, resolved into picklable :class:`ModelSpec` s.

``--models`` takes any mix of

- model files or directories (one model each; a directory is one model whose files are read
  together);
- catalog files (``*.yaml``): every model entry of the catalog;
- ids: an entry of a catalog in the project's ``catalogs/`` directory, or a model file of the data
  registry (``testbed-casacnp``).

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
    """

    name: str
    paths: tuple[str, ...]
    catalog: str | None = None
    entry: str | None = None
    dataset_id: str | None = None
    period: tuple[int, int] | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    error: str | None = None

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
        if self.dataset_id:
            from soilbench.data import entry as registry_entry

            payload["sha256"] = registry_entry(self.dataset_id)["sha256"]
        if self.catalog:
            payload["catalog_file"] = _file_state(Path(self.catalog))
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Provenance for ``run.json``."""
        out: dict[str, Any] = {"name": self.name, "paths": list(self.paths)}
        for key in ("catalog", "entry", "dataset_id", "period", "error"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.dataset_id:
            from soilbench.data import entry as registry_entry

            out["sha256"] = registry_entry(self.dataset_id)["sha256"]
        return out

    def load(self, data_dir: str | os.PathLike | None = None, quantities: Iterable[str] | None = None) -> xr.Dataset:
        """The canonical dataset (runs wherever the task runs), lazy; only ``quantities`` when given."""
        from soilbench.load import load_model

        if self.error:
            raise SoilbenchError(None, self.error)
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
) -> list[ModelSpec]:
    """Turn ``--models`` arguments into model specs (see the module docstring).

    Raises
    ------
    SoilbenchError
        An argument that is neither an existing file/directory, a catalog nor a known id, or two
        models with the same name (their results would overwrite each other).
    """
    specs: list[ModelSpec] = []
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_file() and path.suffix in _CATALOG_SUFFIXES:
            entries = _open_catalog(path).entries
            models = [_usable_or_failed(e, data_dir, period) for e in entries.values() if e.kind == "model"]
            if not models:
                raise SoilbenchError(path, "catalog has no model entries")
            if all(spec.error for spec in models):
                raise SoilbenchError(None, models[0].error)  # nothing to score: say why now
            specs.extend(models)
        elif path.exists():
            name = path.stem if path.is_file() else path.name
            specs.append(ModelSpec(name=name, paths=(str(path.resolve()),), period=period))
        else:
            specs.append(_resolve_id(argument, data_dir, period))
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
