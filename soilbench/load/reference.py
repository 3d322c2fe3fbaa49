"""``load_reference``: gridded reference products → the same canonical form as models.

Every gridded reference gets its cell area computed on the sphere and ``land_fraction`` = 1
where it has data (0 elsewhere): the products are densities per grid-cell area, and this is
the choice that reproduces their published totals (CARDAMOM ≈ 53.9 Pg C yr-1, HWSD ≈ 1,376 Pg C;
weighting by the 0.5° land-fraction product instead gives 51.5 and 1,225). See docs/loading.md.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from soilbench.catalogs import REFERENCE_LOADERS, CatalogEntry
from soilbench.errors import SoilbenchError
from soilbench.load import grid, sources, timeaxis, units
from soilbench.load.canonical import assemble, valid_fraction
from soilbench.quantities import QUANTITIES


def _open(entry: CatalogEntry, data_dir) -> tuple[xr.Dataset, str]:
    path = entry.paths(data_dir)[0]  # a registered file is fetched and its sha256 verified
    return timeaxis.decode_time(sources.open_netcdf(path), path), str(path)


def _gridded(raw: xr.Dataset, fields: dict[str, xr.DataArray], path: str, dataset_id: str,
             period: str | None) -> xr.Dataset:
    lat, lon = grid.find_lat_lon(raw, path)
    cell_area = grid.grid_cell_area(raw, lat, lon)
    fraction = valid_fraction(fields, "1 where the product has data (densities per grid-cell area)")
    metadata = {"period": period} if period else {"static": True}
    ds = assemble(raw, lat, lon, fields, cell_area, fraction, path, dataset_id, metadata=metadata)
    ds.attrs["reference"] = dataset_id
    return ds


def _quantity(raw: xr.Dataset, variable: str, quantity: str, path: str) -> xr.DataArray:
    if variable not in raw.data_vars:
        found = ", ".join(sorted(map(str, raw.data_vars)))
        raise SoilbenchError(path, f"is missing (found: {found})", variable)
    da = units.to_canonical(raw[variable], quantity, path, variable)
    qty = QUANTITIES[quantity]
    da.attrs.update(long_name=qty.long_name, source=f"{variable} [{raw[variable].attrs.get('units')}]")
    return da.rename(quantity)


def _reference_quantities(entry: CatalogEntry) -> dict[str, str]:
    """The entry's ``quantities`` (canonical quantity → file variable); a gridded entry needs one."""
    quantities = entry.metadata.get("quantities") or {}
    if not quantities or not all(isinstance(v, str) for v in quantities.values()):
        raise SoilbenchError(entry.where, "a gridded reference needs metadata 'quantities' mapping each canonical "
                             f"quantity to one variable of the file, got {quantities!r}")
    return dict(quantities)


def _read_gridded(entry: CatalogEntry, data_dir) -> xr.Dataset:
    """Quantities of a gridded product: ``metadata.quantities`` names the variables, the
    optional ``metadata.period`` the years a one-period mean represents."""
    raw, path = _open(entry, data_dir)
    fields = {}
    for quantity, variable in _reference_quantities(entry).items():
        fields[quantity] = _quantity(raw, variable, quantity, path)
        if quantity == "csoil":
            fields[quantity].attrs["includes_litter"] = 0  # the soil carbon products are soil only
    return _gridded(raw, fields, path, entry.id, entry.metadata.get("period"))


def _read_merged(entry: CatalogEntry, data_dir) -> xr.Dataset:
    """The first entry of ``metadata.combines``, replaced by the second where the second > 0
    (HWSD with NCSCD: NCSCD is the better product in the permafrost region)."""
    parts = entry.metadata.get("combines") or []
    if len(parts) != 2:
        raise SoilbenchError(entry.where, f"metadata combines must name two gridded entries, got {parts!r}")
    base, patch = (load_reference(part, data_dir) for part in parts)
    common = [q for q in base.data_vars if q in QUANTITIES and q in patch.data_vars]
    if len(common) != 1:
        raise SoilbenchError(entry.where, f"{parts[0]} and {parts[1]} must share one quantity, share {common}")
    quantity = common[0]
    if not (np.allclose(base.lat, patch.lat) and np.allclose(base.lon, patch.lon)):
        raise SoilbenchError(patch.attrs["source_files"], f"is not on the grid of {parts[0]}; cannot merge", quantity)
    merged = xr.where(patch[quantity] > 0, patch[quantity], base[quantity], keep_attrs=True)
    merged.attrs.update(source=f"{base[quantity].attrs.get('source', parts[0])} of {parts[0]}, replaced by "
                               f"{parts[1]} where {parts[1]} > 0")
    out = base.copy()
    out[quantity] = merged
    out["land_fraction"] = (merged.notnull()).astype(float).assign_attrs(base["land_fraction"].attrs)
    out.attrs.update(model=entry.id, reference=entry.id,
                     source_files=f"{base.attrs['source_files']};{patch.attrs['source_files']}")
    return out


def _read_land_fraction(entry: CatalogEntry, data_dir) -> xr.Dataset:
    """A land-fraction map (0–1): the one variable of ``metadata.variables``."""
    raw, path = _open(entry, data_dir)
    variables = list(entry.metadata.get("variables") or {})
    if len(variables) != 1:
        raise SoilbenchError(entry.where, f"a land-fraction entry names one variable, got {variables}")
    variable = variables[0]
    if variable not in raw.data_vars:
        raise SoilbenchError(path, f"is missing (found: {', '.join(sorted(map(str, raw.data_vars)))})", variable)
    lat, lon = grid.find_lat_lon(raw, path)
    fraction = raw[variable]
    if "time" in fraction.dims:
        fraction = fraction.isel(time=0, drop=True)
    fraction = fraction.clip(0.0, 1.0).fillna(0.0).load()
    fraction.attrs = {"units": "1", "long_name": "land fraction", "source": f"{variable} [0-1 from 5-min data]"}
    ds = assemble(raw, lat, lon, {}, grid.grid_cell_area(raw, lat, lon), fraction, path, entry.id,
                  metadata={"static": True})
    ds.attrs.update(reference=entry.id)
    return ds


_RC_FIELDS = {"RC": ("rc", "root contribution to soil respiration, Rr/Rs"),
              "SD_RC": ("rc_sd", "standard deviation of the root contribution"),
              "Climate_type": ("climate_type", "climate type 1 A, 2 B, 3 Cf, 4 Cs, 5 Cw, 6 Df, 7 Dsw, 8 E")}


_RC_CLIMATE_FIELDS = {"MAT": ("mat", "degC", "mean annual air temperature"),
                      "MAP": ("map", "mm yr-1", "mean annual precipitation")}
#: the unit spellings accepted for them (after "°" → "deg" and without spaces)
_RC_CLIMATE_UNITS = {"mat": ("degC", "degreesC", "degrees_C", "C"), "map": ("mm", "mmyr-1", "mm/yr", "mm yr-1")}


def _read_root_contribution(entry: CatalogEntry, data_dir) -> xr.Dataset:
    """RC map: dims ordered (lon, lat) and coordinates in variables ``latitude``/``longitude``."""
    raw, path = _open(entry, data_dir)
    for var, dim, std, unit in (("latitude", "lat", "latitude", "degrees_north"),
                                ("longitude", "lon", "longitude", "degrees_east")):
        if var not in raw.variables:
            raise SoilbenchError(path, "is missing", var)
        raw = raw.assign_coords({dim: (dim, np.asarray(raw[var].values, dtype=float),
                                       {"standard_name": std, "units": unit})}).drop_vars(var)
    fields = {}
    for variable, (name, long_name) in _RC_FIELDS.items():
        if variable not in raw.data_vars:
            raise SoilbenchError(path, "is missing", variable)
        fields[name] = raw[variable].transpose("lat", "lon").assign_attrs(
            units="1", long_name=long_name, source=variable).rename(name)
    # the climate the product was built on, when the file has it: a gridded observed climatology
    # (the turnover confrontation bins τ on its MAT); the file states its units as "Unit"
    for variable, (name, unit, long_name) in _RC_CLIMATE_FIELDS.items():
        if variable in raw.data_vars:
            stated = str(raw[variable].attrs.get("units", raw[variable].attrs.get("Unit", unit)))
            if stated.replace("°", "deg").replace(" ", "") not in _RC_CLIMATE_UNITS[name]:
                raise SoilbenchError(path, f"has units {stated!r}; expected {unit}", variable)
            fields[name] = raw[variable].transpose("lat", "lon").assign_attrs(
                units=unit, long_name=long_name, source=f"{variable} [{stated}]").rename(name)
    return _gridded(raw, fields, path, entry.id, None)


#: the loaders a catalog entry may name in ``metadata.loader`` to be read by :func:`load_reference`
GRIDDED_LOADERS: dict[str, Callable[[CatalogEntry, object], xr.Dataset]] = {
    "gridded": _read_gridded,
    "merge_where_positive": _read_merged,
    "land_fraction": _read_land_fraction,
    "root_contribution": _read_root_contribution,
}
#: every value ``metadata.loader`` may take (catalogs are untrusted: an allowlist, never a name to
#: import, checked when a catalog is opened)
LOADERS = REFERENCE_LOADERS
#: loaders of tables, run by the confrontation types that read them (``soilbench.load.series``,
#: ``soilbench.load.sites``): a catalog entry names one so that a definition can be checked
TABLE_LOADERS = tuple(name for name in LOADERS if name not in GRIDDED_LOADERS)


def _file_state(path: Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return str(path), -1, -1
    return str(path), stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=4)
def _entries_of(state: tuple) -> dict[str, CatalogEntry]:
    from soilbench.catalogs import all_entries

    return {i: e for i, e in all_entries().items() if e.kind != "model"}


def reference_entries() -> dict[str, CatalogEntry]:
    """The reference (non-model) entries of the default catalogs, by id.

    Validating every catalog takes a noticeable fraction of a second, and a run asks for entries
    once per reference; the result is kept while the catalog files and the registry in use
    (a synthetic world's or the project's) are unchanged.
    """
    from soilbench import data
    from soilbench.catalogs import default_catalog_paths

    registry = data.synthetic_registry() or data.REGISTRY_PATH
    state = (tuple(_file_state(p) for p in default_catalog_paths()), _file_state(Path(registry)))
    return _entries_of(state)


def reference_loader(dataset_id: str) -> str | None:
    """The loader a catalog entry declares for ``dataset_id``; None when no entry declares one."""
    entry = reference_entries().get(dataset_id)
    return None if entry is None else entry.metadata.get("loader")


def gridded_reference_ids() -> tuple[str, ...]:
    """Ids of the catalog entries :func:`load_reference` reads (a gridded loader)."""
    return tuple(i for i, e in reference_entries().items() if e.metadata.get("loader") in GRIDDED_LOADERS)


def __getattr__(name: str):
    if name == "REFERENCE_IDS":  # read from the catalogs when asked, not when soilbench.load is imported
        return gridded_reference_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_reference(dataset_id: str, data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Load a gridded reference product into the canonical dataset.

    Parameters
    ----------
    dataset_id
        A catalog entry whose ``metadata.loader`` is one of :data:`GRIDDED_LOADERS`: e.g.
        ``cardamom-rh`` (rh, 2001–2010 climatology), ``hwsd-soilc``, ``ncscd-soilc``,
        ``hwsd-ncscd-soilc`` (csoil), ``landfrac`` (``land_fraction`` only),
        ``root-contribution`` (``rc``, ``rc_sd``, ``climate_type``).
    data_dir
        Data directory holding the registered files (default: see
        :func:`soilbench.load.sources.dataset_path`).
    """
    entry = reference_entries().get(dataset_id)
    loader = None if entry is None else entry.metadata.get("loader")
    if loader not in GRIDDED_LOADERS:
        known = ", ".join(gridded_reference_ids())
        raise SoilbenchError(None, f"'{dataset_id}' is not a gridded reference: no catalog entry with a gridded "
                             f"loader ({', '.join(GRIDDED_LOADERS)}); gridded references: {known}")
    return GRIDDED_LOADERS[loader](entry, data_dir)
