"""Model identity: files given together are one model, named from their CMIP attributes."""

from __future__ import annotations

import numpy as np
import pytest

from cmip_support import write_cmip6
from soilbench.load import load_model
from soilbench.runner.models import resolve_models


@pytest.fixture(scope="module")
def world_model(tmp_path_factory):
    from soilbench.synthetic import generate_world

    world = generate_world(tmp_path_factory.mktemp("world"))
    return world.models["perfect"]


def test_files_given_together_are_one_model_named_from_source_and_member(world_model, tmp_path):
    files = write_cmip6(world_model, tmp_path, "SYN-ESM", "r2i1p1f1", split_years=5)
    assert len(files) == 12  # 5 variables in two time pieces each, two fixed fields
    specs = resolve_models([str(f) for f in files])
    assert [s.name for s in specs] == ["SYN-ESM r2i1p1f1"]
    assert len(specs[0].paths) == len(files)
    assert specs[0].describe()["source_id"] == "SYN-ESM"
    model = specs[0].load()
    assert {"rh", "csoil", "cveg", "npp", "ra_root"} <= set(model.data_vars)
    assert model.sizes["time"] == 120  # both time pieces
    # the same numbers as the one-file original
    original = load_model(world_model)
    np.testing.assert_allclose(model["rh"].values, original["rh"].values, rtol=1e-6)


def test_directories_are_models_named_by_attributes_and_experiment_when_it_differs(world_model, tmp_path):
    write_cmip6(world_model, tmp_path / "a", "SYN-A", variables=("rh", "areacella", "sftlf"))
    write_cmip6(world_model, tmp_path / "b", "SYN-A", experiment_id="land-hist", variables=("rh", "areacella", "sftlf"))
    dirs = [str(next((tmp_path / d).rglob("rh")) / "gn" / "v20190308") for d in ("a", "b")]
    specs = resolve_models(dirs)
    assert [s.name for s in specs] == ["SYN-A r1i1p1f1 historical", "SYN-A r1i1p1f1 land-hist"]
    same_experiment = resolve_models(dirs[:1])
    assert [s.name for s in same_experiment] == ["SYN-A r1i1p1f1"]


def test_files_without_cmip_attributes_keep_their_file_name(tmp_path):
    from fixtures_gen import make_rh, write

    path = write(make_rh(), tmp_path / "my-model.nc")
    assert [s.name for s in resolve_models([str(path)])] == ["my-model"]


def test_cmip7_branded_variable_names_are_recognised(world_model, tmp_path):
    files = write_cmip6(world_model, tmp_path, "SYN-7", variables=("rh", "cSoil", "areacella", "sftlf"), branded=True)
    model = load_model([str(f) for f in files])
    assert {"rh", "csoil"} <= set(model.data_vars)
    assert model["rh"].attrs["source"].startswith("rh_tavg-u-hxy-lnd")
    plain = load_model(world_model)
    np.testing.assert_allclose(model["rh"].values, plain["rh"].values, rtol=1e-6)


def test_files_of_several_sources_given_together_are_one_model_each(world_model, tmp_path):
    files = write_cmip6(world_model, tmp_path, "SYN-A", variables=("rh", "areacella"))
    files += write_cmip6(world_model, tmp_path, "SYN-B", variables=("rh", "areacella"))
    specs = resolve_models([str(f) for f in files])
    assert [(s.name, len(s.paths)) for s in specs] == [("SYN-A r1i1p1f1", 2), ("SYN-B r1i1p1f1", 2)]
    from fixtures_gen import make_rh, write
    from soilbench.errors import SoilbenchError

    anonymous = write(make_rh(), tmp_path / "anonymous.nc")
    with pytest.raises(SoilbenchError, match="anonymous.nc.*no source_id"):
        resolve_models([*map(str, files), str(anonymous)])


def test_member_from_variant_label_and_sub_experiment_when_files_have_no_member_id(world_model, tmp_path):
    import xarray as xr

    from soilbench.runner.models import file_identity

    [path] = write_cmip6(world_model, tmp_path, "SYN-D", "r3i1p1f2", variables=("areacella",))
    ds = xr.load_dataset(path)
    del ds.attrs["member_id"]
    ds.to_netcdf(tmp_path / "no_member.nc")
    assert file_identity(tmp_path / "no_member.nc")["member_id"] == "r3i1p1f2"
    ds.attrs["sub_experiment_id"] = "s1960"
    ds.to_netcdf(tmp_path / "decadal.nc")
    assert file_identity(tmp_path / "decadal.nc")["member_id"] == "s1960-r3i1p1f2"
