"""site_response: oracle models built from the site values, known-Q10 data, and the testbed models.

The score-validity rules (issue 11) checked here on a small grid: the field that reproduces the
SRDB values at their cells scores ≥ 0.95, the bias ladders (× and ÷ 1.1, 1.3, 2) fall strictly,
a zero field scores ≤ 0.1 and a constant one ≤ 0.5.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import responses as response
from soilbench.confrontations.base import confrontation_class
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.results import load_result

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
GRID_STEP = 5.0
LAT = np.arange(-90 + GRID_STEP / 2, 90, GRID_STEP)
LON = np.arange(-180 + GRID_STEP / 2, 180, GRID_STEP)
SRDB_COLUMNS = ["Record_number", "Study_number", "Site_ID", "Latitude", "Longitude", "Study_midyear", "YearsOfData",
                "Manipulation", "Meas_method", "Rs_annual", "Rh_annual", "MAT", "MAP"]
MGRHD_COLUMNS = ["Study_number", "Site_ID", "Meas_Year", "Meas_Month", "Meas_DOY", "Latitude", "Longitude",
                 "Manipulation", "Meas_method", "Rh_Norm", "Tsoil", "TsDepth", "SWC"]
OBSERVED_Q10 = 2.0


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, na_rep="NA")
    return path


def srdb_sites(n: int = 240, seed: int = 7) -> pd.DataFrame:
    """Sites on distinct cells; Rh rises with MAT (Q10 2) and MAP, with multiplicative scatter."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(LAT.size * LON.size, size=n, replace=False)
    ilat, ilon = np.divmod(cells, LON.size)
    mat = rng.uniform(-9.5, 29.5, n).round(1)
    map_mm = rng.uniform(100, 3900, n).round(0)
    rh = 300 * OBSERVED_Q10 ** ((mat - 10) / 10) * (map_mm / 1000) ** 0.4 * np.exp(rng.normal(0, 0.15, n))
    return pd.DataFrame({"Record_number": np.arange(1, n + 1), "Study_number": np.arange(1, n + 1),
                         "Site_ID": [f"S{i}" for i in range(n)], "Latitude": LAT[ilat], "Longitude": LON[ilon],
                         "Study_midyear": 2005, "YearsOfData": 1, "Manipulation": "None", "Meas_method": "IRGA",
                         "Rh_annual": rh.round(3), "Rs_annual": (1.7 * rh).round(3), "MAT": mat, "MAP": map_mm,
                         "ilat": ilat, "ilon": ilon})


def reproducing_model(sites: pd.DataFrame, factor: float = 1.0, name: str = "oracle") -> xr.Dataset:
    """A period-mean model equal to the SRDB values at the sites' cells (× factor), NaN elsewhere."""
    rh = np.full((LAT.size, LON.size), np.nan)
    rs = rh.copy()
    rh[sites["ilat"], sites["ilon"]] = sites["Rh_annual"] * factor
    rs[sites["ilat"], sites["ilon"]] = sites["Rs_annual"] * factor
    return xr.Dataset(
        {"rh": (("lat", "lon"), rh, {"units": "g m-2 yr-1"}), "rs": (("lat", "lon"), rs, {"units": "g m-2 yr-1"}),
         "cell_area": (("lat", "lon"), np.ones((LAT.size, LON.size))),
         "land_fraction": (("lat", "lon"), np.ones((LAT.size, LON.size)))},
        coords={"lat": LAT, "lon": LON}, attrs={"model": name, "period": "2000-2010", "climatology": 1})


@pytest.fixture
def srdb(tmp_path, monkeypatch):
    sites = srdb_sites()
    files = {"srdb-v5-data": write_csv(sites.drop(columns=["ilat", "ilon"]), tmp_path / "srdb.csv")}
    monkeypatch.setattr("soilbench.confrontations.responses._fetch", lambda dataset_id, data_dir: files[dataset_id])
    return sites, files


def scores_of(result) -> pd.Series:
    s = result.scalars
    return s[s["type"] == "score"].set_index("name")["value"]


def test_oracle_ladders_and_null_models(srdb):
    sites, _ = srdb
    conf = confrontation_class("site_response")("rh-climate-response", ["srdb-v5-data"], {})

    def overall(model):
        result = conf.confront(model)
        rows = result.scalars[result.scalars["name"] == "overall score"]
        assert len(rows) == 1 and rows["analysis"].iloc[0] == "overall"
        return float(rows["value"].iloc[0]), scores_of(result)

    reference, parts = overall(reproducing_model(sites))
    assert reference == pytest.approx(1.0)
    assert all(parts[f"{q} vs {d} score"] == pytest.approx(1.0) for q in ("Rh", "Rs") for d in ("MAT", "MAP"))
    for ladder in ([1.1, 1.3, 2.0], [1 / 1.1, 1 / 1.3, 0.5]):
        values = [reference] + [overall(reproducing_model(sites, k))[0] for k in ladder]
        assert all(a > b for a, b in zip(values, values[1:])), values
    # × 2 in every bin: the level score is e⁻¹ and the shape is untouched
    doubled = overall(reproducing_model(sites, 2.0))[1]
    assert doubled["Rh vs MAT level score"] == pytest.approx(np.exp(-1))
    assert doubled["Rh vs MAT shape score"] == pytest.approx(1.0)
    assert overall(reproducing_model(sites, 0.0))[0] <= 0.1
    constant = reproducing_model(sites)
    for q in ("rh", "rs"):
        constant[q] = constant[q].where(constant[q].isnull(), float(constant[q].mean()))
    value, parts = overall(constant)
    assert value <= 0.5
    # a flat curve has exactly the observed curve's departure from flat: shape score e⁻¹
    assert parts["Rh vs MAT shape score"] == pytest.approx(np.exp(-1))


def test_binned_tables_saved_for_the_report(srdb, tmp_path):
    sites, _ = srdb
    conf = confrontation_class("site_response")("rh-climate-response", ["srdb-v5-data"], {"min_records_per_bin": 12})
    result = conf.confront(reproducing_model(sites))
    curves = result.tables["binned_responses"]
    assert set(curves["group"]) == {"Rh vs MAT", "Rh vs MAP", "Rs vs MAT", "Rs vs MAP"}
    mat = curves[curves["group"] == "Rh vs MAT"]
    expected = response.binned_response(sites["MAT"], sites["Rh_annual"], np.arange(-10, 35, 5.0))
    np.testing.assert_allclose(mat["observed"], expected["mean"], rtol=1e-9)
    np.testing.assert_array_equal(mat["scored"], expected["n"] >= 12)
    q10 = result.tables["q10"].set_index(["response", "side"])
    fit = response.fit_q10(sites["MAT"], sites["Rh_annual"])
    assert q10.loc[("SRDB annual Rh vs MAT (across sites)", "observed"), "q10"] == pytest.approx(fit.q10)
    assert fit.lower < q10.loc[("SRDB annual Rh vs MAT (across sites)", "modelled"), "q10"] < fit.upper
    saved = result.save(tmp_path / "out", {"model": "oracle", "confrontation": conf.name, "kind": conf.kind})
    meta, loaded = load_result(saved)
    assert meta["tables"]["binned_responses"]["plot"] == "response"
    assert {"group", "x", "x_label", "observed", "observed_lower", "observed_upper", "modelled"} <= set(
        loaded.tables["binned_responses"].columns)


def test_missing_rs_is_an_incomplete_overall(srdb):
    sites, _ = srdb
    model = reproducing_model(sites).drop_vars("rs")
    result = confrontation_class("site_response")("rh-climate-response", ["srdb-v5-data"], {}).confront(model)
    parts = scores_of(result)
    assert np.isnan(parts["Rs vs MAT score"]) and np.isnan(parts["Rs vs MAP score"])
    assert parts["overall score"] == pytest.approx(1.0)  # the mean of the components it has
    counts = result.scalars.set_index("name")["value"]
    assert counts["n score components missing"] == 2
    assert any(note.startswith("Overall score incomplete") for note in result.notes)


def test_an_srdb_table_without_map_is_a_one_line_error_naming_file_and_column(srdb, tmp_path):
    sites, files = srdb
    files["srdb-v5-data"] = write_csv(sites.drop(columns=["ilat", "ilon", "MAP"]), tmp_path / "no-map.csv")
    conf = confrontation_class("site_response")("x", ["srdb-v5-data"], {})
    with pytest.raises(SoilbenchError, match="MAP") as err:
        conf.confront(reproducing_model(sites))
    assert "no-map.csv" in str(err.value) and "\n" not in str(err.value)


def test_options_are_checked():
    kind = confrontation_class("site_response")
    with pytest.raises(ConfigError, match="responses"):
        kind("x", ["srdb-v5-data"], {"responses": ["npp"]})
    with pytest.raises(ConfigError, match="mat_range_degC"):
        kind("x", ["srdb-v5-data"], {"mat_range_degC": [10.0, 0.0]})
    with pytest.raises(ConfigError, match="min_records_per_bin"):
        kind("x", ["srdb-v5-data"], {"min_records_per_bin": 1})
    with pytest.raises(ConfigError, match="swc_range_pct") as err:
        kind("x", ["srdb-v5-data"], {"swc_bin_width_pct": 0})
    assert err.value.variable == "options.swc_range_pct"
    with pytest.raises(ConfigError, match="window_days"):
        kind("x", ["srdb-v5-data"], {"window_days": True})
    with pytest.raises(ConfigError, match="max_distance_km"):
        kind("x", ["srdb-v5-data"], {"max_distance_km": -1})
    with pytest.raises(ConfigError, match="rs_from_rh"):
        kind("x", ["srdb-v5-data"], {"rs_from_rh": "guess"})


# ---------------------------------------------------------------------------------------------
# MGRhD: known Q10 per study, observed and modelled

def soil_temperature(doy: np.ndarray) -> np.ndarray:
    return 10.0 + 12.0 * np.cos(2 * np.pi * (np.asarray(doy, float) - 200) / 365.0)


def mgrhd_table() -> pd.DataFrame:
    """Six studies on distinct cells, Rh = 0.5 · Q10^(Tsoil/10) with Q10 = 2 exactly; a seventh
    with a soil temperature range under 5 °C (no fit)."""
    rows = []
    places = [(42.5, 12.5), (47.5, 7.5), (52.5, 17.5), (37.5, -2.5), (62.5, 27.5), (32.5, 102.5), (22.5, 82.5)]
    for study, (lat, lon) in enumerate(places, start=1):
        for doy in range(10, 365, 15):
            t = soil_temperature(doy) if study < 7 else 20.0 + 0.1 * np.sin(doy)
            rows.append({"Study_number": study, "Site_ID": f"M{study}", "Meas_Year": 2001, "Meas_Month": "NA",
                         "Meas_DOY": doy, "Latitude": lat, "Longitude": lon, "Manipulation": "None",
                         "Meas_method": "IRGA", "Rh_Norm": round(0.5 * OBSERVED_Q10 ** (t / 10), 8),
                         "Tsoil": round(float(t), 6), "TsDepth": 5, "SWC": 25.0})
    return pd.DataFrame(rows, columns=MGRHD_COLUMNS)


def daily_model_with_tsl(q10: float, with_tsl: bool = True) -> xr.Dataset:
    """Daily noleap model over 2000–2002: tsl follows the season, Rh = 0.5·365·q10^(tsl/10)."""
    times = [cftime.datetime(2000, 1, 1, calendar="noleap") + datetime.timedelta(days=d) for d in range(3 * 365)]
    doy = np.array([t.dayofyr for t in times])
    tsl = np.broadcast_to(soil_temperature(doy)[:, None, None], (len(times), LAT.size, LON.size))
    rh = 0.5 * 365.0 * q10 ** (tsl / 10)
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rh, {"units": "g m-2 yr-1", "calendar": "noleap"}),
         "cell_area": (("lat", "lon"), np.ones((LAT.size, LON.size))),
         "land_fraction": (("lat", "lon"), np.ones((LAT.size, LON.size)))},
        coords={"time": times, "lat": LAT, "lon": LON, "step_days": ("time", np.ones(len(times)))},
        attrs={"model": f"q10-{q10:g}", "calendar": "noleap", "period": "2000-2002"})
    if with_tsl:
        ds["tsl"] = (("time", "lat", "lon"), tsl.copy(), {"units": "degC"})
    return ds


@pytest.fixture
def with_mgrhd(srdb, tmp_path):
    _, files = srdb
    files["mgrhd"] = write_csv(mgrhd_table(), tmp_path / "mgrhd.csv")
    # 168 observations: with the default 30 per bin the daily Tsoil curve would have no scored bin
    return confrontation_class("site_response")("rh-climate-response", ["srdb-v5-data", "mgrhd"],
                                                {"responses": ["rh"], "min_observations_per_bin": 5})


def test_known_q10_per_study_observed_and_modelled(with_mgrhd):
    result = with_mgrhd.confront(daily_model_with_tsl(3.0))
    studies = result.tables["study_q10"].set_index("study")
    assert list(studies.index) == [1, 2, 3, 4, 5, 6]  # study 7 spans under 5 °C: no fit
    np.testing.assert_allclose(studies["q10_observed"], OBSERVED_Q10, rtol=1e-6)
    np.testing.assert_allclose(studies["q10_modelled"], 3.0, rtol=1e-4)
    value = result.scalars.set_index("name")["value"]
    assert value["MGRhD Q10 score"] == pytest.approx(np.exp(-abs(np.log(3.0) - np.log(2.0)) / np.log(2.0)), rel=1e-4)
    assert value["Mann-Whitney p"] < 0.01
    # the table's SWC is one value (one bin): that curve has no shape to score, so it is n/a
    assert value["n score components missing"] == 1
    assert any("MGRhD Rh vs SWC score: n/a" in note and "flat" in note for note in result.notes)
    assert result.table_meta["q10_distribution"]["plot"] == "histogram"
    assert result.table_meta["q10_distribution"]["columns"] == ["observed", "modelled"]
    # a model with the observed Q10 scores 1, one without any temperature response e⁻¹, zero Rh 0
    assert scores_of(with_mgrhd.confront(daily_model_with_tsl(OBSERVED_Q10)))["MGRhD Q10 score"] == pytest.approx(1.0)
    assert scores_of(with_mgrhd.confront(daily_model_with_tsl(1.0)))["MGRhD Q10 score"] == pytest.approx(np.exp(-1))
    zero = daily_model_with_tsl(2.0)
    zero["rh"] = zero["rh"] * 0.0
    assert scores_of(with_mgrhd.confront(zero))["MGRhD Q10 score"] == 0.0


def test_model_without_soil_temperature_is_na_with_its_reason(with_mgrhd):
    result = with_mgrhd.confront(daily_model_with_tsl(3.0, with_tsl=False))
    value = result.scalars.set_index("name")["value"]
    assert np.isnan(value["MGRhD Q10 score"])
    assert value["n score components missing"] == 2  # the Q10 and the flat SWC curve
    assert any("MGRhD Q10 score: n/a" in note and "tsl" in note for note in result.notes)
    assert result.tables["study_q10"]["q10_observed"].notna().sum() == 6
    assert result.table_meta["q10_distribution"]["columns"] == ["observed"]


def test_a_table_without_soil_temperature_has_no_q10_score_and_says_why(srdb, tmp_path):
    _, files = srdb
    files["mgrhd"] = write_csv(mgrhd_table().drop(columns=["Tsoil"]), tmp_path / "mgrhd-no-tsoil.csv")
    conf = confrontation_class("site_response")("x", ["srdb-v5-data", "mgrhd"], {"responses": ["rh"]})
    result = conf.confront(daily_model_with_tsl(3.0))
    assert np.isnan(scores_of(result)["MGRhD Q10 score"])
    assert any("MGRhD Q10 score: n/a, no MGRhD study" in note for note in result.notes)


# ---------------------------------------------------------------------------------------------
# real data: the testbed models

needs_data = pytest.mark.skipif(
    not all((DATA / p).exists() for p in ("srdb-v5/srdb-data.csv", "mgrhd/MGRhD.csv",
                                          "testbed/casaclm_pool_flux_2000-2010_mean.nc")),
    reason="the real data directory (../shared/data) lacks SRDB, MGRhD or the testbed files")


@needs_data
def test_testbed_models_on_real_data():
    from soilbench.load import load_model

    conf = confrontation_class("site_response")("rh-climate-response", ["srdb-v5-data", "mgrhd"],
                                                {"responses": ["rh"]}, data_dir=DATA)
    reasons, overall = {}, {}
    for name in ("casaclm", "mimics"):
        model = load_model(DATA / "testbed" / f"{name}_pool_flux_2000-2010_mean.nc", quantities=conf.model_quantities())
        result = conf.confront(model)
        rows = result.scalars[result.scalars["name"] == "overall score"]
        assert len(rows) == 1
        overall[name] = float(rows["value"].iloc[0])
        reasons[name] = " ".join(n for n in result.notes if "MGRhD Q10 score: n/a" in n)
        studies = result.tables["study_q10"]
        assert len(studies) > 100 and 1.5 < studies["q10_observed"].median() < 4
        if name == "casaclm":  # the null models of this field: constant in space, and zero
            constant = model.copy()
            constant["rh"] = model["rh"].where(model["rh"].isnull(), float(model["rh"].mean()))
            zero = model.copy()
            zero["rh"] = model["rh"] * 0.0
            null_constant = scores_of(conf.confront(constant))["overall score"]
            null_zero = scores_of(conf.confront(zero))["overall score"]
    assert "period mean" in reasons["casaclm"]  # CASA has a soil temperature, but one value per site
    assert "no soil temperature" in reasons["mimics"]
    assert null_zero <= 0.1
    assert null_constant <= 0.5
    assert all(0 <= v <= 1 for v in overall.values())


def test_tsl_is_read_in_degc_from_its_top_layer(tmp_path):
    """CMOR tsl (K, per depth) becomes the canonical tsl in °C from the shallowest layer; the
    testbed's "degrees C" is read as Celsius, not as degrees (angle) times coulombs."""
    from soilbench.load import load_model

    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 20.0])
    depth = np.array([0.5, 0.05, 1.5])  # unsorted on purpose: the top layer is the smallest depth
    tsl = np.stack([np.full((2, 2), 283.15), np.full((2, 2), 293.15), np.full((2, 2), 273.15)])
    ds = xr.Dataset({"tsl": (("depth", "lat", "lon"), tsl, {"units": "K"}),
                     "rh": (("lat", "lon"), np.full((2, 2), 1e-8), {"units": "kg m-2 s-1"})},
                    coords={"depth": depth, "lat": lat, "lon": lon})
    ds.to_netcdf(tmp_path / "cmor_2000-2010.nc")
    model = load_model(tmp_path / "cmor_2000-2010.nc")
    assert model["tsl"].attrs["units"] == "degC"
    np.testing.assert_allclose(model["tsl"].values, 20.0)
    ds = xr.Dataset({"tsoilC": (("lat", "lon"), np.full((2, 2), 12.5), {"units": "degrees C"}),
                     "cresp": (("lat", "lon"), np.ones((2, 2)), {"units": "gC m-2 day-1"})},
                    coords={"lat": lat, "lon": lon})
    ds.to_netcdf(tmp_path / "testbed_2000-2010.nc")
    np.testing.assert_allclose(load_model(tmp_path / "testbed_2000-2010.nc")["tsl"].values, 12.5)


def test_reductions_are_shared_with_the_site_confrontations_and_give_the_same_result(with_mgrhd, srdb,
                                                                                       monkeypatch):
    """A model with a time axis: the SRDB and MGRhD Rh series are the keys srdb_annual and daily_rh
    ask for (one read in a run), and a result from the runner's reductions equals one computed alone."""
    _, files = srdb
    monkeypatch.setattr("soilbench.confrontations.sites._fetch", lambda dataset_id, data_dir: files[dataset_id])
    model = daily_model_with_tsl(3.0)
    mine = with_mgrhd.model_reductions(model)
    for kind, reference in (("srdb_annual", "srdb-v5-data"), ("daily_rh", "mgrhd")):
        theirs = confrontation_class(kind)("other", [reference], {"climate_map": None}).model_reductions(model)
        assert theirs and set(theirs) <= set(mine), kind
    assert any(key[0] == "series_at_cells" and key[1] == "tsl" for key in mine)
    alone = with_mgrhd.confront(model)
    shared = with_mgrhd.confront(model, reductions=with_mgrhd.reduced(model))
    pd.testing.assert_frame_equal(alone.scalars, shared.scalars)


def test_the_report_draws_a_response_table(srdb):
    """The `response` plot kind is chosen per model and drawn as a PNG (one panel per curve)."""
    from soilbench.report import figure_choice

    sites, _ = srdb
    result = confrontation_class("site_response")("x", ["srdb-v5-data"], {}).confront(reproducing_model(sites))
    choices = figure_choice.model_choices(figure_choice.ModelResult("oracle", None, result), {})
    drawn = [c for c in choices if c.kind == "response"]
    assert [c.name for c in drawn] == ["binned_responses"]
    assert drawn[0].draw().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------
# MGRhD: daily Rh binned on the observed soil temperature and water content

def mgrhd_curves_table() -> pd.DataFrame:
    """The six fitted studies of ``mgrhd_table``, with a soil water content falling as the soil
    warms (SWC = 40 − Tsoil %), so both drivers span several bins."""
    table = mgrhd_table()
    table = table[table["Study_number"] < 7].copy()
    table["SWC"] = (40.0 - table["Tsoil"]).round(4)
    return table


@pytest.fixture
def with_mgrhd_curves(srdb, tmp_path):
    _, files = srdb
    files["mgrhd"] = write_csv(mgrhd_curves_table(), tmp_path / "mgrhd-curves.csv")
    return confrontation_class("site_response")("rh-climate-response", ["srdb-v5-data", "mgrhd"],
                                                {"responses": ["rh"], "min_observations_per_bin": 5})


def test_daily_rh_binned_on_observed_soil_temperature_and_water_content(with_mgrhd_curves):
    """Model Rh = 0.5·365·2^(tsl/10) with tsl on each date equal to the observed Tsoil reproduces
    every observation: both curves score 1; × k moves only the level, exp(−|ln k| / ln 2); the
    ladders fall strictly; zero scores 0; a model flat in time and space scores at most e⁻¹."""
    conf = with_mgrhd_curves
    names = ("MGRhD Rh vs Tsoil score", "MGRhD Rh vs SWC score")
    reference = conf.confront(daily_model_with_tsl(OBSERVED_Q10))
    parts = scores_of(reference)
    for name in names:
        assert parts[name] == pytest.approx(1.0, abs=1e-6)
    curves = reference.tables["mgrhd_binned_responses"]
    assert reference.table_meta["mgrhd_binned_responses"]["plot"] == "response"
    assert set(curves["group"]) == {"daily Rh vs Tsoil", "daily Rh vs SWC"}
    scored = curves[curves["scored"]]
    np.testing.assert_allclose(scored["modelled"], scored["observed"], rtol=1e-5)
    # the observed Tsoil bin means are the mean of 0.5·2^(T/10) over the dates in the bin
    table = mgrhd_curves_table()
    in_bin = (table["Tsoil"] >= 10.0) & (table["Tsoil"] < 12.5)
    row = curves[(curves["group"] == "daily Rh vs Tsoil") & (curves["bin_lower"] == 10.0)].iloc[0]
    assert row["observed"] == pytest.approx(table.loc[in_bin, "Rh_Norm"].mean(), rel=1e-6)
    assert row["n"] == in_bin.sum()

    def curve_scores(k):
        model = daily_model_with_tsl(OBSERVED_Q10)
        model["rh"] = model["rh"] * k
        return scores_of(conf.confront(model))

    doubled = curve_scores(2.0)
    for name in names:
        assert doubled[name.replace(" score", " level score")] == pytest.approx(np.exp(-1), rel=1e-5)
        assert doubled[name.replace(" score", " shape score")] == pytest.approx(1.0, abs=1e-6)
        for ladder in ([1.1, 1.3, 2.0], [1 / 1.1, 1 / 1.3, 0.5]):
            values = [parts[name]] + [curve_scores(k)[name] for k in ladder]
            assert all(a > b for a, b in zip(values, values[1:])), (name, values)
        assert curve_scores(0.0)[name] == 0.0
    flat = scores_of(conf.confront(daily_model_with_tsl(1.0)))  # no temperature response at all
    for name in names:
        assert flat[name] <= np.exp(-1) + 1e-9
