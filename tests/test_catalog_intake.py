"""``catalog add-model`` entries read by plain intake; model files outside the data and catalog folders."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from fixtures_gen import make_rh
from soilbench import catalogs
from soilbench.errors import SoilbenchError, UnsafeCatalog

intake = pytest.importorskip("intake")


def _pieces(directory, fmt="NETCDF4"):
    directory.mkdir(parents=True, exist_ok=True)
    ds = make_rh(n_years=2)
    paths = []
    for i, year in enumerate((2001, 2002)):
        path = directory / f"rh_Lmon_X_historical_r1i1p1f1_gn_{year}01-{year}12.nc"
        ds.isel(time=slice(12 * i, 12 * i + 12)).to_netcdf(path, format=fmt)
        paths.append(path)
    return paths


@pytest.mark.parametrize("fmt", ["NETCDF4", "NETCDF3_64BIT"])
def test_plain_intake_reads_a_glob_entry(tmp_path, fmt):
    _pieces(tmp_path / "cmip6", fmt)
    catalog = tmp_path / "cmip6" / "models.yaml"
    entry = catalogs.add_model("X", [tmp_path / "cmip6" / "rh_Lmon_*.nc"], catalog, format="cmip6")
    ours = entry.read()
    theirs = intake.from_yaml_file(str(catalog))["X"].read()  # the netcdf4 engine failed here on a glob
    assert theirs.sizes["time"] == ours.sizes["time"] == 24
    np.testing.assert_array_equal(theirs["rh"].values, ours["rh"].values)
    written = yaml.safe_load(catalog.read_text())
    assert written["entries"]["X"]["kwargs"]["engine"] == ("h5netcdf" if fmt == "NETCDF4" else "scipy")


def test_files_outside_the_data_and_catalog_folders_via_soilbench_model_dirs(tmp_path, monkeypatch):
    outside = tmp_path / "archive" / "CESM2"
    _pieces(outside)
    catalog = tmp_path / "catalogs" / "models.yaml"
    monkeypatch.delenv(catalogs.MODEL_DIRS_ENV, raising=False)
    with pytest.raises(SoilbenchError, match="SOILBENCH_MODEL_DIRS"):
        catalogs.add_model("CESM2", [outside], catalog)

    monkeypatch.setenv(catalogs.MODEL_DIRS_ENV, str(tmp_path / "archive"))
    entry = catalogs.add_model("CESM2", [outside], catalog)
    assert entry.url == f"{outside.as_posix()}/*.nc" and len(entry.paths()) == 2
    assert intake.from_yaml_file(str(catalog))["CESM2"].read().sizes["time"] == 24

    # the catalog cannot widen its own reach: without the user's variable the path is refused
    monkeypatch.delenv(catalogs.MODEL_DIRS_ENV)
    with pytest.raises(UnsafeCatalog, match="outside the allowed directories"):
        catalogs.open_catalog(catalog).entries["CESM2"].paths()
