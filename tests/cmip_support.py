"""Small CMIP6-style datasets for the campaign tests: one file per variable, DRS paths and attributes.

:func:`write_cmip6` splits a synthetic-world model file (every variable of one model on a
monthly 2001–2010 axis) into the files an ESGF node serves: ``<root>/CMIP6/CMIP/<institution>/
<source_id>/<experiment_id>/<member_id>/<table_id>/<variable_id>/<grid_label>/<version>/
<variable_id>_<table_id>_<source_id>_<experiment_id>_<member_id>_<grid_label>[_<range>].nc``, each
with the CMIP6 global attributes tools read (``source_id``, ``member_id``, ``experiment_id``,
``variable_id``, ``table_id``, ``grid_label``, ...). :func:`write_esm_collection` writes the
intake-esm collection (JSON + CSV) that pangeo and ESGF mirrors publish for such a tree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import xarray as xr

#: variable → CMIP6 table
TABLES = {"rh": "Lmon", "npp": "Lmon", "cSoil": "Emon", "cVeg": "Lmon", "raRoot": "Emon",
          "areacella": "fx", "sftlf": "fx"}
VERSION = "v20190308"


def write_cmip6(model_file: str | Path, root: str | Path, source_id: str, member_id: str = "r1i1p1f1",
                experiment_id: str = "historical", variables: tuple[str, ...] = tuple(TABLES),
                branded: bool = False, split_years: int | None = None) -> list[Path]:
    """Write ``variables`` of ``model_file`` as CMIP6 files under ``root``; return their paths.

    ``split_years`` cuts each time-varying variable into files of that many years (time pieces
    of one dataset). ``branded`` names each variable as CMIP7 does in files converted with its
    branding suffix (``rh_tavg-u-hxy-lnd``).
    """
    source = xr.load_dataset(model_file, decode_times=False)
    written = []
    for variable in variables:
        table = TABLES[variable]
        directory = (Path(root) / "CMIP6" / "CMIP" / "SOILBENCH" / source_id / experiment_id / member_id / table
                     / variable / "gn" / VERSION)
        directory.mkdir(parents=True, exist_ok=True)
        keep = [variable] + (["time_bnds"] if "time" in source[variable].dims else [])
        ds = source[keep]
        attrs = {
            "Conventions": "CF-1.7 CMIP-6.2", "mip_era": "CMIP6", "activity_id": "CMIP",
            "institution_id": "SOILBENCH", "source_id": source_id, "experiment_id": experiment_id,
            "member_id": member_id, "variant_label": member_id, "sub_experiment_id": "none",
            "table_id": table, "variable_id": variable, "grid_label": "gn", "grid": "synthetic 4x5 degree grid",
            "nominal_resolution": "500 km", "frequency": "fx" if table == "fx" else "mon",
            "realm": "land", "product": "model-output", "source_type": "LAND BGC",
            "parent_experiment_id": "piControl", "branch_method": "standard", "branch_time_in_child": 0.0,
            "branch_time_in_parent": 0.0, "further_info_url": f"https://furtherinfo.es-doc.org/CMIP6.{source_id}",
            "tracking_id": f"hdl:21.14100/{source_id}-{member_id}-{variable}", "license": "CC BY 4.0",
            "creation_date": "2019-03-08T00:00:00Z", "title": f"{source_id} output (soilbench test data)",
        }
        ds.attrs = attrs
        ds[variable].attrs.setdefault("long_name", variable)
        name = f"{variable}_tavg-u-hxy-lnd" if branded else variable
        if branded:
            ds = ds.rename({variable: name})
        stem = f"{variable}_{table}_{source_id}_{experiment_id}_{member_id}_gn"
        if "time" not in source[variable].dims:
            written.append(_write(ds, directory / f"{stem}.nc"))
            continue
        years = 10 if split_years is None else split_years
        for first in range(0, ds.sizes["time"], 12 * years):
            piece = ds.isel(time=slice(first, first + 12 * years))
            y0, y1 = 2001 + first // 12, 2001 + (first + piece.sizes["time"]) // 12 - 1
            written.append(_write(piece, directory / f"{stem}_{y0}01-{y1}12.nc"))
    return written


def _write(ds: xr.Dataset, path: Path) -> Path:
    ds.to_netcdf(path)
    return path


def write_esm_collection(root: str | Path, files: list[Path], name: str = "cmip6-test") -> Path:
    """An intake-esm collection (``<name>.json`` + ``<name>.csv``) of ``files``, as pangeo and ESGF
    mirrors publish them for CMIP6: one row per file, DRS facets as columns, ``path`` the file."""
    root = Path(root)
    rows = []
    for path in files:
        attrs = xr.open_dataset(path, decode_times=False).attrs
        rows.append({
            "activity_id": attrs["activity_id"], "institution_id": attrs["institution_id"],
            "source_id": attrs["source_id"], "experiment_id": attrs["experiment_id"],
            "member_id": attrs["member_id"], "table_id": attrs["table_id"], "variable_id": attrs["variable_id"],
            "grid_label": attrs["grid_label"], "version": VERSION, "path": str(path),
        })
    pd.DataFrame(rows).to_csv(root / f"{name}.csv", index=False)
    collection = {
        "esmcat_version": "0.1.0",
        "id": name,
        "description": "CMIP6-style test collection",
        "catalog_file": f"{name}.csv",
        "attributes": [{"column_name": c, "vocabulary": ""} for c in
                       ("activity_id", "institution_id", "source_id", "experiment_id", "member_id",
                        "table_id", "variable_id", "grid_label", "version")],
        "assets": {"column_name": "path", "format": "netcdf"},
        "aggregation_control": {
            "variable_column_name": "variable_id",
            "groupby_attrs": ["activity_id", "institution_id", "source_id", "experiment_id", "table_id", "grid_label"],
            "aggregations": [
                {"type": "union", "attribute_name": "variable_id"},
                {"type": "join_existing", "attribute_name": "time_range", "options": {"dim": "time"}},
                {"type": "join_new", "attribute_name": "member_id", "options": {"coords": "minimal"}},
            ],
        },
    }
    path = root / f"{name}.json"
    path.write_text(json.dumps(collection, indent=1))
    return path
