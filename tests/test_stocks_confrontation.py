"""The ``soil_carbon`` confrontation: oracles on a small synthetic grid, the score-validity rules
of issue 11 on controlled models, the cross-model matrix, and the real testbed models against HWSD."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import stocks as soc
from soilbench.confrontations import confrontation_class

R_EARTH_M = 6371229.0
STEP_DEG = 5.0


def grid(step_deg):
    lat = np.arange(-90 + step_deg / 2, 90, step_deg)
    lon = np.arange(-180 + step_deg / 2, 180, step_deg)
    band = np.sin(np.deg2rad(lat + step_deg / 2)) - np.sin(np.deg2rad(lat - step_deg / 2))
    area = R_EARTH_M**2 * np.deg2rad(step_deg) * band[:, None] * np.ones(lon.size)
    return lat, lon, xr.DataArray(area, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"), attrs={"units": "m2"})


def canonical(csoil, step_deg, name, litter=1):
    lat, lon, area = grid(step_deg)
    field = xr.DataArray(csoil, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                         attrs={"units": "kg m-2", "includes_litter": litter, "source": "synthetic"})
    return xr.Dataset({"csoil": field, "cell_area": area,
                       "land_fraction": (("lat", "lon"), np.isfinite(csoil).astype(float))},
                      attrs={"model": name, "source_files": name})


def reference_stock(step_deg=STEP_DEG):
    """Log-normal SOC rising towards the north with cell-scale variation; ocean south of 60° S and a strip."""
    lat, lon, _ = grid(step_deg)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    rng = np.random.default_rng(42)
    log_soc = 1.6 + 0.015 * lat2 + 0.4 * np.cos(np.deg2rad(3 * lon2)) + rng.normal(0.0, 0.5, lat2.shape)
    land = (lat2 > -60) & ~((lon2 > -40) & (lon2 < -10))  # an ocean strip: not every cell is land
    return np.where(land, np.exp(log_soc), np.nan)


def synthetic_products():
    central = reference_stock()
    other = central * np.where(grid(STEP_DEG)[0][:, None] > 45, 1.3, 1.0)  # a second product, wetter north
    return {"ref-soilc": canonical(central, STEP_DEG, "ref-soilc", 0),
            "other-soilc": canonical(other, STEP_DEG, "other-soilc", 0)}


@pytest.fixture
def products(monkeypatch):
    found = synthetic_products()
    monkeypatch.setattr("soilbench.load.load_reference", lambda ref_id, data_dir=None: found[ref_id])
    monkeypatch.setattr("soilbench.load.reference.gridded_reference_ids", lambda ids=tuple(found): ids)
    return found


def make(references=("ref-soilc", "other-soilc"), **options):
    return confrontation_class("soil_carbon")("soil-carbon-stocks", list(references), options)


def score(result, name="overall score", reference=None):
    s = result.scalars
    rows = s[(s["name"] == name) & (s["type"] == "score") & (s["region"] == "global")]
    if reference is not None:
        rows = rows[rows["reference"] == reference]
    if name == "overall score":
        assert len(rows) == 1
    return float(rows["value"].iloc[0])


def scalar(result, name, reference=""):
    s = result.scalars
    return float(s[(s["name"] == name) & (s["reference"].fillna("") == reference)]["value"].iloc[0])


def coarsened(ds, factor=2):
    """The reference regridded conservatively to a coarser grid (area-weighted block means)."""
    from soilbench.analysis import regrid

    lat, lon, area = grid(STEP_DEG * factor)
    target = xr.Dataset({"cell_area": area})
    out = regrid.regrid_field(ds, "csoil", target)
    return out.assign(csoil=out["csoil"].assign_attrs(ds["csoil"].attrs)).assign_attrs(ds.attrs)


def controlled_models(reference):
    """The controlled models of issue 11's validity suite, built from the central product."""
    values = reference["csoil"].values
    valid = np.isfinite(values)
    area = (reference["cell_area"] * reference["land_fraction"]).values
    mean_density = np.nansum(values * area) / area[valid].sum()
    shuffled = values.copy()
    shuffled[valid] = np.random.default_rng(7).permutation(values[valid])
    models = {
        "reference": values,
        "zero": np.where(valid, 0.0, np.nan),
        "constant": np.where(valid, mean_density, np.nan),
        "shuffled": shuffled,
        "flipped": values[::-1, :],
    }
    for factor in (1.1, 1.3, 2.0):
        models[f"x{factor}"] = values * factor
        models[f"/{factor}"] = values / factor
    return {name: canonical(v, STEP_DEG, name) for name, v in models.items()}


# -- analysis oracles ---------------------------------------------------------------------------
def test_log_ratio_score_is_symmetric_and_zero_without_carbon():
    assert soc.log_ratio_score(2.0, 1.0, np.log(2)) == pytest.approx(np.exp(-1))
    assert soc.log_ratio_score(0.5, 1.0, np.log(2)) == pytest.approx(np.exp(-1))
    assert soc.log_ratio_score(0.0, 1.0, np.log(2)) == 0.0
    assert np.isnan(soc.log_ratio_score(1.0, 0.0, np.log(2)))


def test_taylor2001_score_oracles():
    assert soc.taylor2001_score(1.0, 1.0) == pytest.approx(1.0)
    assert soc.taylor2001_score(0.0, 1.0) == pytest.approx(1 / 16)
    assert soc.taylor2001_score(0.5, 1.0) == pytest.approx(1.5**4 / 16)
    assert soc.taylor2001_score(1.0, 2.0) == pytest.approx(4 / 2.5**2)
    assert soc.taylor2001_score(float("nan"), 0.0) == 0.0  # uniform field


def test_log_spread_is_the_sd_of_logs():
    assert soc.log_spread([1376.0, 1563.0]) == pytest.approx(abs(np.log(1563 / 1376)) / np.sqrt(2))
    assert soc.log_spread([1376.0]) == soc.FALLBACK_LOG_SPREAD


def test_regular_grid_covers_the_sphere():
    g = soc.regular_grid(2.5)
    assert g.sizes == {"lat": 72, "lon": 144}
    assert float(g["cell_area"].sum()) == pytest.approx(4 * np.pi * R_EARTH_M**2, rel=1e-12)


# -- the confrontation on known answers ------------------------------------------------------------
def test_global_stock_and_common_cells_oracle(products):
    ref = products["ref-soilc"]
    model_values = ref["csoil"].values * 1.5
    model_values[:, :4] = np.nan  # the model lacks some of the reference's land
    result = make().confront(canonical(model_values, STEP_DEG, "m"))
    area = (ref["cell_area"] * ref["land_fraction"]).values
    own_total = np.nansum(model_values * area) / 1e12
    common = np.isfinite(model_values) & np.isfinite(ref["csoil"].values)
    ref_common = np.nansum(np.where(common, ref["csoil"].values * area, 0.0)) / 1e12
    assert scalar(result, "total (own land)") == pytest.approx(own_total, rel=1e-9)
    assert scalar(result, "reference total (common cells)", "ref-soilc") == pytest.approx(ref_common, rel=1e-9)
    assert scalar(result, "model total (common cells)", "ref-soilc") == pytest.approx(1.5 * ref_common, rel=1e-9)
    totals = [np.nansum(p["csoil"].values * area) / 1e12 for p in products.values()]
    sigma = soc.log_spread(totals)
    assert scalar(result, "spread of global estimates (ln)") == pytest.approx(sigma)
    assert score(result, "total score", "ref-soilc") == pytest.approx(np.exp(-np.log(1.5) / sigma), rel=1e-9)
    # the land the model lacks counts against its pattern scores
    coverage = scalar(result, "coverage of the reference's carbon-bearing land", "ref-soilc")
    assert coverage == pytest.approx(area[common].sum() / area[np.isfinite(ref["csoil"].values)].sum(), rel=1e-9)
    assert score(result, "spatial distribution score", "ref-soilc") == pytest.approx(coverage, rel=1e-9)


def test_depth_caveat_in_notes_and_metadata(products, tmp_path):
    result = make().confront(canonical(products["ref-soilc"]["csoil"].values, STEP_DEG, "m"))
    assert any("0-1 m" in note and "whole soil column plus litter" in note for note in result.notes)
    result.save(tmp_path / "task", {"model": "m"})
    meta = json.loads((tmp_path / "task" / "meta.json").read_text())
    assert "cSoilAbove1m" in meta["tables"]["global_stock"]["depth"]
    assert "0-1 m" in make().describe()["depth"]


def test_outputs_follow_the_plot_conventions(products):
    result = make().confront(canonical(products["ref-soilc"]["csoil"].values * 1.2, STEP_DEG, "m"))
    fields = result.fields
    roles = {fields[v].attrs["role"] for v in fields.data_vars if fields[v].attrs.get("plot") == "map"}
    assert roles == {"model", "reference", "difference"}
    diff = fields["log_csoil_difference"]
    assert float(diff.mean()) == pytest.approx(np.log(1.2))
    zonal_vars = [v for v in fields.data_vars if fields[v].attrs.get("plot") == "zonal"]
    assert zonal_vars and all(fields[v].dims == ("lat_band",) for v in zonal_vars)
    central = fields["zonal_csoil_ref_soilc"]  # shaded between the two products' band means
    lower, upper = fields[central.attrs["lower"]], fields[central.attrs["upper"]]
    north = central["lat_band"] > 50
    assert np.allclose(upper.where(north, drop=True), 1.3 * central.where(north, drop=True), equal_nan=True)
    assert np.allclose(lower, central, equal_nan=True)
    assert result.table_meta["taylor_log_soc"]["plot"] == "taylor"
    assert result.table_meta["global_stock"]["plot"] == "bars"
    matrix = result.tables["log_soc_correlations"]
    assert result.table_meta["log_soc_correlations"]["plot"] == "matrix"
    assert list(matrix["label"]) == list(matrix.columns[1:])
    assert matrix.set_index("label").loc["m", "ref-soilc"] == pytest.approx(1.0)
    overall = result.scalars[result.scalars["name"] == "overall score"]
    assert len(overall) == 1 and overall["analysis"].iloc[0] == "overall"


# -- issue 11's score-validity rules ---------------------------------------------------------------
@pytest.fixture(scope="module")
def validity():
    """Every controlled model confronted once (module scope: the suite stays fast)."""
    found = synthetic_products()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("soilbench.load.load_reference", lambda ref_id, data_dir=None: found[ref_id])
        patch.setattr("soilbench.load.reference.gridded_reference_ids", lambda ids=tuple(found): ids)
        confrontation = make(matrix_resolution_deg=10.0)
        models = controlled_models(found["ref-soilc"])
        models["coarsened"] = coarsened(found["ref-soilc"])
        return {name: confrontation.confront(model) for name, model in models.items()}


def test_the_reference_itself_scores_at_least_095(validity):
    assert score(validity["reference"]) >= 0.95
    assert score(validity["coarsened"]) >= 0.95


@pytest.mark.parametrize("direction", ["x", "/"])
def test_scores_fall_strictly_along_the_ladders(validity, direction):
    ladder = [validity["reference"]] + [validity[f"{direction}{f}"] for f in (1.1, 1.3, 2.0)]
    for name in ("overall score", "total score", "zonal score"):
        values = [score(r, name, None if name == "overall score" else "ref-soilc") for r in ladder]
        assert all(a > b for a, b in zip(values, values[1:])), (name, values)
    # a log pattern does not see a uniform factor: by design, and said in docs/stocks.md
    pattern = [score(r, "spatial distribution score", "ref-soilc") for r in ladder]
    assert pattern == pytest.approx([pattern[0]] * 4)


def test_zero_scores_at_most_01_everywhere(validity):
    result = validity["zero"]
    assert score(result) <= 0.1
    for name in ("total score", "zonal score", "spatial distribution score"):
        assert score(result, name, "ref-soilc") <= 0.1


@pytest.mark.parametrize("null", ["constant", "shuffled", "flipped"])
def test_null_patterns_score_at_most_05_on_pattern_scores(validity, null):
    for name in ("zonal score", "spatial distribution score"):
        assert score(validity[null], name, "ref-soilc") <= 0.5, name
    assert score(validity[null]) < score(validity["x1.1"])


def test_options_are_checked():
    from soilbench.errors import ConfigError

    with pytest.raises(ConfigError, match="zonal_band_deg"):
        make(zonal_band_deg=7.0)
    with pytest.raises(ConfigError, match="needs a gridded soil carbon product"):
        make(references=["literature-soilc"])
    with pytest.raises(ConfigError, match=r"not one of them: \['literature-rh'\]"):
        make(references=["hwsd-soilc", "literature-rh"])


# -- literature ------------------------------------------------------------------------------------
def test_literature_counts_each_estimate_once_and_ncscd_not_in_the_spread(monkeypatch):
    central = reference_stock()
    found = {"hwsd-soilc": canonical(central, STEP_DEG, "hwsd-soilc", 0),
             "ncscd-soilc": canonical(np.where(grid(STEP_DEG)[0][:, None] > 50, central, np.nan), STEP_DEG,
                                      "ncscd-soilc", 0)}
    monkeypatch.setattr("soilbench.load.load_reference", lambda ref_id, data_dir=None: found[ref_id])
    confrontation = make(references=["hwsd-soilc", "ncscd-soilc", "literature-soilc"])
    confrontation.stage_data()
    estimates = confrontation._global_estimates()
    scored = estimates[estimates["scored"]]
    # hwsd's literature row repeats the configured product; ncscd is regional; models are not observations
    area = (found["hwsd-soilc"]["cell_area"] * found["hwsd-soilc"]["land_fraction"]).values
    hwsd_total = np.nansum(central * area) / 1e12
    assert sorted(scored["value"].round(6)) == sorted([round(hwsd_total, 6), 1563.0])
    literature = estimates[estimates["role"] == "literature"].set_index("label")["value"]
    assert {1281, 1308, 1469, 1507, 1376, 475, 1563} == set(literature.astype(int))
    assert any("permafrost" in label for label in literature.index)
    result = confrontation.confront(canonical(central, STEP_DEG, "m"))
    # a regional product: its total is compared on the shared cells, shown as information (not central)
    ncscd = result.scalars[result.scalars["reference"] == "ncscd-soilc"]
    assert set(ncscd.loc[ncscd["name"].str.endswith("score"), "type"]) == {"scalar"}
    assert (result.scalars.loc[result.scalars["type"] == "score", "reference"].isin(["hwsd-soilc", ""])).all()
    bars = result.tables["global_stock"]
    assert set(bars["role"]) == {"model", "reference", "literature"}


# -- across models ---------------------------------------------------------------------------------
def test_cross_model_matrix_from_saved_results(products, tmp_path):
    confrontation = make(matrix_resolution_deg=10.0)
    ref = products["ref-soilc"]["csoil"].values
    rng = np.random.default_rng(3)
    models = {"A": ref * 2.0, "B": np.exp(np.log(ref) + rng.normal(0, 0.5, ref.shape)),
              "C": np.where(np.isfinite(ref), np.exp(rng.normal(2, 0.5, ref.shape)), np.nan)}
    task_dirs = []
    for name, values in models.items():
        result = confrontation.confront(canonical(values, STEP_DEG, name))
        directory = tmp_path / "soil-carbon-stocks" / name
        result.save(directory, {"model": name, "confrontation": "soil-carbon-stocks", "status": "ok"})
        task_dirs.append(directory)
    failed = tmp_path / "soil-carbon-stocks" / "D"
    failed.mkdir()
    (failed / "meta.json").write_text(json.dumps({"model": "D", "status": "error"}))
    written = type(confrontation).summarize_models(tmp_path, "soil-carbon-stocks", task_dirs=task_dirs + [failed])
    assert written == [tmp_path / "_summary" / "soil-carbon-stocks" / "log_soc_correlations.csv"]
    table = pd.read_csv(written[0]).set_index("label")
    assert list(table.index) == ["A", "B", "C", "ref-soilc", "other-soilc"]
    # an independent computation on the same 10° grid
    from soilbench.analysis import regrid

    target = soc.regular_grid(10.0)
    on = {name: regrid.regrid_field(canonical(v, STEP_DEG, name), "csoil", target)["csoil"]
          for name, v in models.items()}
    weights = np.cos(np.deg2rad(target["lat"])) * xr.ones_like(target["lon"])
    expected = soc.log_pattern_correlations(on, weights)
    assert table.loc["A", "B"] == pytest.approx(expected.loc["A", "B"], abs=1e-6)
    assert table.loc["A", "ref-soilc"] == pytest.approx(1.0, abs=1e-6)
    assert abs(table.loc["A", "C"]) < 0.3 < table.loc["A", "B"]
    # no model left: the earlier matrix is removed
    assert type(confrontation).summarize_models(tmp_path, "soil-carbon-stocks", task_dirs=[failed]) == []
    assert not written[0].exists()


# -- real data -------------------------------------------------------------------------------------
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_FILES = ("soilc/HWSD_soilc_0.5x0.5.nc", "testbed/casaclm_pool_flux_2000-2010_mean.nc",
              "testbed/mimics_pool_flux_2000-2010_mean.nc")


@pytest.mark.realdata
@pytest.mark.skipif(not all((SHARED_DATA / f).is_file() for f in REAL_FILES),
                    reason=f"real HWSD and testbed files not available under {SHARED_DATA}")
def test_testbed_models_against_hwsd():
    from soilbench.load import load_model

    confrontation = confrontation_class("soil_carbon")("soil-carbon-stocks", ["hwsd-soilc", "literature-soilc"],
                                                        data_dir=SHARED_DATA)
    results = {m: confrontation.confront(load_model(m, data_dir=SHARED_DATA))
               for m in ("testbed-casacnp", "testbed-mimics")}
    for model_id, result in results.items():
        assert 1400 <= scalar(result, "total (own land)") <= 1500, model_id
        assert scalar(result, "reference total (own land)", "hwsd-soilc") == pytest.approx(1376, abs=1)
        assert 0 <= score(result) <= 1
        assert any("cSoilAbove1m" in note for note in result.notes)
    # the models' ln-SOC patterns resemble HWSD's more than chance does, MIMICS more than CASA-CNP
    r = {m: scalar(res, "correlation of ln SOC", "hwsd-soilc") for m, res in results.items()}
    assert 0.3 < r["testbed-casacnp"] < r["testbed-mimics"] < 0.95


def test_literature_soilc_catalog_entry_reads_the_shipped_table():
    from soilbench import catalogs
    from soilbench.load import series

    table = catalogs.find_entry("literature-soilc").read()
    assert table["id"].is_unique and table["source"].notna().all()
    assert set(table["scope"]) == {"global", "northern permafrost region"}
    parsed = series.read_literature_table(series.literature_path("soilc"))
    assert list(parsed["value"]) == [1281, 1308, 1469, 1507, 1376, 475, 1563]
