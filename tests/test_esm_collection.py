"""--models with an intake-esm collection: --select by facets, each simulation one model."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from cmip_support import write_cmip6, write_esm_collection
from soilbench import cli, data
from soilbench.errors import SoilbenchError
from soilbench.runner.models import resolve_models

ONE_CONFRONTATION = """
name: collection-test
confrontations:
  - name: rh-global-totals
    type: global_totals
    references: [cardamom-rh]
    options: {quantity: rh}
"""


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    from soilbench.synthetic import generate_world

    tmp = tmp_path_factory.mktemp("campaign")
    world = generate_world(tmp / "world")
    root = tmp / "esgf"
    files = write_cmip6(world.models["perfect"], root, "SYN-A", "r1i1p1f1", split_years=5)
    # a second member without fixed fields of its own (as often published), and another source
    files += write_cmip6(world.models["rh-plus-20pct"], root, "SYN-A", "r2i1p1f1", variables=("rh", "cSoil"))
    files += write_cmip6(world.models["short-tau"], root, "SYN-B", "r1i1p1f1", variables=("rh", "cSoil", "areacella", "sftlf"))
    files += write_cmip6(world.models["short-tau"], root, "SYN-B", "r1i1p1f1", experiment_id="ssp585",
                         variables=("rh", "areacella", "sftlf"))
    collection = write_esm_collection(root, files)
    return {"tmp": tmp, "world": world, "root": root, "collection": collection, "files": files}


def test_select_by_facets_groups_each_simulation_into_one_model(campaign):
    collection = str(campaign["collection"])
    specs = resolve_models([collection], select=["source_id=SYN-A", "experiment_id=historical"])
    assert [s.name for s in specs] == ["SYN-A r1i1p1f1", "SYN-A r2i1p1f1"]
    first, second = specs
    assert len(first.paths) == 2 * 5 + 2  # two time pieces of five variables, areacella, sftlf
    # r2 has no fixed fields: the source's own (r1) are used
    assert sum("areacella" in p for p in second.paths) == 1 and sum("/rh/" in p for p in second.paths) == 1
    assert first.describe()["member_id"] == "r1i1p1f1"

    both = resolve_models([collection], select=["source_id=SYN-B"])
    assert [s.name for s in both] == ["SYN-B r1i1p1f1 historical", "SYN-B r1i1p1f1 ssp585"]
    assert len(resolve_models([collection])) == 4

    with pytest.raises(SoilbenchError, match="no facet.*institution"):
        resolve_models([collection], select=["institution=X"])
    with pytest.raises(SoilbenchError, match="no dataset"):
        resolve_models([collection], select=["source_id=NOPE"])
    with pytest.raises(SoilbenchError, match="ESM collection"):
        resolve_models([str(campaign["files"][0])], select=["source_id=SYN-A"])


def test_collection_paths_are_local_and_relative_to_the_json(campaign, tmp_path):
    table = pd.read_csv(campaign["root"] / "cmip6-test.csv")
    moved = tmp_path / "moved"
    shutil.copytree(campaign["root"], moved)
    table["path"] = [str(p).replace(str(campaign["root"]) + "/", "") for p in table["path"]]
    table.to_csv(moved / "cmip6-test.csv", index=False)
    specs = resolve_models([str(moved / "cmip6-test.json")], select=["source_id=SYN-B", "experiment_id=ssp585"])
    assert specs[0].paths[0].startswith(str(moved))
    table.loc[0, "path"] = "s3://bucket/rh.nc"
    table.to_csv(moved / "cmip6-test.csv", index=False)
    with pytest.raises(SoilbenchError, match="not a local file"):
        resolve_models([str(moved / "cmip6-test.json")])


def test_run_scores_the_selected_models_as_the_same_files_given_directly(campaign, monkeypatch, capsys):
    tmp, world = campaign["tmp"], campaign["world"]
    monkeypatch.setenv(data.SYNTHETIC_REGISTRY_ENV, str(world.registry))
    config = tmp / "bench.yaml"
    config.write_text(ONE_CONFRONTATION)
    common = ["--config", str(config), "--workers", "0", "--data-dir", str(world.root), "--no-report", "--quiet"]
    assert cli.main(["run", "--models", str(campaign["collection"]), "--select", "source_id=SYN-A",
                     "experiment_id=historical", "--out", str(tmp / "esm"), *common]) == 0
    member_files = [str(p) for p in campaign["files"] if "r1i1p1f1" in str(p) and "SYN-A" in str(p)]
    assert cli.main(["run", "--models", *member_files, "--out", str(tmp / "files"), *common]) == 0
    esm = pd.read_csv(tmp / "esm" / "scalars.csv")
    direct = pd.read_csv(tmp / "files" / "scalars.csv")
    assert set(esm["model"]) == {"references", "SYN-A r1i1p1f1", "SYN-A r2i1p1f1"}
    mine = esm[esm["model"] == "SYN-A r1i1p1f1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, direct[direct["model"] == "SYN-A r1i1p1f1"].reset_index(drop=True))
    run = json.loads((tmp / "esm" / "run.json").read_text())
    assert {m["source_id"] for m in run["models"]} == {"SYN-A"}
    overall = esm.query("analysis == 'overall' and name == 'overall score' and region == 'global'")
    scores = overall.set_index("model")["value"]
    # the +20 % member scores lower than the unbiased one
    assert scores["SYN-A r2i1p1f1"] < scores["SYN-A r1i1p1f1"]


def test_a_source_on_two_grids_gives_two_models_named_with_the_grid(campaign, tmp_path):
    table = pd.read_csv(campaign["root"] / "cmip6-test.csv")
    regridded = table[table["source_id"] == "SYN-B"].assign(grid_label="gr")
    pd.concat([table, regridded]).to_csv(tmp_path / "two-grids.csv", index=False)
    spec = json.loads(campaign["collection"].read_text())
    (tmp_path / "two-grids.json").write_text(json.dumps({**spec, "catalog_file": "two-grids.csv"}))
    specs = resolve_models([str(tmp_path / "two-grids.json")], select=["source_id=SYN-B", "experiment_id=historical"])
    assert [s.name for s in specs] == ["SYN-B r1i1p1f1 gn", "SYN-B r1i1p1f1 gr"]
    assert specs[1].describe()["grid_label"] == "gr"
