"""References load through the catalogs only: each entry declares its loader (an allowlist), and
a benchmark definition naming a reference its type cannot stage is refused before anything runs."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import xarray as xr

from soilbench import catalogs
from soilbench.config import parse_benchmark
from soilbench.errors import ConfigError, SoilbenchError, UnsafeCatalog
from soilbench.load.reference import GRIDDED_LOADERS, LOADERS, TABLE_LOADERS, load_reference, reference_entries
from soilbench.runner.core import data_ids

GRIDDED_CATALOG = """
version: 2
metadata: {{name: extra, description: a user's reference}}
data:
  my-rh.file:
    datatype: intake.readers.datatypes:NetCDF3
    kwargs: {{url: '{{CATALOG_DIR}}/my_rh.nc'}}
entries:
  my-rh:
    reader: intake.readers.readers:XArrayDatasetReader
    kwargs: {{args: ['{{data(my-rh.file)}}']}}
    metadata:
      kind: gridded
      loader: {loader}
      quantities: {{rh: heterotrophic}}
      period: 2003-2007
      description: a user's Rh product
"""


def _definition(kind: str, references: list[str]) -> dict:
    return {"name": "t", "confrontations": [{"name": "c", "type": kind, "references": references}]}


@pytest.fixture
def user_catalog(tmp_path, monkeypatch):
    def write(loader: str = "gridded"):
        lat, lon = np.arange(-80.0, 90.0, 20.0), np.arange(-170.0, 180.0, 20.0)
        xr.Dataset({"heterotrophic": (("lat", "lon"), np.full((lat.size, lon.size), 0.5), {"units": "kg m-2 yr-1"})},
                   coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                           "lon": ("lon", lon, {"units": "degrees_east"})}).to_netcdf(tmp_path / "my_rh.nc")
        path = tmp_path / "extra.yaml"
        path.write_text(textwrap.dedent(GRIDDED_CATALOG.format(loader=loader)))
        monkeypatch.setenv(catalogs.CATALOGS_ENV, str(path))
        return path
    return write


def test_a_users_catalog_entry_is_a_reference_without_touching_soilbench(user_catalog):
    user_catalog()
    ds = load_reference("my-rh")
    assert ds.attrs["period"] == "2003-2007" and ds["rh"].attrs["units"] == "g m-2 yr-1"
    np.testing.assert_allclose(ds["rh"].values, 500.0)  # 0.5 kg → 500 g
    spec = parse_benchmark(_definition("taylor", ["my-rh"]), "bench.yaml").confrontations[0]
    assert spec.references == ("my-rh",)


def test_a_loader_outside_the_allowlist_is_refused(user_catalog):
    path = user_catalog(loader="os.system")
    with pytest.raises(UnsafeCatalog, match="metadata loader 'os.system' is not one of gridded"):
        catalogs.open_catalog(path)


@pytest.mark.parametrize("kind, reference, problem", [
    # catalog entries no loader reads: they used to pass the config and fail when staged
    ("global_totals", "koppen", "'koppen' cannot be staged: no catalog entry declares how to read it"),
    ("global_totals", "bl2004", "'bl2004' cannot be staged"),
    # a registered file without a catalog entry
    ("srdb_annual", "srdb-v5-studies", "'srdb-v5-studies' cannot be staged"),
    # read by a loader the type does not stage
    ("taylor", "hashimoto2015-rh", "read by the loader 'digitised_series'; type 'taylor' stages only gridded"),
    ("daily_rh", "srdb-v5-data", "type 'daily_rh' stages only mgrhd_daily"),
    ("turnover", "landfrac", "read by the loader 'land_fraction'"),
    # a reference of another quantity: it used to fail only when staged
    ("taylor", "hwsd-soilc", "reference 'hwsd-soilc' holds csoil; confrontation 'c' compares rh"),
])
def test_the_config_refuses_references_its_type_cannot_stage(kind, reference, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_benchmark(_definition(kind, [reference]), "bench.yaml")


def test_an_id_without_a_gridded_loader_is_not_loaded():
    with pytest.raises(SoilbenchError, match="'hashimoto2015-rh' is not a gridded reference"):
        load_reference("hashimoto2015-rh")


def test_every_reference_of_the_default_catalogs_declares_an_allowed_loader():
    assert set(LOADERS) == set(GRIDDED_LOADERS) | set(TABLE_LOADERS) == set(catalogs.REFERENCE_LOADERS)
    loaders = {i: e.metadata.get("loader") for i, e in reference_entries().items()}
    # what no loader reads (a climate-class table, a regression's sites) is data for options, not a reference
    assert {i for i, loader in loaders.items() if loader is None} == {"koppen", "bl2004"}
    assert loaders["hwsd-ncscd-soilc"] == "merge_where_positive"


def test_a_merged_reference_is_provenanced_by_its_registered_parts():
    spec = parse_benchmark(_definition("turnover", ["hwsd-ncscd-soilc", "cardamom-rh"]), "b.yaml").confrontations[0]
    ids = data_ids(spec.build())
    assert ids[:3] == ["hwsd-soilc", "ncscd-soilc", "cardamom-rh"]


def test_a_reference_of_another_quantity_is_refused_by_the_options_quantity():
    definition = _definition("global_totals", ["literature-rh"])
    definition["confrontations"][0]["options"] = {"quantity": "rs"}
    with pytest.raises(ConfigError, match="'literature-rh' holds rh; confrontation 'c' compares rs"):
        parse_benchmark(definition, "bench.yaml")
    definition["confrontations"][0]["references"] = ["literature-rs"]
    assert parse_benchmark(definition, "bench.yaml").confrontations[0].references == ("literature-rs",)
