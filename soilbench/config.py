"""Benchmark definitions: ``confrontations/*.yaml`` read, validated and turned into confrontations.

A definition is untrusted input. It is parsed as plain YAML data without aliases
(:mod:`soilbench.yamlsafe`: no tags, no "billion laughs" bombs) and only ever *names*
things soilbench already knows: a confrontation ``type`` registered with
:func:`soilbench.confrontations.register`, options that type declares, and references that are in
the data registry, in a catalog, or built into the confrontation type. Nothing named in a
definition is imported or executed. Every problem is a :class:`~soilbench.errors.ConfigError`
naming the file and the key at fault, e.g.
``confrontations/x.yaml: variable 'confrontations[2].weight': weight must be a number > 0``.

Schema::

    name: soilbench-default            # required, [A-Za-z0-9._-]
    description: free text             # optional
    confrontations:                    # required, non-empty list
      - name: rh-global-totals         # required, unique, [a-z0-9-]
        type: global_totals            # required, a registered Confrontation.kind
        references: [cardamom-rh]      # required, non-empty list of known reference ids
        weight: 1                      # optional (1), a finite number > 0
        options: {period: [2001, 2010]}  # optional, keys from the type's option_defaults
        description: free text         # optional
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from soilbench import yamlsafe
from soilbench.confrontations.base import Confrontation, confrontation_class
from soilbench.data import PROJECT_ROOT
from soilbench.errors import ConfigError, SoilbenchError

CONFRONTATIONS_DIR = PROJECT_ROOT / "confrontations"
DEFAULT_CONFIG = CONFRONTATIONS_DIR / "default.yaml"

MAX_DEFINITION_BYTES = 1 << 20
#: options that ``null`` switches off whatever their default (the site filters; docs/sites.md).
#: A type may add its own with a class attribute ``nullable_options``.
NULLABLE_OPTIONS = frozenset({"min_years_of_data", "manipulation", "exclude_methods", "outlier_sd", "climate_map"})

TOP_KEYS = {"name", "description", "confrontations"}
CONFRONTATION_KEYS = {"name", "type", "references", "weight", "options", "description"}
_NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_BENCHMARK_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class ConfrontationSpec:
    """One validated entry of a benchmark definition (plain data; see :meth:`build`)."""

    name: str
    type: str
    references: tuple[str, ...]
    weight: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def build(self, data_dir: str | os.PathLike | None = None, source: str | None = None) -> Confrontation:
        """The confrontation object this entry describes (not staged yet)."""
        cls = confrontation_class(self.type, source)
        return cls(
            self.name, list(self.references), dict(self.options), weight=self.weight,
            data_dir=None if data_dir is None else str(data_dir), source=source,
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "type": self.type, "references": list(self.references),
            "weight": self.weight, "options": dict(self.options),
        }
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Benchmark:
    """A validated benchmark definition."""

    name: str
    source: str
    confrontations: tuple[ConfrontationSpec, ...]
    description: str = ""

    def build(self, data_dir: str | os.PathLike | None = None) -> list[Confrontation]:
        """Confrontation objects for every entry, in definition order."""
        return [spec.build(data_dir, self.source) for spec in self.confrontations]

    def as_dict(self) -> dict[str, Any]:
        """The definition as loaded (with defaults filled in), for ``run.json``."""
        return {
            "name": self.name, "source": self.source, "description": self.description,
            "confrontations": [spec.as_dict() for spec in self.confrontations],
        }


def builtin_references(cls: type[Confrontation]) -> set[str]:
    """Reference ids a confrontation type provides itself (e.g. ``literature-rh``).

    A type declares them in :attr:`Confrontation.builtin_references`; they are tables shipped
    with the type rather than files in the data registry or the catalogs.
    """
    return {str(item) for item in cls.builtin_references}


def catalog_reference_ids() -> set[str]:
    """Ids of the reference (non-model) entries of the default catalogs."""
    from soilbench.catalogs import all_entries

    return {entry_id for entry_id, entry in all_entries().items() if entry.kind != "model"}


def _site_table_kinds() -> tuple[str, ...]:
    from soilbench.catalogs import SITE_TABLE_KINDS

    return SITE_TABLE_KINDS


def catalog_only_references() -> dict[str, str]:
    """id → kind of the catalog reference entries that are not registered files (a user's own tables)."""
    from soilbench.catalogs import all_entries
    from soilbench.data import registry

    registered = registry()
    # an entry declaring its loader (a merged product, the literature table) is read through it
    # and checked by unstageable_reason, like a registered file
    return {entry_id: entry.kind for entry_id, entry in all_entries().items()
            if entry.kind != "model" and entry_id not in registered and not entry.registry_id
            and not entry.metadata.get("loader")}


def known_references(extra: Iterable[str] = ()) -> set[str]:
    """Every reference id a definition may name, apart from type-specific built-ins: the data
    registry and the catalogs."""
    from soilbench.data import registry

    return set(registry()) | catalog_reference_ids() | set(extra)


def unstageable_reason(cls: type[Confrontation], reference: str) -> str | None:
    """Why type ``cls`` cannot stage ``reference`` (None when it can): a reference is read through
    its catalog entry's ``metadata.loader``, which must be one of the type's ``reference_loaders``."""
    from soilbench.load.reference import reference_loader

    loader = reference_loader(reference)
    if loader is None:
        return (f"reference {reference!r} cannot be staged: no catalog entry declares how to read it "
                "(metadata loader)")
    if cls.reference_loaders and loader not in cls.reference_loaders:
        return (f"reference {reference!r} is read by the loader {loader!r}; type {cls.kind!r} stages only "
                f"{', '.join(cls.reference_loaders)}")
    return None


def load_benchmark(path: str | os.PathLike, known: Iterable[str] | None = None) -> Benchmark:
    """Read and validate a benchmark definition.

    Parameters
    ----------
    path
        The YAML file.
    known
        Reference ids to accept besides the confrontation types' built-ins; by default
        :func:`known_references` (the data registry and the catalogs).

    Raises
    ------
    ConfigError
        Unreadable file, invalid YAML or anything that breaks the schema in the module docstring.
    """
    path = Path(path)
    source = str(path)
    try:
        if path.stat().st_size > MAX_DEFINITION_BYTES:
            raise ConfigError(source, f"the benchmark definition is larger than {MAX_DEFINITION_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(source, "the benchmark definition is not UTF-8 text") from None
    except OSError as err:
        raise ConfigError(source, f"cannot read the benchmark definition ({err.strerror or err})") from None
    try:
        document = yamlsafe.load(text)
    except yaml.YAMLError as err:
        raise ConfigError(source, f"invalid YAML: {err}") from None
    return parse_benchmark(document, source, known)


def parse_benchmark(document: Any, source: str, known: Iterable[str] | None = None) -> Benchmark:
    """Validate an already parsed definition (see :func:`load_benchmark`)."""
    if not isinstance(document, dict):
        raise ConfigError(source, "a benchmark definition must be a mapping with 'name' and 'confrontations'")
    _reject_unknown(document, TOP_KEYS, source, None)
    name = document.get("name")
    if not isinstance(name, str) or not _BENCHMARK_NAME_RE.fullmatch(name):
        raise ConfigError(source, "the benchmark needs a 'name' of letters, digits, '.', '_' or '-'", "name")
    description = _optional_text(document, "description", source, "description")
    entries = document.get("confrontations")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(source, "'confrontations' must be a non-empty list", "confrontations")
    known_ids = known_references() if known is None else set(known)
    user_tables = catalog_only_references() if known is None else {}
    specs: list[ConfrontationSpec] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        spec = _parse_confrontation(entry, f"confrontations[{position}]", source, known_ids, user_tables)
        if spec.name in seen:
            raise ConfigError(source, f"confrontation name {spec.name!r} is used twice", f"confrontations[{position}].name")
        seen.add(spec.name)
        specs.append(spec)
    return Benchmark(name=name, source=source, confrontations=tuple(specs), description=description)


def _parse_confrontation(entry: Any, where: str, source: str, known_ids: set[str],
                         user_tables: dict[str, str] | None = None) -> ConfrontationSpec:
    if not isinstance(entry, dict):
        raise ConfigError(source, "each confrontation must be a mapping", where)
    _reject_unknown(entry, CONFRONTATION_KEYS, source, where)
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ConfigError(source, "needs a 'name' of lower-case letters, digits and '-'", f"{where}.name")
    where_named = f"{where}.name={name}"
    kind = entry.get("type")
    if not isinstance(kind, str) or not kind:
        raise ConfigError(source, "needs a 'type' (a confrontation type)", f"{where_named}.type")
    try:
        cls = confrontation_class(kind, source)
    except ConfigError as err:
        raise ConfigError(source, err.problem, f"{where_named}.type") from None

    options = entry.get("options", {}) or {}
    if not isinstance(options, dict) or not all(isinstance(key, str) for key in options):
        raise ConfigError(source, "'options' must be a mapping of option names to values", f"{where_named}.options")
    unknown = sorted(set(options) - set(cls.option_defaults))
    if unknown:
        allowed = ", ".join(sorted(cls.option_defaults)) or "none"
        raise ConfigError(
            source, f"unknown option(s) {', '.join(unknown)} for type {kind!r}; allowed: {allowed}",
            f"{where_named}.options.{unknown[0]}",
        )

    for key, value in options.items():
        problem = option_type_problem(value, cls.option_defaults[key], key in nullable_options(cls))
        if problem:
            raise ConfigError(source, f"option {key}: {problem}", f"{where_named}.options.{key}")

    references = entry.get("references")
    if isinstance(references, str):
        references = [references]
    if not isinstance(references, list) or not references or not all(isinstance(r, str) and r for r in references):
        raise ConfigError(source, "'references' must be a non-empty list of reference ids", f"{where_named}.references")
    if len(set(references)) != len(references):
        raise ConfigError(source, "a reference is listed twice", f"{where_named}.references")
    builtin = builtin_references(cls)
    accepted = known_ids | builtin
    for reference in references:
        if reference not in accepted:
            raise ConfigError(
                source,
                f"unknown reference {reference!r}: not in the data registry, the catalogs or the built-in "
                f"references of type {kind!r}",
                f"{where_named}.references",
            )
        if reference in builtin:
            continue
        table_kind = (user_tables or {}).get(reference)
        if table_kind is not None and cls.reads_site_tables and table_kind in _site_table_kinds():
            continue  # a user's own site table, read by the site types' loaders
        reason = unstageable_reason(cls, reference)
        if reason and table_kind is not None and reason.endswith("(metadata loader)"):
            # a user's table that declares no loader: say which types can read it
            reason = (f"reference {reference!r} is a {table_kind} entry of a catalog, not a registered file; type "
                      f"{kind!r} cannot read it (a catalog's site table is a reference of the site types only)")
        if reason:
            raise ConfigError(source, reason, f"{where_named}.references")

    weight = entry.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight <= 0:
        raise ConfigError(source, f"weight must be a finite number > 0, got {weight!r}", f"{where_named}.weight")

    spec = ConfrontationSpec(
        name=name, type=kind, references=tuple(references), weight=float(weight), options=dict(options),
        description=_optional_text(entry, "description", source, f"{where_named}.description"),
    )
    try:  # the type's own checks of option values, still before anything runs
        confrontation = spec.build(source=source)
    except ConfigError as err:
        raise ConfigError(source, err.problem, f"{where_named}.{err.variable or 'options'}") from None
    except SoilbenchError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(source, " ".join(str(err).split()), f"{where_named}.options") from None
    for reference in references:
        reason = None if reference in builtin else unrelated_reason(confrontation, reference)
        if reason:
            raise ConfigError(source, reason, f"{where_named}.references")
    return spec


def nullable_options(cls: type[Confrontation]) -> set[str]:
    """Options of ``cls`` that may be ``null`` (switched off)."""
    return set(NULLABLE_OPTIONS) | set(cls.nullable_options)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


def option_type_problem(value: Any, default: Any, nullable: bool) -> str | None:
    """What is wrong with the type of an option value, judged by its default; None when fine.

    The default says the type: true/false, an integer, a number (an integer is a number), text,
    or a list of such items. ``null`` is allowed for options without a default (``None``) and
    for the options that ``null`` switches off. A default of ``None`` leaves the check to the
    confrontation type. Without this, ``exclude_methods: alkali`` (text, not a list) would be
    read letter by letter and exclude every method containing an "a".
    """
    if value is None:
        return None if nullable or default is None else f"must be {_kind(default)}, not null"
    if default is None:
        return None
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, (list, tuple)):
        if not isinstance(value, list):
            return f"must be a list, not {_kind(value)} ({value!r})"
        items = {type(item) for item in default}
        numeric = bool(default) and all(isinstance(i, (int, float)) and not isinstance(i, bool) for i in default)
        if numeric and len(value) != len(default):  # numeric lists are pairs: ranges, periods, draws
            return f"must be a list of {len(default)} numbers, got {value!r}"
        for item in value:
            problem = option_type_problem(item, default[0], False) if len(items) == 1 else None
            if problem:
                return f"list items {problem}"
        return None
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    else:
        return None
    if ok:
        return None
    if isinstance(default, float):
        what = "a finite number"
    elif isinstance(default, int) and not isinstance(default, bool):
        what = "an integer"
    else:
        what = _kind(default)
    return f"must be {what}, not {_kind(value)} ({value!r})"


def unrelated_reason(confrontation: Confrontation, reference: str) -> str | None:
    """Why ``reference`` holds nothing ``confrontation`` compares (None when it does, or when its
    catalog entry does not say which quantities it holds, e.g. a site table)."""
    from soilbench.load.reference import reference_entries

    entry = reference_entries().get(reference)
    held = set((entry.metadata.get("quantities") or {}) if entry is not None else {})
    if not held or held & set(confrontation.quantities):
        return None
    return (f"reference {reference!r} holds {', '.join(sorted(held))}; confrontation '{confrontation.name}' "
            f"compares {', '.join(confrontation.quantities)}")


def _reject_unknown(mapping: dict, allowed: set[str], source: str, where: str | None) -> None:
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise ConfigError(source, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}", key)


def _optional_text(mapping: dict, key: str, source: str, where: str) -> str:
    value = mapping.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(source, f"'{key}' must be text", where)
    return value


def resolve_config(name_or_path: str | os.PathLike) -> Path:
    """A definition file from a path, or a bare name of a file in the project's ``confrontations/``."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    candidate = CONFRONTATIONS_DIR / f"{path.name}.yaml" if path.suffix == "" else CONFRONTATIONS_DIR / path.name
    if path.parent == Path(".") and candidate.is_file():
        return candidate
    raise ConfigError(str(name_or_path), "benchmark definition not found")
