"""``load_model``: any model output (file, files, directory, catalog entry) → canonical dataset."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.load import grid, sources, timeaxis
from soilbench.load.canonical import canonicalise
from soilbench.quantities import QUANTITIES

log = logging.getLogger(__name__)

ModelSource = str | os.PathLike | Sequence[str | os.PathLike] | Any


def load_model(
    source: ModelSource,
    name: str | None = None,
    period: tuple[int, int] | None = None,
    data_dir: str | os.PathLike | None = None,
    quantities: Iterable[str] | None = None,
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
    quantities
        Canonical quantities to keep (``{"rh"}``); None keeps all. Every quantity is still
        found and converted lazily (so errors and the default land fraction do not depend on
        the selection), but only these stay in the dataset; ``attrs["quantities_available"]``
        lists all the model provides (space-separated).

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
    model = canonicalise(raw, label, display, period=period, metadata=metadata)
    return keep_quantities(model, quantities)


def keep_quantities(model: xr.Dataset, quantities: Iterable[str] | None) -> xr.Dataset:
    """Drop the quantities not asked for; record every quantity the model provides."""
    present = [q for q in QUANTITIES if q in model.data_vars]
    model.attrs["quantities_available"] = " ".join(present)
    if quantities is None:
        return model
    wanted = set(quantities)
    return model.drop_vars([q for q in present if q not in wanted])


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
    """Open and time-decode every file, then combine them into one dataset.

    Files on the same time axis (or pieces of it) are combined by coordinates. When the files
    come at different step frequencies (TRENDY: monthly fluxes beside annual stocks), the
    finest axis becomes the model's ``time`` and each coarser quantity keeps its own values,
    each held over the fine steps its step covers (:func:`soilbench.load.timeaxis.hold_on_axis`),
    so annual and period means of every quantity equal those of its own axis.
    """
    opened = [timeaxis.decode_time(sources.open_netcdf(p), p) for p in paths]
    if len(opened) == 1:
        return opened[0]
    label = ";".join(map(str, paths))
    opened = _on_one_grid(opened, paths, label)
    calendars = {d.attrs.get("calendar") for d in opened if "calendar" in d.attrs}
    if len(calendars) > 1:
        raise SoilbenchError(label, f"files use different calendars {sorted(calendars)}", "time")
    groups = _by_frequency(opened, paths)
    if len(groups) <= 1:
        combined = _combine(opened, label)
    else:
        combined = _combine_frequencies(groups, opened, label)
    if calendars:
        combined.attrs["calendar"] = calendars.pop()
    return combined


#: coordinates closer than this (degrees) are the same grid written with other rounding
GRID_TOLERANCE_DEG = 1.0e-4


def _on_one_grid(opened: list[xr.Dataset], paths: list[Path], label: str) -> list[xr.Dataset]:
    """The files of one model, all on the first file's horizontal grid, or a refusal.

    Combining files on different grids by coordinates would join them onto the union of both
    grids, each variable NaN on the other's cells (rh on a 10° grid beside cSoil on a 5° one
    gave 6.3 instead of 100.2 Pg C yr-1). soilbench does not regrid a model's variables onto
    each other (which grid should win is the user's call): it names both grids and refuses.
    Coordinates equal within :data:`GRID_TOLERANCE_DEG` (float32 against float64, or 0…360
    against −180…180 longitudes) are set to the first file's values, so they do not become
    near-duplicate cells.
    """
    first = None
    out = []
    for ds, path in zip(opened, paths):
        try:
            lat, lon = grid.find_lat_lon(ds, path)
        except SoilbenchError:
            out.append(ds)  # no grid of its own (e.g. a file of scalars): combined as it is
            continue
        if first is None:
            first = (ds, path, lat, lon)
            out.append(ds)
            continue
        ds0, path0, lat0, lon0 = first
        snapped = {}
        for name, name0, wrap in ((lat, lat0, False), (lon, lon0, True)):
            values, values0 = _axis(ds[name], wrap), _axis(ds0[name0], wrap)
            order, order0 = np.argsort(values), np.argsort(values0)
            if values.size != values0.size or not np.allclose(values[order], values0[order0], rtol=0,
                                                              atol=GRID_TOLERANCE_DEG):
                raise SoilbenchError(
                    label, f"is on a {_grid_text(ds, lat, lon)} grid in {path.name}, but "
                    f"'{_main_variable(ds0)}' is on a {_grid_text(ds0, lat0, lon0)} grid in {path0.name}: "
                    "the files of one model must share one grid; regrid them to one grid first "
                    "(conservatively, e.g. cdo remapcon)", _main_variable(ds))
            # the k-th smallest centre takes the first file's k-th smallest (its values and convention)
            target = np.empty_like(values)
            target[order] = np.asarray(ds0[name0].values, dtype=float)[order0]
            if not np.array_equal(target, np.asarray(ds[name].values, dtype=float)):
                snapped[name] = target
        if snapped:
            ds = ds.assign_coords({name: (ds[name].dims, target, ds[name].attrs) for name, target in snapped.items()})
        out.append(ds)
    return out


def _axis(coord: xr.DataArray, wrap: bool) -> np.ndarray:
    values = np.asarray(coord.values, dtype=float)
    return (values + 180.0) % 360.0 - 180.0 if wrap else values


def _grid_text(ds: xr.Dataset, lat: str, lon: str) -> str:
    found = grid.describe_grid(ds, lat, lon)
    return f"{found['nlat']}x{found['nlon']} ({found['dlat']:.4g}° x {found['dlon']:.4g}°)"


def _main_variable(ds: xr.Dataset) -> str:
    """The file's first data variable on its lat-lon grid, not a coordinate's bounds (for messages)."""
    bounds = {str(ds[c].attrs.get("bounds")) for c in ds.variables}
    lat, lon = grid.find_lat_lon(ds)
    on_grid = set(ds[lat].dims) | set(ds[lon].dims)
    names = [str(v) for v in ds.data_vars if str(v) not in bounds and on_grid <= set(ds[v].dims)]
    return names[0] if names else "?"


def _combine(datasets: list[xr.Dataset], label: str) -> xr.Dataset:
    try:
        return xr.combine_by_coords(datasets, data_vars="minimal", coords="minimal", compat="override",
                                    join="outer", combine_attrs="drop_conflicts")
    except (ValueError, TypeError) as err:
        reason = " ".join(str(err).split())[:160]
        raise SoilbenchError(label, f"files cannot be combined into one dataset ({reason})") from None


def _by_frequency(opened: list[xr.Dataset], paths: list[Path]) -> dict[str, list[xr.Dataset]]:
    """Files with a time axis of several steps, grouped by step frequency (daily, monthly, annual).

    Files without time, with one step or with spacings the loader does not recognise are left
    out: they are combined with the finest group as before.
    """
    groups: dict[str, list[xr.Dataset]] = {}
    for ds, path in zip(opened, paths):
        if "time" not in ds.dims or ds.sizes["time"] < 2 or not hasattr(ds["time"].values[0], "calendar"):
            continue  # (a time axis that is not dates is refused by the canonical assembly)
        try:
            frequency = timeaxis.infer_frequency(ds["time"].values, path)
        except SoilbenchError:
            continue
        groups.setdefault(frequency, []).append(ds)
    return groups


def _combine_frequencies(groups: dict[str, list[xr.Dataset]], opened: list[xr.Dataset], label: str) -> xr.Dataset:
    """One dataset on the finest group's time axis, coarser groups held over its steps."""
    finest = min(groups, key=lambda f: timeaxis.NOMINAL_STEP_DAYS[f])
    grouped = {id(ds) for members in groups.values() for ds in members}
    main = _combine(groups[finest] + [ds for ds in opened if id(ds) not in grouped], label)
    parts = [main]
    for frequency, members in groups.items():
        if frequency == finest:
            continue
        coarse = _combine(members, label)
        log.info("%s: %s variables (%s) held over the %s steps of the model's time axis", label, frequency,
                 ", ".join(str(v) for v in coarse.data_vars if "time" in coarse[v].dims), finest)
        parts.append(timeaxis.hold_on_axis(coarse, main["time"], frequency, finest, label))
    return _combine(parts, label)
