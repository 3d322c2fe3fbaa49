"""Which file variables make each quantity: the alias table (``aliases.yaml``) and its lookup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import xarray as xr
import yaml

ALIAS_FILE = Path(__file__).with_name("aliases.yaml")


@dataclass(frozen=True)
class Recipe:
    """Variables summed to make one quantity (after conversion to canonical units)."""

    quantity: str
    variables: tuple[str, ...]
    includes_litter: bool | None = None


@lru_cache(maxsize=1)
def alias_table() -> dict:
    """The parsed ``aliases.yaml``."""
    return yaml.safe_load(ALIAS_FILE.read_text(encoding="utf-8"))


def quantity_names() -> list[str]:
    """Quantities the alias table knows, in table order."""
    return [k for k, v in alias_table().items() if isinstance(v, dict) and "recipes" in v]


def recipes_for(quantity: str, overrides: Mapping[str, str | list[str]] | None = None) -> list[Recipe]:
    """Recipes for ``quantity``; a catalog's ``quantities`` override (name or list) comes first."""
    entry = alias_table()[quantity]
    found = []
    if overrides and quantity in overrides:
        names = overrides[quantity]
        names = [names] if isinstance(names, str) else list(names)
        found.append(Recipe(quantity, tuple(names)))
    for r in entry["recipes"]:
        found.append(Recipe(quantity, tuple(r["sum"]), r.get("includes_litter")))
    return found


def _match_name(ds: xr.Dataset, name: str) -> str | None:
    if name in ds.data_vars:
        return name
    lowered = {str(v).lower(): str(v) for v in ds.data_vars}
    if name.lower() in lowered:
        return lowered[name.lower()]
    branded = [str(v) for v in ds.data_vars if _branded_root(str(v)) == name]
    return branded[0] if len(branded) == 1 else None


def _branded_root(variable: str) -> str | None:
    """``rh`` for the CMIP7 branded name ``rh_tavg-u-hxy-lnd``; None for other names."""
    root, sep, suffix = variable.partition("_")
    if sep and re.fullmatch(alias_table()["branded_suffix"], suffix):
        return root
    return None


def resolve(ds: xr.Dataset, quantity: str, overrides: Mapping[str, str | list[str]] | None = None) -> Recipe | None:
    """The first recipe of ``quantity`` whose variables are all in ``ds`` (actual names), else None.

    Falls back to a variable carrying one of the quantity's CF standard names.
    """
    for recipe in recipes_for(quantity, overrides):
        names = [_match_name(ds, v) for v in recipe.variables]
        if all(names):
            return Recipe(quantity, tuple(names), recipe.includes_litter)
    for standard_name in alias_table()[quantity].get("standard_names", []):
        for name, var in ds.data_vars.items():
            if var.attrs.get("standard_name") == standard_name:
                return Recipe(quantity, (str(name),))
    return None


def find_auxiliary(ds: xr.Dataset, kind: str) -> str | None:
    """Name of the cell-area (``"cell_area"``) or land-fraction (``"land_fraction"``) variable."""
    for name in alias_table()[kind]:
        match = _match_name(ds, name)
        if match:
            return match
    return None
