"""Intake catalogs, read through an allowlist so that a catalog can never run code.

soilbench's catalogs (``catalogs/*.yaml``) are intake 2 catalog files (``version: 2``, ``data``
and ``entries`` sections), so ``intake.from_yaml_file`` understands them too. But intake will
import and run whatever a catalog names (a ``reader:``/``datatype:``/``cls:`` class,
``PythonModule``, ``{func(...)}``/``{import(...)}``/``{env(...)}`` templates), so soilbench never
hands a catalog to intake's loader. :func:`open_catalog` instead

1. parses the YAML with a safe loader that also refuses aliases (no ``!!python`` tags, no bombs);
2. accepts only the keys, reader/datatype classes and reader arguments listed below;
3. accepts no template but the path placeholders ``{CATALOG_DIR}`` (the catalog's directory),
   ``{SOILBENCH_DATA_DIR}`` (:func:`soilbench.data.data_dir`) and ``{SOILBENCH_REFERENCE_DIR}``
   (the project's ``reference_data/``), which soilbench expands itself;
4. confines every path (globs allowed) to those directories and to the model directories the
   user lists in the environment variable ``SOILBENCH_MODEL_DIRS`` (os.pathsep-separated; from
   the user, never from a catalog): no URLs, no ``..``, no absolute paths elsewhere, no symlinks
   pointing out;

and then reads the files itself with xarray/pandas (or builds intake reader objects from the
validated values, :meth:`CatalogEntry.intake_reader`). Every refusal is a one-line
:class:`~soilbench.errors.UnsafeCatalog` naming the catalog file, the entry and what was refused.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from soilbench import atomic, data, yamlsafe
from soilbench.errors import SoilbenchError, UnsafeCatalog
from soilbench.quantities import QUANTITIES

CATALOG_DIR = data.PROJECT_ROOT / "catalogs"
CATALOGS_ENV = "SOILBENCH_CATALOGS"  # extra catalog files, os.pathsep-separated
MODEL_DIRS_ENV = "SOILBENCH_MODEL_DIRS"  # directories of model output catalogs may name by absolute path
MAX_CATALOG_BYTES = 1 << 20

PLACEHOLDERS = ("CATALOG_DIR", "SOILBENCH_DATA_DIR", "SOILBENCH_REFERENCE_DIR")
KINDS = ("gridded", "series", "table", "sites", "model")

_XARRAY = "intake.readers.readers:XArrayDatasetReader"
_CSV = "intake.readers.readers:PandasCSV"
_USER_PARAMETER = "intake.readers.user_parameters:SimpleUserParameter"


def _bool(value: Any) -> bool:
    return isinstance(value, bool)


def _one_of(*choices: Any):
    return lambda value: value in choices


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _small_str(limit: int):
    return lambda value: isinstance(value, str) and 0 < len(value) <= limit


def _chunks(value: Any) -> bool:
    if value is None or value == "auto" or (isinstance(value, int) and not isinstance(value, bool)):
        return True
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in value.items()
    )


def _dtypes(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and v in ("str", "string", "float", "float64", "int", "int64", "bool") for k, v in value.items()
    )


# reader class -> (output_instance, allowed datatypes, {kwarg: check})
READERS: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    _XARRAY: (
        "xarray:Dataset",
        ("intake.readers.datatypes:NetCDF3", "intake.readers.datatypes:HDF5"),
        {
            "engine": _one_of("netcdf4", "h5netcdf", "scipy"),
            "decode_times": _bool,
            "mask_and_scale": _bool,
            "drop_variables": _str_list,
            "chunks": _chunks,
            "combine": _one_of("by_coords", "nested"),
            "concat_dim": _small_str(64),
            "data_vars": _one_of("all", "minimal", "different"),
        },
    ),
    _CSV: (
        "pandas:DataFrame",
        ("intake.readers.datatypes:CSV",),
        {
            "sep": _small_str(3),
            "comment": _small_str(1),
            "header": lambda v: v is None or v == "infer" or (isinstance(v, int) and not isinstance(v, bool)),
            "names": _str_list,
            "usecols": _str_list,
            "encoding": _one_of("utf-8", "utf_8", "latin-1", "latin1", "mac-roman", "mac_roman", "cp1252", "ascii"),
            "keep_default_na": _bool,
            "na_values": lambda v: isinstance(v, str) or _str_list(v),
            "skiprows": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            "skipinitialspace": _bool,
            "lineterminator": _small_str(1),
            "dtype": _dtypes,
        },
    ),
}

CATALOG_KEYS = {"version", "metadata", "user_parameters", "aliases", "data", "entries"}
CATALOG_METADATA_KEYS = {"description", "name"}
DATA_KEYS = {"datatype", "kwargs", "metadata", "user_parameters"}
ENTRY_KEYS = {"reader", "kwargs", "metadata", "output_instance", "user_parameters"}
USER_PARAMETER_KEYS = {"cls", "description", "default", "dtype"}
ENTRY_METADATA_KEYS = {
    "description",  # one line
    "kind",  # one of KINDS
    "registry",  # id in reference_data/registry.yaml; the file is fetched and verified
    "variables",  # name -> units, or name -> {units, long_name}
    "citation",
    "licence",
    "model",  # display name of a model
    "format",  # how the model output is laid out: testbed, trendy, cmip6, files (informative)
    "quantities",  # model: quantity -> file variable (or list summed), overriding the alias table;
    # reference: the canonical quantities it holds -> its variable
    "period",  # "YYYY-YYYY"
    "uncertainty",  # how the table/series expresses uncertainty
    "notes",
    "loader",  # reference: how soilbench reads it, one of REFERENCE_LOADERS
    "combines",  # reference read with loader merge_where_positive: the two entries it merges
}
#: values of a reference entry's ``metadata.loader``: the gridded ones are soilbench.load.reference's
#: GRIDDED_LOADERS, the tables are read by the confrontation types that use them
REFERENCE_LOADERS = ("gridded", "merge_where_positive", "land_fraction", "root_contribution",
                     "digitised_series", "cmip6_global", "literature_table", "srdb_annual", "mgrhd_daily")

_MODEL_QUANTITIES = [q for q, spec in QUANTITIES.items() if spec.kind in ("flux", "stock")]  # read from files
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_PLACEHOLDER = re.compile(r"\{(%s)\}" % "|".join(PLACEHOLDERS))
_DATA_REF = re.compile(r"\{data\(([^(){}]+)\)\}")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass
class CatalogEntry:
    """One validated catalog entry: what to read and how, with its metadata.

    Attributes
    ----------
    id
        The entry's name in the catalog (unique across the default catalogs).
    catalog
        The catalog file it comes from.
    kind
        ``gridded``, ``series``, ``table``, ``sites`` or ``model``.
    reader
        ``xarray`` (NetCDF, :class:`xarray.Dataset`) or ``csv`` (:class:`pandas.DataFrame`).
    url
        The path template as written (placeholder + relative path, glob allowed); a list of
        templates for a model given as several NetCDF files.
    kwargs
        Allowlisted reader arguments.
    metadata
        Entry metadata, with ``url``, ``sha256``, ``citation`` and ``licence`` filled in from
        the registry for registered files.
    """

    id: str
    catalog: Path
    kind: str
    reader: str
    datatype: str
    url: str | list[str]
    kwargs: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return str(self.metadata.get("description", ""))

    @property
    def registry_id(self) -> str | None:
        return self.metadata.get("registry")

    @property
    def where(self) -> str:
        return f"{self.catalog} (entry '{self.id}')"

    def paths(self, data_dir: str | os.PathLike | None = None, *, allow_download: bool = True) -> list[Path]:
        """The local files of this entry: registered files fetched and verified, globs expanded.

        Raises
        ------
        UnsafeCatalog
            A path (or a symlink it passes through) leads outside the allowed directories.
        SoilbenchError
            No file matches; a registered file cannot be fetched (``DataNotAvailable``).
        """
        if self.registry_id:
            return [data.fetch(self.registry_id, data_dir, allow_download=allow_download)]
        roots = _roots(self.catalog, data_dir)
        found: list[Path] = []
        for template in [self.url] if isinstance(self.url, str) else self.url:
            pattern = _expand(template, roots, self.where)
            matches = sorted(glob.glob(pattern)) if _GLOB_CHARS.search(pattern) else [pattern]
            matched = []
            for match in matches:
                _confine(match, roots, self.where)
                if os.path.isfile(match):
                    matched.append(Path(match))
            if not matched:
                raise SoilbenchError(self.where, f"no file matches {template!r} ({pattern})")
            found += [p for p in matched if p not in found]
        return found

    def read(self, data_dir: str | os.PathLike | None = None, *, allow_download: bool = True):
        """Open the entry: an :class:`xarray.Dataset` (lazy) or a :class:`pandas.DataFrame`."""
        paths = self.paths(data_dir, allow_download=allow_download)
        kwargs = dict(self.kwargs)
        try:
            if self.reader == "xarray":
                import xarray as xr

                if len(paths) == 1:
                    for key in ("combine", "concat_dim", "data_vars"):
                        kwargs.pop(key, None)
                    return xr.open_dataset(paths[0], **kwargs)
                return xr.open_mfdataset(paths, **kwargs)
            import pandas as pd

            frames = [pd.read_csv(path, **kwargs) for path in paths]
            return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        except (OSError, ValueError) as err:  # UnicodeDecodeError and parser errors are ValueErrors
            reason = " ".join(str(err).split())[:300]
            raise SoilbenchError(self.where, f"cannot read {'; '.join(map(str, paths))}: {reason}") from err

    def intake_reader(self, data_dir: str | os.PathLike | None = None):
        """The equivalent intake reader, built from the validated values (never from the file)."""
        from intake.readers import datatypes, readers

        paths = [str(p) for p in self.paths(data_dir)]
        url = paths[0] if len(paths) == 1 else paths
        if self.reader == "xarray":
            data_cls = datatypes.HDF5 if self.datatype.endswith(":HDF5") else datatypes.NetCDF3
            kwargs = dict(self.kwargs)
            kwargs.setdefault("engine", "netcdf4")
            return readers.XArrayDatasetReader(data_cls(url=url), metadata=self.metadata, **kwargs)
        return readers.PandasCSV(datatypes.CSV(url=url), metadata=self.metadata, **self.kwargs)

    def describe(self, data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
        """Every field, for ``soilbench catalog show``; local status is checked without network."""
        info: dict[str, Any] = {
            "id": self.id,
            "catalog": str(self.catalog),
            "kind": self.kind,
            "reader": f"{self.reader} ({self.datatype.rsplit(':', 1)[-1]})",
            "path": self.url,
        }
        info.update({k: v for k, v in self.metadata.items() if k not in info})
        if self.registry_id:
            state, path = data.status(self.registry_id, data_dir)
            info["local"] = f"{state}: {path}"
        else:
            try:
                info["local"] = "; ".join(str(p) for p in self.paths(data_dir))
            except SoilbenchError as err:
                info["local"] = f"unavailable: {err.problem}"
        if self.kwargs:
            info["reader arguments"] = self.kwargs
        return info


@dataclass
class SafeCatalog:
    """A validated catalog file: its metadata and entries (id → :class:`CatalogEntry`)."""

    path: Path
    metadata: dict[str, Any]
    entries: dict[str, CatalogEntry]

    def __getitem__(self, entry_id: str) -> CatalogEntry:
        return self.entries[entry_id]

    def __iter__(self):
        return iter(self.entries.values())


def _refuse(where: str, problem: str) -> UnsafeCatalog:
    return UnsafeCatalog(where, problem)


def _check_keys(value: Any, allowed: set[str], where: str, what: str) -> dict:
    if not isinstance(value, dict):
        raise _refuse(where, f"{what} must be a mapping, not {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _refuse(where, f"{what} has keys outside the allowlist: {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    return value


def _check_no_templates(value: Any, where: str, allow: re.Pattern | None = None) -> None:
    """Refuse ``{...}`` anywhere (env/func/import/data templates) except the allowed form."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_templates(key, where, allow)
            _check_no_templates(item, where, allow)
    elif isinstance(value, list):
        for item in value:
            _check_no_templates(item, where, allow)
    elif isinstance(value, str):
        rest = allow.sub("", value) if allow else value
        if "{" in rest or "}" in rest:
            raise _refuse(where, f"template {value!r} is not allowed (only {{{'}, {'.join(PLACEHOLDERS)}}} at the start of a path)")


def _roots(catalog: Path, data_dir: str | os.PathLike | None) -> dict[str, Path]:
    roots = {
        "CATALOG_DIR": catalog.parent,
        "SOILBENCH_DATA_DIR": data.data_dir(data_dir),
        "SOILBENCH_REFERENCE_DIR": data.REFERENCE_DIR,
    }
    for directory in model_dirs():  # no placeholder: absolute paths under them are allowed
        roots[f"{MODEL_DIRS_ENV}:{directory}"] = directory
    return roots


def model_dirs() -> list[Path]:
    """The directories of ``SOILBENCH_MODEL_DIRS`` (absolute, existing ones only)."""
    listed = os.environ.get(MODEL_DIRS_ENV, "")
    return [Path(p) for p in listed.split(os.pathsep) if p and os.path.isabs(p) and os.path.isdir(p)]


def _check_path_template(url: Any, where: str) -> None:
    """Static checks of a path template; confinement is checked again on the real files."""
    if not isinstance(url, str) or not url or len(url) > 4096 or "\x00" in url:
        raise _refuse(where, f"url must be a non-empty path string, got {url!r}")
    if "://" in url or _SCHEME.match(url):
        raise _refuse(where, f"url {url!r} is not allowed: only local paths under {{CATALOG_DIR}} or {{SOILBENCH_DATA_DIR}}")
    _check_no_templates(url, where, allow=_PLACEHOLDER)
    match = _PLACEHOLDER.match(url)
    if _PLACEHOLDER.search(url) and (not match or _PLACEHOLDER.search(url, match.end())):
        raise _refuse(where, f"url {url!r}: a placeholder may only appear once, at the start")
    relative = url[match.end():] if match else url
    if match and relative and not relative.startswith("/"):
        raise _refuse(where, f"url {url!r}: the placeholder must be followed by '/'")
    if "\\" in relative or ".." in PurePosixPath(relative).parts:
        raise _refuse(where, f"url {url!r} escapes its directory ('..' or backslash)")
    if relative.startswith("~"):
        raise _refuse(where, f"url {url!r}: '~' paths are not allowed")
    if not match and not url.startswith("/"):
        raise _refuse(where, f"url {url!r}: relative paths must start with {{CATALOG_DIR}}/ or {{SOILBENCH_DATA_DIR}}/")


def _expand(url: str, roots: dict[str, Path], where: str) -> str:
    match = _PLACEHOLDER.match(url)
    if match:
        return str(roots[match.group(1)]) + url[match.end():]
    _confine(url, roots, where, follow=False)
    return url


def _confine(path: str, roots: dict[str, Path], where: str, *, follow: bool = True) -> None:
    """Refuse a path that is not inside one of the roots (after resolving symlinks)."""
    real = Path(os.path.realpath(path) if follow else os.path.normpath(path))
    for root in roots.values():
        base = Path(os.path.realpath(root) if follow else os.path.normpath(root))
        if real == base or real.is_relative_to(base):
            return
    names = ", ".join(f"{{{k}}}={v}" for k, v in roots.items())
    raise _refuse(where, f"path {path} leads to {real}, outside the allowed directories ({names})")


def _check_metadata(meta: Any, where: str) -> dict[str, Any]:
    meta = _check_keys(meta or {}, ENTRY_METADATA_KEYS, where, "metadata")
    _check_no_templates(meta, where)
    if "kind" in meta and meta["kind"] not in KINDS:
        raise _refuse(where, f"metadata kind {meta['kind']!r} is not one of {', '.join(KINDS)}")
    if "loader" in meta and meta["loader"] not in REFERENCE_LOADERS:
        raise _refuse(where, f"metadata loader {meta['loader']!r} is not one of {', '.join(REFERENCE_LOADERS)}")
    combines = meta.get("combines", [])
    if not (_str_list(combines) and all(_ID.fullmatch(c) for c in combines) and len(combines) <= 4):
        raise _refuse(where, f"metadata combines must list up to 4 entry ids, got {combines!r}")
    overrides = meta.get("quantities", {})
    if not isinstance(overrides, dict) or any(
        q not in _MODEL_QUANTITIES or not (_small_str(200)(v) or (_str_list(v) and v)) for q, v in overrides.items()
    ):
        raise _refuse(where, f"metadata quantities must map quantities ({', '.join(_MODEL_QUANTITIES)}) to a variable "
                      f"name or a list of names, got {overrides!r}")
    return meta


def _load_yaml(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise SoilbenchError(path, f"cannot read catalog: {err.strerror}") from err
    if size > MAX_CATALOG_BYTES:
        raise _refuse(str(path), f"catalog is {size} bytes, more than the {MAX_CATALOG_BYTES} allowed")
    try:
        return yamlsafe.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise _refuse(str(path), f"not plain YAML data ({' '.join(str(err).split())})") from err
    except UnicodeDecodeError as err:
        raise _refuse(str(path), "catalog is not UTF-8 text") from err


def open_catalog(path: str | os.PathLike) -> SafeCatalog:
    """Read and validate one catalog file; never imports or runs anything it names.

    Raises
    ------
    UnsafeCatalog
        Anything outside the allowlist (see the module docstring), naming file, entry and value.
    """
    path = Path(path).absolute()
    document = _load_yaml(path)
    where = str(path)
    document = _check_keys(document, CATALOG_KEYS, where, "catalog")
    if document.get("version") != 2:
        raise _refuse(where, f"version must be 2 (an intake 2 catalog), got {document.get('version')!r}")
    metadata = _check_keys(document.get("metadata") or {}, CATALOG_METADATA_KEYS, where, "catalog metadata")
    _check_no_templates(metadata, where)

    for name, parameter in (document.get("user_parameters") or {}).items():
        here = f"{where} (user parameter '{name}')"
        if name not in PLACEHOLDERS[1:]:
            raise _refuse(here, f"only the placeholders {', '.join(PLACEHOLDERS[1:])} may be declared")
        _check_keys(parameter, USER_PARAMETER_KEYS, here, "user parameter")
        if parameter.get("cls") != _USER_PARAMETER or parameter.get("dtype", "object") not in ("object", "str"):
            raise _refuse(here, f"user parameter class {parameter.get('cls')!r} is not allowed (only {_USER_PARAMETER})")
        if not isinstance(parameter.get("default", ""), str):
            raise _refuse(here, "default must be a string")
        _check_no_templates(parameter, here)

    data_section = document.get("data") or {}
    entry_section = document.get("entries") or {}
    for name, section in (("data", data_section), ("entries", entry_section)):
        if not isinstance(section, dict):
            raise _refuse(where, f"{name} must be a mapping")
    files: dict[str, tuple[str, str | list[str]]] = {}
    for key, item in data_section.items():
        here = f"{where} (data '{key}')"
        _check_keys(item, DATA_KEYS, here, "data description")
        datatype = item.get("datatype")
        if datatype not in {d for _, types, _ in READERS.values() for d in types}:
            raise _refuse(here, f"datatype {datatype!r} is not allowed")
        kwargs = _check_keys(item.get("kwargs") or {}, {"url", "storage_options"}, here, "data kwargs")
        if kwargs.get("storage_options"):
            raise _refuse(here, "storage_options are not allowed (local files only)")
        if item.get("user_parameters"):
            raise _refuse(here, "user_parameters are only allowed at catalog level")
        _check_metadata(item.get("metadata"), here)
        url = kwargs.get("url")
        several = isinstance(url, list) and url and datatype != "intake.readers.datatypes:CSV"
        for one in url if several else [url]:  # a list: several NetCDF files of one model
            _check_path_template(one, here)
            if one.startswith("/"):  # checked again, symlinks resolved, when the files are used
                _confine(one, _roots(path, None), here, follow=False)
        files[str(key)] = (datatype, url)

    entries: dict[str, CatalogEntry] = {}
    for key, item in entry_section.items():
        here = f"{where} (entry '{key}')"
        if not isinstance(key, str) or not _ID.fullmatch(key):
            raise _refuse(here, "entry ids must match [A-Za-z0-9][A-Za-z0-9._-]*")
        entries[key] = _entry(key, item, files, path, here)

    aliases = document.get("aliases") or {}
    if not isinstance(aliases, dict) or any(v not in entries for v in aliases.values()):
        raise _refuse(where, "aliases must map names to entries of this catalog")
    return SafeCatalog(path, dict(metadata), entries)


def _entry(key: str, item: Any, files: dict[str, tuple[str, str]], catalog: Path, here: str) -> CatalogEntry:
    _check_keys(item, ENTRY_KEYS, here, "entry")
    reader = item.get("reader")
    if reader not in READERS:
        raise _refuse(here, f"reader {reader!r} is not allowed (allowed: {', '.join(READERS)})")
    output, datatypes, kwarg_checks = READERS[reader]
    if item.get("output_instance", output) != output:
        raise _refuse(here, f"output_instance {item.get('output_instance')!r} does not match reader {reader}")
    if item.get("user_parameters"):
        raise _refuse(here, "user_parameters are only allowed at catalog level")
    kwargs = dict(_check_keys(item.get("kwargs") or {}, set(kwarg_checks) | {"args"}, here, "reader kwargs"))
    args = kwargs.pop("args", None)
    ref = _DATA_REF.fullmatch(args[0]) if isinstance(args, list) and len(args) == 1 and isinstance(args[0], str) else None
    if not ref or ref.group(1) not in files:
        raise _refuse(here, f"args must be ['{{data(NAME)}}'] naming an item of the data section, got {args!r}")
    datatype, url = files[ref.group(1)]
    if datatype not in datatypes:
        raise _refuse(here, f"datatype {datatype} cannot be read by {reader}")
    for name, value in kwargs.items():
        _check_no_templates(value, here)
        if not kwarg_checks[name](value):
            raise _refuse(here, f"reader argument {name}={value!r} is not allowed")
    metadata = dict(_check_metadata(item.get("metadata"), here))
    kind = metadata.get("kind")
    if kind is None:
        raise _refuse(here, f"metadata kind is required (one of {', '.join(KINDS)})")
    registry_id = metadata.get("registry")
    if registry_id is not None:
        try:
            record = data.entry(registry_id)
        except SoilbenchError as err:
            raise SoilbenchError(here, f"metadata registry: {err.problem}") from err
        if url != "{SOILBENCH_DATA_DIR}/" + record["file"]:
            raise SoilbenchError(here, f"url must be {{SOILBENCH_DATA_DIR}}/{record['file']} for registry id '{registry_id}'")
        for name in ("citation", "licence", "url", "sha256", "size"):
            if name in record:
                metadata.setdefault("source url" if name == "url" else name, record[name])
        metadata.setdefault("description", record.get("description", ""))
    return CatalogEntry(
        id=key, catalog=catalog, kind=kind, reader="xarray" if reader == _XARRAY else "csv",
        datatype=datatype, url=url, kwargs=kwargs, metadata=metadata,
    )


def default_catalog_paths() -> list[Path]:
    """The project's ``catalogs/*.yaml`` (sorted), then files listed in ``SOILBENCH_CATALOGS``."""
    paths = sorted(CATALOG_DIR.glob("*.yaml")) if CATALOG_DIR.is_dir() else []
    extra = os.environ.get(CATALOGS_ENV, "")
    paths += [Path(p).expanduser() for p in extra.split(os.pathsep) if p]
    return paths


def default_catalogs() -> list[SafeCatalog]:
    """Every default catalog, validated; ids must be unique across them."""
    catalogs = [open_catalog(p) for p in default_catalog_paths()]
    seen: dict[str, Path] = {}
    for catalog in catalogs:
        for entry_id in catalog.entries:
            if entry_id in seen:
                raise SoilbenchError(catalog.path, f"entry id '{entry_id}' is also defined in {seen[entry_id]}")
            seen[entry_id] = catalog.path
    return catalogs


def all_entries(catalogs: list[SafeCatalog] | None = None) -> dict[str, CatalogEntry]:
    """id → entry across catalogs (the default catalogs when none are given)."""
    catalogs = default_catalogs() if catalogs is None else catalogs
    return {e.id: e for c in catalogs for e in c.entries.values()}


def find_entry(entry_id: str, catalogs: list[SafeCatalog] | None = None) -> CatalogEntry:
    """The entry called ``entry_id`` in the (default) catalogs; unknown ids suggest close ones."""
    entries = all_entries(catalogs)
    if entry_id not in entries:
        close = difflib.get_close_matches(entry_id, list(entries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `soilbench catalog list`"
        raise SoilbenchError("catalogs", f"no catalog entry '{entry_id}'{hint}")
    return entries[entry_id]


#: catalog entry kinds that can stand for a site reference file (one CSV table)
SITE_TABLE_KINDS = ("sites", "table")


def reference_file(reference_id: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The local file of a site reference: a registered dataset (fetched and verified), or the
    one CSV file of a ``sites``/``table`` entry of the default catalogs (a user's own table, e.g.
    a newer SRDB release), confined to the catalog's allowed directories.

    Raises
    ------
    SoilbenchError
        Unknown id (with the closest registry ids), an entry of another kind, an entry matching
        no file or more than one file.
    """
    if reference_id in data.registry():
        return data.fetch(reference_id, data_dir)
    entries = all_entries()
    entry = entries.get(reference_id)
    if entry is None:
        data.entry(reference_id)  # raises: unknown id, with close matches
    if entry.registry_id:
        return data.fetch(entry.registry_id, data_dir)
    if entry.kind not in SITE_TABLE_KINDS or entry.reader != "csv":
        raise SoilbenchError(entry.where, f"a {entry.kind} entry read by {entry.reader} cannot be a site table; "
                             f"give a CSV entry of kind {' or '.join(SITE_TABLE_KINDS)}")
    paths = entry.paths(data_dir)
    if len(paths) != 1:
        raise SoilbenchError(entry.where, f"a site table must be one CSV file; {entry.url!r} matches {len(paths)}")
    return paths[0]


def entry_sha256(entry_id: str, data_dir: str | os.PathLike | None = None) -> str | None:
    """sha256 of the files of a default-catalog entry (None when it has none, or is unknown),
    so that results computed from a user's table are redone when the table changes."""
    entry = all_entries().get(entry_id)
    if entry is None:
        return None
    if entry.registry_id:
        return data.entry(entry.registry_id)["sha256"]
    try:
        paths = entry.paths(data_dir, allow_download=False)
    except SoilbenchError:
        return None
    if len(paths) == 1:
        return data.sha256_of(paths[0])
    return hashlib.sha256("\n".join(data.sha256_of(p) for p in paths).encode()).hexdigest()


LOCAL_MODELS = CATALOG_DIR / "models-local.yaml"


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # the loader refuses aliases, so never write them
        return True


def _template_for(path: str, roots: dict[str, Path]) -> str | None:
    """``{ROOT}/relative`` for a path inside the catalog's directory or the data directory, the
    absolute path for one inside a ``SOILBENCH_MODEL_DIRS`` directory."""
    absolute = Path(os.path.abspath(path))
    for name in ("CATALOG_DIR", "SOILBENCH_DATA_DIR"):
        root = Path(os.path.abspath(roots[name]))
        if absolute.is_relative_to(root):
            return "{%s}/%s" % (name, absolute.relative_to(root).as_posix())
    for directory in model_dirs():
        if absolute.is_relative_to(Path(os.path.abspath(directory))):
            return absolute.as_posix()
    return None


def _netcdf_kind(paths: list[Path], where: str) -> tuple[str, str]:
    """The intake datatype and xarray engine that read these files, also from plain intake.

    Plain intake opens a glob through fsspec file objects, which the netCDF4 engine cannot read;
    h5netcdf (NetCDF-4/HDF5 files) and scipy (NetCDF-3 files) can.
    """
    kinds = set()
    for path in paths:
        with open(path, "rb") as handle:
            magic = handle.read(8)
        if magic.startswith(b"\x89HDF"):
            kinds.add("HDF5")
        elif magic.startswith(b"CDF"):
            kinds.add("NetCDF3")
        else:
            raise SoilbenchError(path, "is not a NetCDF file (neither NetCDF-4/HDF5 nor NetCDF-3)")
    if len(kinds) > 1:
        raise SoilbenchError(where, "mixes NetCDF-3 and NetCDF-4 files; add them as two models or convert one kind")
    return ("intake.readers.datatypes:HDF5", "h5netcdf") if kinds == {"HDF5"} else \
        ("intake.readers.datatypes:NetCDF3", "scipy")


def add_model(
    name: str,
    paths: list[str | os.PathLike],
    catalog: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    *,
    description: str | None = None,
    format: str | None = None,  # noqa: A002 (the catalog's word)
    period: str | None = None,
) -> CatalogEntry:
    """Add a model entry to a user catalog (created if missing), written atomically.

    Parameters
    ----------
    name
        Model name; also the entry id (``[A-Za-z0-9][A-Za-z0-9._-]*``).
    paths
        NetCDF files, globs or directories (a directory means its ``*.nc`` files). They must lie
        inside the catalog's directory or the data directory, where the written entry points
        with ``{CATALOG_DIR}``/``{SOILBENCH_DATA_DIR}``, or inside a directory listed in
        ``SOILBENCH_MODEL_DIRS``, where it keeps the absolute path. The entry also reads with
        plain ``intake.from_yaml_file`` (h5netcdf or scipy engine, which accept the file objects
        intake opens for a glob; ``SOILBENCH_DATA_DIR`` declared as a user parameter).
    catalog
        The catalog file; ``catalogs/models-local.yaml`` by default.
    format
        How the output is laid out (``trendy``, ``cmip6``, ``testbed`` or ``files``); recorded for
        people, the loader recognises files by their variables.
    """
    catalog = Path(catalog).absolute() if catalog else LOCAL_MODELS
    where = f"{catalog} (entry '{name}')"
    if not _ID.fullmatch(name):
        raise SoilbenchError(where, "model name must match [A-Za-z0-9][A-Za-z0-9._-]* (it becomes the entry id)")
    if format is not None and format not in ("trendy", "cmip6", "testbed", "files"):
        raise SoilbenchError(where, f"format {format!r} is not one of trendy, cmip6, testbed, files")
    if not paths:
        raise SoilbenchError(where, "give at least one model file, glob or directory")
    roots = _roots(catalog, data_dir)
    templates = []
    for given in paths:
        text = str(given)
        if "://" in text or _SCHEME.match(text):
            raise UnsafeCatalog(where, f"{text} is a URL; download the files and give local paths")
        if os.path.isdir(text):
            text = os.path.join(text, "*.nc")
        template = _template_for(text, roots)
        if template is None:
            raise SoilbenchError(
                where,
                f"{text} is outside the data directory ({roots['SOILBENCH_DATA_DIR']}), the catalog's "
                f"directory ({catalog.parent}) and {MODEL_DIRS_ENV}; list its directory in "
                f"{MODEL_DIRS_ENV} (export {MODEL_DIRS_ENV}=DIR), write the catalog next to the model "
                f"files (--catalog DIR/models.yaml) or pass --data-dir",
            )
        templates.append(template)

    document = _load_yaml(catalog) if catalog.exists() else None
    if document is not None:
        existing = open_catalog(catalog)  # refuse to extend an unsafe catalog
        if name in existing.entries:
            raise SoilbenchError(where, "an entry with this name exists; choose another name or edit the file")
    else:
        document = {
            "version": 2,
            "metadata": {"description": "Models added with `soilbench catalog add-model`"},
            "user_parameters": {},
            "aliases": {},
            "data": {},
            "entries": {},
        }
    matched = [Path(m) for template in templates for m in sorted(glob.glob(_expand(template, roots, where)))]
    datatype, engine = _netcdf_kind([m for m in matched if m.is_file()], where)
    if any(t.startswith("{SOILBENCH_DATA_DIR}") for t in templates):
        document.setdefault("user_parameters", {}).setdefault("SOILBENCH_DATA_DIR", {
            "cls": _USER_PARAMETER,
            "description": "soilbench data directory (soilbench fills it in; with plain intake pass it yourself)",
            "default": "", "dtype": "object",
        })
    data_key = f"{name}.files"
    document.setdefault("data", {})[data_key] = {
        "datatype": datatype,
        "kwargs": {"url": templates[0] if len(templates) == 1 else templates, "storage_options": None},
        "metadata": {},
        "user_parameters": {},
    }
    metadata = {"kind": "model", "model": name, "description": description or f"model {name}"}
    metadata.update({k: v for k, v in (("format", format), ("period", period)) if v})
    document.setdefault("entries", {})[name] = {
        "reader": _XARRAY,
        "output_instance": "xarray:Dataset",
        "kwargs": {"args": ["{data(%s)}" % data_key], "engine": engine},
        "metadata": metadata,
        "user_parameters": {},
    }
    text = yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True)
    with atomic.atomic_path(catalog) as tmp:
        tmp.write_text(text, encoding="utf-8")
        written = open_catalog(tmp)  # what we wrote must pass our own checks, before it replaces the file
        entry = written.entries[name]
        entry.paths(data_dir)  # and must find files
    entry.catalog = catalog
    return entry
