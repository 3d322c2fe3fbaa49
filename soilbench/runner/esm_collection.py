"""ESM collections (intake-esm's JSON + CSV, as pangeo and ESGF mirrors publish CMIP6) as models.

The collection is read with pandas, not through intake-esm: soilbench only needs the table of
files and their facets, opens every file itself (its own loader, h5netcdf/netCDF4 per file, in the
worker that runs the model), and so neither needs intake-esm's dependencies nor meets its
netCDF4 thread-safety issues when dask opens files from several threads.

A collection is untrusted input: only local files are accepted (a URL or object-store path is
a one-line error), a relative ``catalog_file`` or asset path is taken relative to the JSON's
directory, and nothing it names is executed.

Each model is one simulation: the rows of one ``source_id``, ``member_id`` and ``experiment_id``
(and ``grid_label``, when the collection has several for it), every variable soilbench reads and
every time piece; fixed fields (``areacella``, ``sftlf``) missing from that member are taken from
another member or experiment of the same source and grid. With a ``version`` column, the newest
version of each variable is used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from soilbench.errors import SoilbenchError

#: facets that make one model (the CMIP6 DRS names; ``variant_label`` when ``member_id`` is absent)
MODEL_FACETS = ("source_id", "member_id", "experiment_id")
FIXED_VARIABLES = ("areacella", "sftlf")


def is_esm_collection(path: Path) -> bool:
    """Whether ``path`` is an intake-esm collection JSON (``esmcat_version`` or ``assets`` + table)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(spec, dict) and ("esmcat_version" in spec or (
        "assets" in spec and ("catalog_file" in spec or "catalog_dict" in spec)))


def parse_select(pairs: list[str] | None) -> dict[str, list[str]]:
    """``["source_id=CESM2,MIROC-ES2L", "experiment_id=historical"]`` → facet → accepted values."""
    selected: dict[str, list[str]] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise SoilbenchError("--select", f"expected FACET=VALUE[,VALUE...], got {pair!r}")
        selected.setdefault(key.strip(), []).extend(v.strip() for v in value.split(",") if v.strip())
    return selected


def read_collection(path: Path) -> pd.DataFrame:
    """The collection's table: one row per file, facet columns and ``path`` (absolute, local)."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SoilbenchError(path, f"cannot be read as an ESM collection ({' '.join(str(err).split())[:100]})") from None
    column = str((spec.get("assets") or {}).get("column_name") or "path")
    if spec.get("catalog_dict") is not None:
        table = pd.DataFrame(spec["catalog_dict"])
        origin: Path = path
    else:
        origin = _relative_to(path, str(spec.get("catalog_file") or ""))
        try:
            table = pd.read_csv(origin, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as err:
            raise SoilbenchError(origin, f"cannot be read as the collection's table ({' '.join(str(err).split())[:100]})") \
                from None
    if column not in table.columns:
        raise SoilbenchError(origin, f"has no asset column {column!r}; columns: {', '.join(map(str, table.columns))}")
    table = table.astype(str).rename(columns={column: "path"})
    if "member_id" not in table.columns and "variant_label" in table.columns:
        table["member_id"] = table["variant_label"]
    missing = [f for f in (*MODEL_FACETS, "variable_id") if f not in table.columns]
    if missing:
        raise SoilbenchError(origin, f"has no column(s) {', '.join(missing)}: soilbench needs the CMIP6 facets")
    table["path"] = [str(_relative_to(path, p)) for p in table["path"]]
    return table


def _relative_to(collection: Path, target: str) -> Path:
    if "://" in target or target.startswith(("s3:", "gs:")):
        raise SoilbenchError(collection, f"names {target!r}, not a local file; soilbench reads local copies only "
                                         "(download the files and point the collection at them)")
    if not target:
        raise SoilbenchError(collection, "names no catalog_file and has no catalog_dict")
    candidate = Path(os.path.expanduser(target))
    return candidate if candidate.is_absolute() else collection.parent / candidate


def select(table: pd.DataFrame, selected: dict[str, list[str]], source: Path) -> pd.DataFrame:
    """Rows matching every facet of ``selected`` (any of its values); unknown facets are errors."""
    unknown = [k for k in selected if k not in table.columns]
    if unknown:
        raise SoilbenchError("--select", f"{source} has no facet(s) {', '.join(unknown)}; facets: "
                                         f"{', '.join(c for c in table.columns if c != 'path')}")
    keep = pd.Series(True, index=table.index)
    for key, values in selected.items():
        keep &= table[key].isin(values)
    return table[keep]


def model_groups(table: pd.DataFrame, wanted_variables: set[str]) -> list[dict[str, Any]]:
    """One entry per model: ``{"facets": {...}, "paths": [...]}``, in the table's order."""
    if table.empty:
        return []
    rows = table[table["variable_id"].map(_root).isin(wanted_variables)]
    if "version" in rows.columns:  # the newest version of each variable of each dataset
        key = [c for c in (*MODEL_FACETS, "grid_label", "table_id", "variable_id") if c in rows.columns]
        newest = rows.groupby(key, sort=False)["version"].transform("max")
        rows = rows[rows["version"] == newest]
    fixed = rows[rows["variable_id"].map(_root).isin(FIXED_VARIABLES)]
    varying = rows[~rows.index.isin(fixed.index)]
    by = [c for c in (*MODEL_FACETS, "grid_label") if c in rows.columns]
    groups = []
    for facets, members in varying.groupby(by, sort=False):
        facets = dict(zip(by, facets))
        own_fixed = fixed[(fixed[by] == pd.Series(facets)).all(axis=1)]
        paths = list(members["path"])
        have = set(own_fixed["variable_id"].map(_root))
        paths += list(own_fixed["path"])
        for variable in FIXED_VARIABLES:  # e.g. areacella published for r1i1p1f1 only
            if variable in have:
                continue
            same_source = (fixed["source_id"] == facets["source_id"]) & (fixed["variable_id"].map(_root) == variable)
            if "grid_label" in facets:
                same_source &= fixed["grid_label"] == facets["grid_label"]
            if same_source.any():
                paths.append(fixed[same_source]["path"].iloc[0])
        groups.append({"facets": facets, "paths": list(dict.fromkeys(paths))})
    return groups


def _root(variable: str) -> str:
    """``rh`` for ``rh`` and for the CMIP7 branded ``rh_tavg-u-hxy-lnd``."""
    return str(variable).split("_", 1)[0]


def variables_read() -> set[str]:
    """Every file variable the alias table can use (recipe parts, cell area, land fraction)."""
    from soilbench.load.aliases import alias_table

    names: set[str] = set()
    for key, value in alias_table().items():
        if isinstance(value, dict):
            for recipe in value.get("recipes", []):
                names.update(recipe["sum"])
        elif isinstance(value, list):
            names.update(value)
    return names
