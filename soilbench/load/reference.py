"""``load_reference``: gridded reference products → the same canonical form as models.

Every gridded reference gets its cell area computed on the sphere and ``land_fraction`` = 1
where it has data (0 elsewhere): the products are densities per grid-cell area, and this is
the choice that reproduces their published totals (CARDAMOM ≈ 53.9 Pg C yr-1, HWSD ≈ 1,376 Pg C;
weighting by the 0.5° land-fraction product instead gives 51.5 and 1,225). See docs/loading.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.load import grid, sources, timeaxis, units
from soilbench.load.canonical import assemble, valid_fraction
from soilbench.quantities import QUANTITIES


def _open(dataset_id: str, data_dir) -> tuple[xr.Dataset, str]:
    path = sources.dataset_path(dataset_id, data_dir)
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


def _cardamom(data_dir) -> xr.Dataset:
    raw, path = _open("cardamom-rh", data_dir)
    return _gridded(raw, {"rh": _quantity(raw, "rh", "rh", path)}, path, "cardamom-rh", "2001-2010")


def _soilc(dataset_id: str) -> Callable[[object], xr.Dataset]:
    def load(data_dir) -> xr.Dataset:
        raw, path = _open(dataset_id, data_dir)
        csoil = _quantity(raw, "soilc", "csoil", path)
        csoil.attrs["includes_litter"] = 0
        return _gridded(raw, {"csoil": csoil}, path, dataset_id, None)
    return load


def _hwsd_ncscd(data_dir) -> xr.Dataset:
    """HWSD with NCSCD where NCSCD > 0 (NCSCD is the better product in the permafrost region)."""
    hwsd, ncscd = _soilc("hwsd-soilc")(data_dir), _soilc("ncscd-soilc")(data_dir)
    if not (np.allclose(hwsd.lat, ncscd.lat) and np.allclose(hwsd.lon, ncscd.lon)):
        raise SoilbenchError(ncscd.attrs["source_files"], "is not on the HWSD grid; cannot merge", "soilc")
    merged = xr.where(ncscd["csoil"] > 0, ncscd["csoil"], hwsd["csoil"], keep_attrs=True)
    merged.attrs.update(source="HWSD soilc, replaced by NCSCD soilc where NCSCD > 0", includes_litter=0)
    out = hwsd.copy()
    out["csoil"] = merged
    out["land_fraction"] = (merged.notnull()).astype(float).assign_attrs(hwsd["land_fraction"].attrs)
    out.attrs.update(model="hwsd-ncscd-soilc", reference="hwsd-ncscd-soilc",
                     source_files=f"{hwsd.attrs['source_files']};{ncscd.attrs['source_files']}")
    return out


def _landfrac(data_dir) -> xr.Dataset:
    raw, path = _open("landfrac", data_dir)
    lat, lon = grid.find_lat_lon(raw, path)
    fraction = raw["data"]
    if "time" in fraction.dims:
        fraction = fraction.isel(time=0, drop=True)
    fraction = fraction.clip(0.0, 1.0).fillna(0.0).load()
    fraction.attrs = {"units": "1", "long_name": "land fraction", "source": "data [0-1 from 5-min data]"}
    ds = assemble(raw, lat, lon, {}, grid.grid_cell_area(raw, lat, lon), fraction, path, "landfrac",
                  metadata={"static": True})
    ds.attrs.update(reference="landfrac")
    return ds


_RC_FIELDS = {"RC": ("rc", "root contribution to soil respiration, Rr/Rs"),
              "SD_RC": ("rc_sd", "standard deviation of the root contribution"),
              "Climate_type": ("climate_type", "climate type 1 A, 2 B, 3 Cf, 4 Cs, 5 Cw, 6 Df, 7 Dsw, 8 E")}


def _root_contribution(data_dir) -> xr.Dataset:
    """RC map: dims ordered (lon, lat) and coordinates in variables ``latitude``/``longitude``."""
    raw, path = _open("root-contribution", data_dir)
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
    return _gridded(raw, fields, path, "root-contribution", None)


_LOADERS: dict[str, Callable[[object], xr.Dataset]] = {
    "cardamom-rh": _cardamom,
    "hwsd-soilc": _soilc("hwsd-soilc"),
    "ncscd-soilc": _soilc("ncscd-soilc"),
    "hwsd-ncscd-soilc": _hwsd_ncscd,
    "landfrac": _landfrac,
    "root-contribution": _root_contribution,
}
#: gridded references :func:`load_reference` understands
REFERENCE_IDS = tuple(_LOADERS)


def load_reference(dataset_id: str, data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Load a gridded reference product into the canonical dataset.

    Parameters
    ----------
    dataset_id
        One of :data:`REFERENCE_IDS`: ``cardamom-rh`` (rh, 2001–2010 climatology),
        ``hwsd-soilc``, ``ncscd-soilc``, ``hwsd-ncscd-soilc`` (csoil), ``landfrac``
        (``land_fraction`` only), ``root-contribution`` (``rc``, ``rc_sd``, ``climate_type``).
    data_dir
        Data directory holding the registered files (default: see
        :func:`soilbench.load.sources.dataset_path`).
    """
    loader = _LOADERS.get(dataset_id)
    if loader is None:
        raise SoilbenchError(None, f"unknown gridded reference '{dataset_id}' (known: {', '.join(REFERENCE_IDS)})")
    return loader(data_dir)
