"""Where files come from: registry ids → local paths (via soilbench.data), opening NetCDF safely."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import xarray as xr

from soilbench import data
from soilbench.errors import SoilbenchError
from soilbench.load import netcdf3

NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf")


def is_registry_id(text: str) -> bool:
    """True when ``text`` names a dataset of the reference registry."""
    return text in data.registry()


def dataset_path(dataset_id: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Local, sha256-verified path of a registered dataset (:func:`soilbench.data.fetch`)."""
    return Path(data.fetch(dataset_id, data_dir=data_dir))


def netcdf_files(directory: Path) -> list[Path]:
    """NetCDF files directly inside ``directory`` (TRENDY style: one file per variable)."""
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in NETCDF_SUFFIXES)
    if not files:
        raise SoilbenchError(directory, "is a directory without NetCDF files (*.nc)")
    return files


def open_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Open one NetCDF file lazily (dask chunks as stored), times left numeric for decoding.

    Raises
    ------
    SoilbenchError
        When the file is missing, not readable as NetCDF, or a NetCDF3 file shorter than its
        header declares (:mod:`soilbench.load.netcdf3`).
    """
    path = Path(path)
    if not path.exists():
        raise SoilbenchError(path, "does not exist")
    if not path.is_file():
        raise SoilbenchError(path, "is not a file")
    cut = netcdf3.truncation(path)  # the netCDF library reads a cut classic file as fill values
    if cut:
        raise SoilbenchError(path, *cut)
    try:
        with warnings.catch_warnings():
            # e.g. "variable has multiple fill values": xarray masks them all, which is wanted
            warnings.simplefilter("ignore", xr.SerializationWarning)
            return xr.open_dataset(path, chunks={}, decode_times=False, decode_timedelta=False)
    except Exception as err:  # netCDF4/h5netcdf/scipy raise many types for damaged files
        reason = " ".join(str(err).split())[:160] or type(err).__name__
        raise SoilbenchError(path, f"cannot be read as NetCDF ({reason})") from None
