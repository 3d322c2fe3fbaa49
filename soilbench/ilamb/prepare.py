"""Lay out an ILAMB_ROOT for soilbench's ILAMB confrontations (``soilbench ilamb prepare``).

ILAMB expects reference data as netCDF under ``ILAMB_ROOT/DATA`` (time axis in days since 1850
with bounds, CF units) and each model as a directory ``MODELS/<name>/`` of netCDF files with CMOR
variable names. This module writes, from soilbench's registered (sha256-checked) data:

``DATA/soilbench/files/…``
    a copy of every registry file, so the soilbench confrontations inside ``ilamb-run`` read
    exactly the data a native ``soilbench run`` reads (the cfg's ``soilbench_data_dir``);
``DATA/soilbench/<quantity>/<product>/<var>.nc``
    the gridded references in ILAMB's conventions (``rh`` in kg m-2 s-1, ``cSoil`` in kg m-2);
``DATA/soilbench/sites/<database>/<var>.nc``
    the filtered site records on ILAMB's ``data`` dimension;
``MODELS/<name>/{rh,npp,cSoil,cLitter,cVeg,areacella,sftlf}.nc``
    the testbed models (one-period means) in CMOR names and units, with a time step whose bounds
    span the period (so ILAMB and soilbench both read it as, e.g., a 2000–2010 mean).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import __version__, atomic
from soilbench.errors import SoilbenchError

log = logging.getLogger(__name__)

FILES_DIR = Path("DATA", "soilbench", "files")
FILL = 1.0e20
TIME_UNITS = "days since 1850-01-01"
CALENDAR = "noleap"
DAYS_PER_NOLEAP_YEAR = 365

#: canonical quantity → (CMOR variable, CMOR units, long name)
CMOR: dict[str, tuple[str, str, str]] = {
    "rh": ("rh", "kg m-2 s-1", "Total Heterotrophic Respiration on Land as Carbon Mass Flux"),
    "npp": ("npp", "kg m-2 s-1", "Net Primary Production on Land as Carbon Mass Flux"),
    "ra_root": ("raRoot", "kg m-2 s-1", "Root Autotrophic Respiration as Carbon Mass Flux"),
    "cveg": ("cVeg", "kg m-2", "Carbon Mass in Vegetation"),
    "csoil": ("cSoil", "kg m-2", "Carbon Mass in Model Soil Pool"),
    "clitter": ("cLitter", "kg m-2", "Carbon Mass in Litter Pool"),
}
#: gridded registry reference → file under DATA (the ILAMB cfg's ``source``)
GRIDDED_REFERENCES: dict[str, str] = {
    "cardamom-rh": "soilbench/rh/CARDAMOM/rh.nc",
    "hwsd-ncscd-soilc": "soilbench/cSoil/HWSD_NCSCD/cSoil.nc",
}
#: site databases → file under DATA
SITE_REFERENCES: dict[str, str] = {
    "srdb-v5-data": "soilbench/sites/SRDB/rh_annual.nc",
    "mgrhd": "soilbench/sites/MGRhD/rh_daily.nc",
}
#: ILAMB model name → registered model
DEFAULT_MODELS: dict[str, str] = {"CASA-CNP": "testbed-casacnp", "MIMICS": "testbed-mimics"}


@dataclass
class Prepared:
    """What :func:`prepare` wrote, relative to the root."""

    root: Path
    files: list[Path] = field(default_factory=list)
    references: list[Path] = field(default_factory=list)
    models: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# -- helpers ---------------------------------------------------------------------------------------
def _factor(from_units: str, to_units: str) -> float:
    from soilbench.load.units import factor

    return factor(from_units, to_units)


def _global_attrs(dataset_id: str, what: str) -> dict[str, str]:
    """ILAMB's data page shows these (title, source, references, history first)."""
    from soilbench.data import registry

    entry = registry().get(dataset_id, {})
    return {
        "title": what,
        "source": str(entry.get("url", dataset_id)),
        "references": str(entry.get("citation", "")),
        "history": f"converted by soilbench {__version__} (soilbench ilamb prepare) from registry id "
                   f"{dataset_id}, sha256 {entry.get('sha256', 'unknown')}",
        "licence": str(entry.get("licence", "")),
        "Conventions": "CF-1.8",
    }


def _bounds(centres: np.ndarray, limit: float) -> np.ndarray:
    from soilbench.load.grid import cell_bounds

    edges = np.asarray(cell_bounds(np.asarray(centres, dtype=float), limit), dtype=float)
    return np.column_stack([edges[:-1], edges[1:]])  # CF bounds: (n, 2)


def _grid_coords(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    lat, lon = ds["lat"].values, ds["lon"].values
    return {
        "lat": xr.DataArray(lat, dims="lat", attrs={"units": "degrees_north", "standard_name": "latitude",
                                                    "axis": "Y", "bounds": "lat_bnds"}),
        "lon": xr.DataArray(lon, dims="lon", attrs={"units": "degrees_east", "standard_name": "longitude",
                                                    "axis": "X", "bounds": "lon_bnds"}),
        "lat_bnds": xr.DataArray(_bounds(lat, 90.0), dims=("lat", "nb"), attrs={"units": "degrees_north"}),
        "lon_bnds": xr.DataArray(_bounds(lon, None), dims=("lon", "nb"), attrs={"units": "degrees_east"}),
    }


def period_years(ds: xr.Dataset) -> tuple[int, int]:
    """Years of a one-period mean from ``attrs["period"]`` (``"2000-2010"``)."""
    text = str(ds.attrs.get("period", ""))
    try:
        first, last = (int(part) for part in text.split("-"))
    except ValueError:
        raise SoilbenchError(ds.attrs.get("source_files"), f"period {text!r} is not 'YYYY-YYYY'", "period") from None
    return first, last


def _time_axis(first: int, last: int) -> dict[str, xr.DataArray]:
    """One step spanning whole years ``first``–``last`` (noleap days since 1850, with bounds)."""
    bounds = np.array([[(first - 1850) * DAYS_PER_NOLEAP_YEAR, (last + 1 - 1850) * DAYS_PER_NOLEAP_YEAR]], float)
    return {
        "time": xr.DataArray(bounds.mean(axis=1), dims="time", attrs={
            "units": TIME_UNITS, "calendar": CALENDAR, "bounds": "time_bnds", "axis": "T", "standard_name": "time"}),
        "time_bnds": xr.DataArray(bounds, dims=("time", "nb"), attrs={"units": TIME_UNITS, "calendar": CALENDAR}),
    }


def _to_netcdf(ds: xr.Dataset, path: Path) -> Path:
    encoding = {}
    for name, var in ds.variables.items():
        if name.endswith("_bnds") or name in ds.dims:
            encoding[name] = {"_FillValue": None}
        elif np.issubdtype(var.dtype, np.floating):
            encoding[name] = {"_FillValue": FILL, "dtype": "float64"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(path) as tmp:
        ds.to_netcdf(tmp, encoding=encoding, format="NETCDF4")
    return path


def _gridded_variable(canonical: xr.DataArray, quantity: str, values: xr.DataArray | None = None) -> xr.DataArray:
    name, units, long_name = CMOR[quantity]
    data = canonical if values is None else values
    converted = data.astype("float64") * _factor(canonical.attrs["units"], units)
    return xr.DataArray(converted.transpose("lat", "lon").values, dims=("lat", "lon"),
                        attrs={"units": units, "long_name": long_name})


# -- references ------------------------------------------------------------------------------------
def write_gridded_reference(dataset_id: str, path: Path, data_dir=None) -> Path:
    """A gridded reference (rh or csoil) as an ILAMB reference file."""
    from soilbench.load import load_reference

    ref = load_reference(dataset_id, data_dir).load()
    quantity = next(q for q in ("rh", "csoil") if q in ref.data_vars)
    name = CMOR[quantity][0]
    variable = _gridded_variable(ref[quantity], quantity)
    coords = _grid_coords(ref)
    if ref.attrs.get("period") and ref.attrs.get("period") != "static" and "-" in str(ref.attrs["period"]):
        coords.update(_time_axis(*period_years(ref)))
        variable = variable.expand_dims(time=1)
    out = xr.Dataset({name: variable, **{k: v for k, v in coords.items() if k.endswith("_bnds")}},
                     coords={k: v for k, v in coords.items() if not k.endswith("_bnds")},
                     attrs=_global_attrs(dataset_id, f"{dataset_id}: {variable.attrs['long_name']}"))
    return _to_netcdf(out, path)


def _site_dataset(records: pd.DataFrame, value: np.ndarray, units: str, extra: dict[str, str]) -> dict:
    n = len(records)
    out = {
        "lat": xr.DataArray(records["lat"].to_numpy(float), dims="data", attrs={"units": "degrees_north"}),
        "lon": xr.DataArray(records["lon"].to_numpy(float), dims="data", attrs={"units": "degrees_east"}),
        "rh": xr.DataArray(value, dims="data", attrs={"units": units, "long_name": CMOR["rh"][2]}),
    }
    for column, long_name in extra.items():
        out[column] = xr.DataArray(pd.to_numeric(records[column], errors="coerce").to_numpy(float), dims="data",
                                   attrs={"long_name": long_name})
    assert all(v.sizes["data"] == n for v in out.values())
    return out


def write_srdb(path: Path, data_dir=None) -> Path:
    """SRDB annual heterotrophic respiration after soilbench's filters, one value per record."""
    from soilbench.data import fetch
    from soilbench.load.sites import load_srdb_annual

    sites = load_srdb_annual(fetch("srdb-v5-data", data_dir=data_dir), "rh")
    records = sites.records
    value = records["observed"].to_numpy(float) * _factor("g m-2 yr-1", "kg m-2 s-1")
    variables = _site_dataset(records, value, "kg m-2 s-1",
                              {"year_start": "first year of the record", "year_end": "last year of the record"})
    attrs = _global_attrs("srdb-v5-data", "SRDB V5 annual heterotrophic respiration (soilbench filters)")
    return _to_netcdf(xr.Dataset(variables, attrs=attrs), path)


def write_mgrhd(path: Path, data_dir=None) -> Path:
    """MGRhD daily heterotrophic respiration after soilbench's filters, one value per measurement."""
    from soilbench.data import fetch
    from soilbench.load.sites import load_mgrhd

    records = load_mgrhd(fetch("mgrhd", data_dir=data_dir)).records
    value = records["observed"].to_numpy(float) * _factor("g m-2 day-1", "kg m-2 s-1")
    variables = _site_dataset(records, value, "kg m-2 s-1", {"year": "year", "doy": "day of year"})
    attrs = _global_attrs("mgrhd", "MGRhD daily heterotrophic respiration (soilbench filters)")
    return _to_netcdf(xr.Dataset(variables, attrs=attrs), path)


# -- models ----------------------------------------------------------------------------------------
def cmor_variables(model: xr.Dataset) -> dict[str, xr.DataArray]:
    """CMOR variables of a canonical one-period-mean model: fluxes in kg m-2 s-1, pools in kg m-2.

    soilbench's ``csoil`` includes litter when the model has it; CMOR's ``cSoil`` does not, so it
    is split into ``cSoil = csoil - clitter`` and ``cLitter`` (soilbench's loader sums them back).
    """
    out: dict[str, xr.DataArray] = {}
    for quantity in ("rh", "npp", "ra_root", "cveg"):
        if quantity in model.data_vars:
            out[CMOR[quantity][0]] = _gridded_variable(model[quantity], quantity)
    if "csoil" in model.data_vars:
        csoil = model["csoil"]
        if csoil.attrs.get("includes_litter") and "clitter" in model.data_vars:
            litter = model["clitter"] * _factor(model["clitter"].attrs["units"], csoil.attrs["units"])
            out["cSoil"] = _gridded_variable(csoil, "csoil", csoil - litter)
            out["cLitter"] = _gridded_variable(model["clitter"], "clitter")
        else:
            out["cSoil"] = _gridded_variable(csoil, "csoil")
    return out


def write_model(model: xr.Dataset, directory: Path) -> list[Path]:
    """A canonical one-period-mean model as CMOR files, one variable per file, plus grid files."""
    if "time" in model.dims:
        raise SoilbenchError(model.attrs.get("source_files"), "has a time axis; ILAMB reads such output "
                                                             "directly (put its files under MODELS/<name>/)")
    coords = _grid_coords(model)
    time = _time_axis(*period_years(model))
    name = str(model.attrs.get("model", directory.name))
    attrs = {"source_id": directory.name, "title": f"{name} in CMOR names (soilbench ilamb prepare)",
             "history": f"converted by soilbench {__version__} from "
                        f"{';'.join(Path(f).name for f in str(model.attrs.get('source_files', name)).split(';'))}",
             "Conventions": "CF-1.8"}
    grid = {k: v for k, v in coords.items() if not k.endswith("_bnds")}
    grid_bounds = {k: v for k, v in coords.items() if k.endswith("_bnds")}
    written = []
    for variable, values in cmor_variables(model).items():
        ds = xr.Dataset({variable: values.expand_dims(time=1), "time_bnds": time["time_bnds"], **grid_bounds},
                        coords={"time": time["time"], **grid}, attrs=attrs)
        written.append(_to_netcdf(ds, directory / f"{variable}.nc"))
    area = xr.DataArray(model["cell_area"].transpose("lat", "lon").values.astype(float), dims=("lat", "lon"),
                        attrs={"units": "m2", "standard_name": "cell_area"})
    fraction = xr.DataArray(100.0 * model["land_fraction"].transpose("lat", "lon").values.astype(float),
                            dims=("lat", "lon"), attrs={"units": "%", "standard_name": "land_area_fraction"})
    for variable, values in (("areacella", area), ("sftlf", fraction)):
        ds = xr.Dataset({variable: values, **grid_bounds}, coords=grid, attrs=attrs)
        written.append(_to_netcdf(ds, directory / f"{variable}.nc"))
    return written


# -- everything --------------------------------------------------------------------------------------
def copy_registry_files(root: Path, data_dir=None) -> tuple[list[Path], list[str]]:
    """Copy every available registry file (sha256-checked by :func:`soilbench.data.fetch`).

    Returns the files written and the ids that are not available (neither in the data
    directory nor downloadable now): those are reported, not fatal, because most confrontations
    need only some of the registry; one that needs a missing file says so when ILAMB runs it.
    """
    from soilbench.data import fetch, registry
    from soilbench.errors import DataNotAvailable

    written, missing = [], []
    for dataset_id, entry in registry().items():
        try:
            source = Path(fetch(dataset_id, data_dir=data_dir))
        except DataNotAvailable as err:
            log.warning("soilbench ilamb prepare: %s", err.one_line())
            missing.append(dataset_id)
            continue
        target = root / FILES_DIR / entry["file"]
        if target.exists() and target.stat().st_size == source.stat().st_size:
            continue  # fetch() checks the content when the ILAMB run reads it
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
        written.append(target)
    return written, missing


def prepare(root: str | Path, data_dir=None, models: dict[str, str] | None = None,
            cfg: str | Path | None = None) -> Prepared:
    """Write the ILAMB_ROOT layout described in the module docstring; returns what was written.

    ``models`` maps ILAMB model names to registered models (default: the two testbed models;
    an empty mapping writes none). ``cfg``, when given, is copied to the root.
    """
    root = Path(root)
    done = Prepared(root)
    done.files, done.missing = copy_registry_files(root, data_dir)
    for dataset_id, relative in GRIDDED_REFERENCES.items():
        done.references.append(write_gridded_reference(dataset_id, root / "DATA" / relative, data_dir))
    done.references.append(write_srdb(root / "DATA" / SITE_REFERENCES["srdb-v5-data"], data_dir))
    done.references.append(write_mgrhd(root / "DATA" / SITE_REFERENCES["mgrhd"], data_dir))
    from soilbench.load import load_model

    for name, model_id in (DEFAULT_MODELS if models is None else models).items():
        model = load_model(model_id, name=name, data_dir=data_dir).load()
        done.models += write_model(model, root / "MODELS" / name)
    if cfg is not None:
        target = root / Path(cfg).name
        shutil.copyfile(cfg, target)
        done.references.append(target)
    return done
