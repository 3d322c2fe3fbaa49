"""``load_model``: any model output (file, files, directory, catalog entry) → canonical dataset."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.load import sources, timeaxis
from soilbench.load.canonical import canonicalise

log = logging.getLogger(__name__)

ModelSource = str | os.PathLike | Sequence[str | os.PathLike] | Any


def load_model(
    source: ModelSource,
    name: str | None = None,
    period: tuple[int, int] | None = None,
    data_dir: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Load model output into the canonical dataset (``docs/architecture.md``).

    Parameters
    ----------
    source
        A NetCDF file; a list of files (combined by coordinates: variables merged, time
        pieces concatenated); a directory of NetCDF files (TRENDY style, one per variable); a
        registry id (e.g. ``"testbed-casacnp"``); or a catalog entry, i.e. any object with
        ``.paths()`` and a ``.metadata`` mapping (``model`` or ``name``, ``period`` for one-step
        files, ``quantities``: quantity → variable name or list to sum, overriding the alias table).
    name
        Display name; default the catalog's ``model``/``name``, else the file or directory name.
    period
        ``(first_year, last_year)`` to keep; the overlap is logged and recorded in attrs.
    data_dir
        Data directory for registry ids.

    Returns
    -------
    xarray.Dataset
        Canonical dataset, lazy (dask) where the files are.

    Raises
    ------
    SoilbenchError
        One line naming the file, the variable and the problem.
    """
    paths, metadata = _resolve(source, data_dir)
    label = ";".join(str(p) for p in paths)
    raw = _open_all(paths)
    display = name or metadata.get("model") or metadata.get("name") or _default_name(source, paths)
    return canonicalise(raw, label, display, period=period, metadata=metadata)


def _resolve(source: ModelSource, data_dir) -> tuple[list[Path], dict]:
    """Paths and metadata of any accepted kind of model source."""
    if hasattr(source, "paths") and callable(source.paths):
        metadata = dict(getattr(source, "metadata", None) or {})
        listed = source.paths() if data_dir is None else source.paths(data_dir=data_dir)
        paths = [Path(p) for p in listed]
        return _expand(paths), metadata
    if isinstance(source, (str, os.PathLike)):
        text = str(source)
        if not Path(text).exists() and sources.is_registry_id(text):
            return [sources.dataset_path(text, data_dir)], {"name": text}
        return _expand([Path(text)]), {}
    if isinstance(source, Sequence) and source:
        return _expand([Path(p) for p in source]), {}
    raise SoilbenchError(None, f"cannot load a model from {type(source).__name__} {source!r}; give a file, files or a directory")


def _expand(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        out.extend(sources.netcdf_files(path) if path.is_dir() else [path])
    return out


def _default_name(source: ModelSource, paths: list[Path]) -> str:
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        return Path(source).name
    return paths[0].stem if len(paths) == 1 else paths[0].parent.name or paths[0].stem


def _open_all(paths: list[Path]) -> xr.Dataset:
    """Open and time-decode every file, then combine them into one dataset."""
    opened = [timeaxis.decode_time(sources.open_netcdf(p), p) for p in paths]
    if len(opened) == 1:
        return opened[0]
    calendars = {d.attrs.get("calendar") for d in opened if "calendar" in d.attrs}
    if len(calendars) > 1:
        raise SoilbenchError(";".join(map(str, paths)), f"files use different calendars {sorted(calendars)}", "time")
    try:
        combined = xr.combine_by_coords(opened, data_vars="minimal", coords="minimal", compat="override",
                                        join="outer", combine_attrs="drop_conflicts")
    except (ValueError, TypeError) as err:
        reason = " ".join(str(err).split())[:160]
        raise SoilbenchError(";".join(map(str, paths)), f"files cannot be combined into one dataset ({reason})") from None
    if calendars:
        combined.attrs["calendar"] = calendars.pop()
    return combined
