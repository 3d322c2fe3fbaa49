"""soilbench's ILAMB 2.x plugin without running ilamb-run: scalar names, result files read by
ILAMB's own code, cfg options, the shipped cfg against default.yaml, offline Natural Earth and
the CMOR files of ``soilbench ilamb prepare``."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.config import CONFRONTATIONS_DIR, DEFAULT_CONFIG, load_benchmark
from soilbench.ilamb import naturalearth
from soilbench.ilamb.confrontation import parse_option, soilbench_settings
from soilbench.ilamb.results import OVERALL, ilamb_scalars, read_attrs, read_scalars, scalar_label, write_results
from soilbench.results import scalar_rows

CFG = CONFRONTATIONS_DIR / "soilbench-ilamb.cfg"


def _scalars() -> pd.DataFrame:
    return scalar_rows([
        {"reference": "cardamom-rh", "region": "global", "analysis": "bias", "name": "bias score", "type": "score",
         "units": "1", "value": 0.8},
        {"reference": "cardamom-rh", "region": "koppen_A", "analysis": "bias", "name": "bias score", "type": "score",
         "units": "1", "value": 0.6},
        {"reference": "cardamom-rh", "region": "global", "analysis": "global total", "name": "total", "type": "scalar",
         "units": "Pg yr-1", "value": 55.0},
        {"reference": "", "region": "global", "analysis": "overall", "name": "global total score", "type": "score",
         "units": "1", "value": 0.7},
        {"reference": "", "region": "global", "analysis": "overall", "name": "overall score", "type": "score",
         "units": "1", "value": 0.75},
    ], model="M", confrontation="c")


# -- scalar names ----------------------------------------------------------------------------------
def test_only_the_scoreboard_row_becomes_ilambs_overall_score():
    values = ilamb_scalars(_scalars())
    assert values[f"{OVERALL} global"] == (0.75, "1")
    assert values["Global total Score (overall) global"] == (0.7, "1")
    assert values["Bias Score (bias; cardamom-rh) koppen_A"] == (0.6, "1")


def test_ilamb_tells_scores_from_scalars_by_the_word_score():
    for _, row in _scalars().iterrows():
        assert ("Score" in scalar_label(row)) == (row["type"] == "score")
    row = _scalars().iloc[2].copy()
    row["name"] = "Score-like total"
    assert "Score" not in scalar_label(row)


def test_repeated_rows_are_numbered_and_two_overall_scores_refused():
    repeated = pd.concat([_scalars().iloc[[2]]] * 3, ignore_index=True)
    repeated["value"] = [40.0, 50.0, 60.0]
    values = ilamb_scalars(repeated)
    assert [values[f"Total (global total; cardamom-rh; {i} of 3) global"][0] for i in (1, 2, 3)] == [40, 50, 60]
    with pytest.raises(ValueError, match="overall scores"):
        ilamb_scalars(pd.concat([_scalars().iloc[[4]]] * 2))


def test_result_file_is_read_by_ilambs_harvest_and_scoreboard(tmp_path):
    """ILAMB's own readers (Post.HarvestScalarDatabase, Scoreboard.CompositeScores) see our numbers."""
    from ILAMB import Post
    from ILAMB.Scoreboard import CompositeScores, Node

    leaf_dir = tmp_path / "Soil" / "Rh" / "Sb"
    leaf_dir.mkdir(parents=True)
    path = write_results(leaf_dir / "Sb_M.nc", "M", (0.1, 0.2, 0.3), 2.0, _scalars())
    assert read_attrs(path)["complete"] == 1 and read_attrs(path)["name"] == "M"
    assert read_scalars(path)["Overall Score global"] == 0.75
    Post.HarvestScalarDatabase(str(tmp_path))
    harvested = pd.read_csv(tmp_path / "scalar_database.csv")
    overall = harvested[harvested["ScalarName"] == "Overall Score"].iloc[0]
    assert (overall["Region"], overall["ScalarType"], overall["Data"], overall["Weight"]) == ("global", "score", 0.75, 2.0)
    assert set(harvested.loc[harvested["ScalarName"].str.startswith("Total"), "ScalarType"]) == {"scalar"}

    class _Conf:  # what CompositeScores reads of a confrontation
        output_path, name = str(leaf_dir), "Sb"

    class _Model:
        name = "M"

    root, leaf = Node(None), Node("Sb")
    root.addChild(leaf)
    leaf.confrontation = _Conf()
    CompositeScores(root, [_Model()])
    assert float(leaf.score[0]) == 0.75


# -- cfg ---------------------------------------------------------------------------------------------
def test_cfg_options_avoid_brackets():
    assert parse_option("2001, 2010") == [2001, 2010]
    assert parse_option("koppen,") == ["koppen"]
    assert parse_option("5.0") == 5.0 and parse_option("null") is None and parse_option("bl2004") == "bl2004"
    settings = soilbench_settings({"soilbench_kind": "taylor", "soilbench_references": "a, b",
                                   "soilbench_option_period": "2001,2010", "source": "x"})
    assert settings["references"] == ["a", "b"] and settings["options"] == {"period": [2001, 2010]}


def _cfg_leaves():
    from ILAMB.Scoreboard import ParseScoreboardConfigureFile

    tree = ParseScoreboardConfigureFile(str(CFG))
    return [leaf for h1 in tree.children for h2 in h1.children for leaf in h2.children]


def test_shipped_cfg_runs_exactly_the_default_benchmark():
    """Same confrontations, types, references, options and weights as confrontations/default.yaml."""
    default = {spec.name: spec for spec in load_benchmark(DEFAULT_CONFIG).confrontations}
    leaves = _cfg_leaves()
    assert sorted(leaf.soilbench_name for leaf in leaves) == sorted(default)
    for leaf in leaves:
        spec = default[leaf.soilbench_name]
        settings = soilbench_settings(leaf.__dict__)
        assert settings["kind"] == spec.type, leaf.name
        assert settings["references"] == list(spec.references), leaf.name
        assert settings["options"] == dict(spec.options), leaf.name
        assert leaf.weight == spec.weight, leaf.name
        ctype = importlib.import_module(leaf.ctype).__dict__[leaf.ctype]  # how ILAMB resolves it
        assert spec.type in ctype.kinds, leaf.name
        assert not set("()[]") & set(leaf.name + leaf.parent.name), "ILAMB passes these paths to the shell"


# -- offline Natural Earth ---------------------------------------------------------------------------
def test_natural_earth_layers_are_readable_by_cartopy(tmp_path):
    import cartopy.io.shapereader as shapereader
    import shapely

    naturalearth.write_layers(tmp_path)
    land = shapely.union_all(list(shapereader.Reader(naturalearth.layer_path(tmp_path, "land")).geometries()))
    ocean = shapely.union_all(list(shapereader.Reader(naturalearth.layer_path(tmp_path, "ocean")).geometries()))
    assert land.contains(shapely.Point(20, 0)) and not land.contains(shapely.Point(-30, 0))  # Congo, Atlantic
    assert ocean.contains(shapely.Point(-30, 0))
    assert 0.25 < land.area / (land.area + ocean.area) < 0.35  # about 29 % of a lon-lat box is land
    assert len(list(shapereader.Reader(naturalearth.layer_path(tmp_path, "coastline")).geometries())) > 50


def test_cartopy_is_pointed_at_the_layers_only_when_it_has_none(tmp_path, monkeypatch):
    import cartopy

    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", tmp_path / "nothing")
    monkeypatch.setitem(cartopy.config, "data_dir", tmp_path / "empty")
    assert naturalearth.use_offline_natural_earth(tmp_path / "ne") == tmp_path / "ne"
    assert cartopy.config["pre_existing_data_dir"] == tmp_path / "ne"
    assert naturalearth.cartopy_has_layers()
    assert naturalearth.use_offline_natural_earth(tmp_path / "other") is None  # user data wins
    assert not (tmp_path / "other").exists()


# -- prepare: CMOR model files ---------------------------------------------------------------------
def _canonical_climatology() -> xr.Dataset:
    lat, lon = np.linspace(-80, 80, 9), np.linspace(-170, 170, 18)
    rng = np.random.default_rng(0)
    field = lambda low, high: (("lat", "lon"), rng.uniform(low, high, (9, 18)))  # noqa: E731
    ds = xr.Dataset({"rh": field(100, 900), "csoil": field(5, 40), "clitter": field(0.5, 2),
                     "cell_area": field(1e9, 2e9), "land_fraction": field(0, 1)},
                    coords={"lat": lat, "lon": lon}, attrs={"model": "tiny", "period": "2000-2010", "climatology": 1})
    ds["rh"].attrs.update(units="g m-2 yr-1")
    ds["csoil"].attrs.update(units="kg m-2", includes_litter=1)
    ds["clitter"].attrs.update(units="kg m-2")
    return ds


def test_prepared_model_loads_back_to_the_same_canonical_model(tmp_path):
    from soilbench.ilamb.prepare import write_model
    from soilbench.load import load_model

    original = _canonical_climatology()
    files = write_model(original, tmp_path / "tiny")
    assert sorted(p.name for p in files) == ["areacella.nc", "cLitter.nc", "cSoil.nc", "rh.nc", "sftlf.nc"]
    with xr.open_dataset(tmp_path / "tiny" / "rh.nc", decode_times=False) as rh:
        assert rh["rh"].attrs["units"] == "kg m-2 s-1"
        assert rh["time_bnds"].values.tolist() == [[150 * 365, 161 * 365]]  # 2000-01-01 .. 2011-01-01, noleap
    loaded = load_model(tmp_path / "tiny").load()
    assert loaded.attrs["period"] == "2000-2010" and loaded["csoil"].attrs["includes_litter"] == 1
    for name in ("rh", "csoil", "clitter", "cell_area", "land_fraction"):
        np.testing.assert_allclose(loaded[name].values, original[name].values, rtol=1e-12, err_msg=name)


# -- figures on the dataset page -------------------------------------------------------------------
def _result(model: str, scale: float):
    from soilbench.results import ConfrontationResult

    lat, lon = np.linspace(-80, 80, 9), np.linspace(-170, 170, 18)
    values = scale * np.outer(np.cos(np.deg2rad(lat)), np.ones(lon.size))
    fields = xr.Dataset({
        "rh_model": xr.DataArray(values, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                                 attrs={"plot": "map", "role": "model", "units": "g m-2 yr-1"}),
        "zonal_model": xr.DataArray(values.mean(1), coords={"lat_band": lat}, dims="lat_band",
                                    attrs={"plot": "zonal", "role": "model", "units": "g m-2 yr-1"}),
        "zonal_ref": xr.DataArray(values.mean(1) / scale, coords={"lat_band": lat}, dims="lat_band",
                                  attrs={"plot": "zonal", "role": "reference", "units": "g m-2 yr-1"}),
    })
    taylor = pd.DataFrame({"label": [model, "ref"], "role": ["model", "reference"], "correlation": [0.9, 1.0],
                           "std_ratio": [scale, 1.0], "crmse": [0.3, 0.0]})
    return ConfrontationResult(_scalars(), fields, {"taylor": taylor}, {"taylor": {"plot": "taylor"}})


def test_dataset_page_figures_per_model_and_combined():
    from soilbench.ilamb import figures

    items = [figures.ModelResult("A", "#ff0000", _result("A", 1.0)), figures.ModelResult("B", "#0000ff", _result("B", 2.0))]
    limits = figures.map_limits(items)
    per_model = [[spec.key for spec in figures.model_figures(item, limits)] for item in items]
    assert per_model[0] == per_model[1] == ["map_rh_model"]  # one <img> id, swapped per model by ILAMB
    assert limits["rh_model"][1] > 1.5  # shared colour scale covers model B
    combined = figures.combined_figures(items)
    assert sorted(spec.key for spec in combined) == ["table_taylor", "zonal_g_m_2_yr_1"]
    for spec in combined + figures.model_figures(items[0], limits):
        assert spec.draw()[:8] == b"\x89PNG\r\n\x1a\n", spec.key
    assert figures.model_figures(items[0], limits)[0].file_name("A") == "A_map_rh_model.png"


def test_dataset_page_draws_each_models_own_reference_curve_when_they_differ(monkeypatch):
    """The ILAMB zonal figure is chosen as the report's: a reference curve that differs per model
    (a zonal mean on the cells valid in each model) is drawn for every model, in its colour."""
    from soilbench.ilamb import figures
    from soilbench.report import plots

    a, b = _result("A", 1.0), _result("B", 2.0)
    b.fields["zonal_ref"] = b.fields["zonal_ref"].where(b.fields["lat_band"] < 60)  # B has no cells north of 60°
    drawn = {}

    def spy(curves, x_dim, title):
        drawn[title] = (list(curves), x_dim)
        return b"png"

    monkeypatch.setattr(plots, "profile_figure", spy)
    items = [figures.ModelResult("A", "#ff0000", a), figures.ModelResult("B", "#0000ff", b)]
    (zonal,) = [spec for spec in figures.combined_figures(items) if spec.key.startswith("zonal_")]
    zonal.draw()
    curves, x_dim = drawn[zonal.title]
    references = [c for c in curves if c["role"] == "reference"]
    assert x_dim == "lat_band"
    assert [(c["color"], c["per_model"]) for c in references] == [("#ff0000", True), ("#0000ff", True)]
    # the same reference for every model is still drawn once, in black
    figures.combined_figures(items[:1] + [figures.ModelResult("B", "#0000ff", _result("B", 2.0))])[0].draw()
    (single,) = [c for c in drawn[zonal.title][0] if c["role"] == "reference"]
    assert single["color"] is None and not single["per_model"]


def test_prepare_model_names_are_safe_for_ilambs_shell_paths():
    from soilbench.commands.ilamb import parse_models
    from soilbench.errors import SoilbenchError

    assert parse_models(None) is None and parse_models([]) == {}
    assert parse_models(["CASA-CNP=testbed-casacnp"]) == {"CASA-CNP": "testbed-casacnp"}
    for bad in ("casa", "a b=testbed-casacnp", "x(1)=testbed-casacnp", "=testbed-casacnp"):
        with pytest.raises(SoilbenchError):
            parse_models([bad])


# -- not applicable ----------------------------------------------------------------------------------
def test_a_model_without_the_quantity_is_not_applicable_in_ilamb_not_an_error(tmp_path, capsys):
    """The ctype asks applicable() like the native runner: a model without csoil gets no ILAMB
    result file and a soilbench ``not_applicable`` record, and confront raises nothing (ILAMB 2.x
    would print the exception in red and count it as an error)."""
    from types import SimpleNamespace

    from runner_support import NeedsCsoil

    from soilbench.ilamb.confrontation import SoilbenchConfrontation
    from soilbench.results import load_result

    lat, lon = np.arange(-87.5, 90, 5.0), np.arange(-177.5, 180, 5.0)
    area = np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size) * 3.09e11
    path = tmp_path / "rh_only.nc"
    xr.Dataset({"rh": (("lat", "lon"), np.full(area.shape, 500.0), {"units": "g m-2 yr-1"}),
                "areacella": (("lat", "lon"), area, {"units": "m2"}),
                "sftlf": (("lat", "lon"), np.full(area.shape, 100.0), {"units": "%"})},
               coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                       "lon": ("lon", lon, {"units": "degrees_east"})},
               attrs={"title": "an Rh-only model, 2001-2010 mean"}).to_netcdf(path)
    ctype = object.__new__(SoilbenchConfrontation)  # ILAMB's constructor needs a whole ILAMB_ROOT
    ctype.soilbench = NeedsCsoil("soil-c", ["test-target"])
    ctype.soilbench_kind, ctype.name, ctype.longname = NeedsCsoil.kind, "SoilC", "SoilC/Test"
    ctype.output_path, ctype.master, ctype.cweight = str(tmp_path / "out"), False, 1.0
    model = SimpleNamespace(name="RhOnly", color=(0.1, 0.2, 0.3), path=str(tmp_path),
                            variables={"rh": [str(path)], "areacella": [str(path)], "sftlf": [str(path)]})

    ctype.confront(model)

    assert not ctype.result_file("RhOnly").exists()  # ILAMB's scoreboard leaves the cell empty
    meta, result = load_result(ctype.result_dir("RhOnly"))
    assert result is None and meta["status"] == "not_applicable"
    assert meta["reason"].startswith("the model provides no csoil (it provides: ")
    assert "RhOnly" in capsys.readouterr().out.splitlines()[-1]
    assert ctype.saved_results() == []  # no figures for it
