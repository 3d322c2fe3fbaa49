"""The global_series confrontation on series whose answers are known, its n/a reasons, and models
given as CSV series of annual global totals (loader guards, and a run with the CMIP6 table as models)."""

from pathlib import Path

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import timeseries as ts
from soilbench.errors import SoilbenchError
from soilbench.load import seriesmodel

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")
MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], float)


def orthogonal_noise(years, sd, seed=1):
    noise = np.random.default_rng(seed).normal(size=years.size)
    design = np.column_stack([np.ones(years.size), years.astype(float)])
    noise -= design @ np.linalg.lstsq(design, noise, rcond=None)[0]
    return noise * sd / noise.std(ddof=1)


def monthly_model(years=np.arange(1980, 2011), tas=True, amplitude=0.3):
    """A canonical monthly model (noleap) whose global Rh is 20 + 2 T (Pg C yr-1), T the land-mean
    tas = 15 + 0.05 (y - 1980) + orthogonal noise (SD 0.25): trend 0.1, IAV 0.5, sensitivity 2.0;
    each year's months follow 1 + amplitude cos(2π (m - 7) / 12), scaled so the year's total is exact."""
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 90.0])
    area = xr.DataArray(np.full((2, 2), 1e12), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    temperature = 15 + 0.05 * (years - 1980) + orthogonal_noise(years, 0.25)
    rh_pg = 20 + 2.0 * temperature
    shape = 1 + amplitude * np.cos(2 * np.pi * (np.arange(1, 13) - 7) / 12)
    weights = shape / (np.sum(shape * MONTH_DAYS) / 365)
    times = [cftime.DatetimeNoLeap(int(y), m, 15) for y in years for m in range(1, 13)]
    rate = np.concatenate([r * weights for r in rh_pg]) * 1e15 / 4e12  # g m-2 yr-1 on each of 4 cells
    dims, coords = ("time", "lat", "lon"), {"time": times, "lat": lat, "lon": lon}
    ds = xr.Dataset({"rh": xr.DataArray(np.broadcast_to(rate[:, None, None], (rate.size, 2, 2)).copy(), dims=dims,
                                        coords=coords, attrs={"units": "g m-2 yr-1"}),
                     "cell_area": area, "land_fraction": xr.ones_like(area)})
    if tas:
        t = np.repeat(temperature, 12)
        ds["tas"] = xr.DataArray(np.broadcast_to(t[:, None, None], (t.size, 2, 2)).copy(), dims=dims, coords=coords,
                                 attrs={"units": "degC"})
    ds = ds.assign_coords(step_days=("time", np.tile(MONTH_DAYS, years.size)))
    ds.attrs = {"model": "oracle", "calendar": "noleap"}
    return ds, pd.Series(rh_pg, index=years)


def confrontation(references=("hashimoto2015-rh", "tang2020-rh", "cmip6-rh-global"), **options):
    from soilbench.confrontations.series import GlobalSeries

    return GlobalSeries("rh-global-series", list(references), options, data_dir=str(SHARED_DATA))


def pick(scalars, name, analysis=None, reference=""):
    rows = scalars[(scalars["name"] == name) & (scalars["reference"].fillna("") == reference)]
    if analysis:
        rows = rows[rows["analysis"] == analysis]
    assert len(rows) == 1, (name, reference)
    return float(rows["value"].iloc[0])


@needs_data
def test_oracle_trend_variability_sensitivity_and_seasonal_cycle():
    model, _ = monthly_model()
    result = confrontation().confront(model)
    s = result.scalars
    assert pick(s, "trend", "model") == pytest.approx(0.1, rel=1e-9)
    assert pick(s, "interannual variability", "model") == pytest.approx(0.5, rel=1e-9)
    assert pick(s, "sensitivity", "temperature sensitivity") == pytest.approx(2.0, rel=1e-9)
    assert pick(s, "temperature sensitivity score") == 1.0  # inside 1.9*0.54 .. 5.0*0.63
    # the cycle in Pg C per month: peak in July; the lowest month is February (28 days, next to
    # January's lowest rate): both where [003] puts them, so the timing score is 1
    assert pick(s, "peak month", "seasonal cycle") == 7 and pick(s, "low month", "seasonal cycle") == 2
    assert pick(s, "timing score", "seasonal cycle") == 1.0
    july_rate = model["rh"].isel(lat=0, lon=0).values[6::12]  # g m-2 yr-1 on each of four 1e12 m2 cells
    assert pick(s, "peak", "seasonal cycle") == pytest.approx(np.mean(july_rate) * 4e12 / 1e15 * 31 / 365, rel=1e-9)
    assert (s["name"] == "overall score").sum() == 1
    assert {"trends", "temperature_sensitivity", "seasonal_cycle"} <= set(result.tables)
    series = result.fields["rh_model"]
    assert series.attrs["plot"] == "series" and series.attrs["trend_slope"] == pytest.approx(0.1, rel=1e-9)
    band = result.fields["cmip6_rh_global_median"]
    assert band.attrs["lower"] in result.fields and band.attrs["upper"] in result.fields


@needs_data
def test_the_reference_itself_scores_one_and_scaling_lowers_it():
    tang = ts.as_annual_series(pd.read_csv(SHARED_DATA / "testbed" / "tang2020_rh.txt", comment="#", header=None,
                                           names=["year", "rh"]).set_index("year")["rh"])
    c = confrontation(references=("tang2020-rh",))
    overall = {}
    for factor in (1.0, 1.1, 1.3, 2.0):
        model = seriesmodel.series_dataset(tang * factor, f"x{factor}", "test")
        s = c.confront(model).scalars
        overall[factor] = pick(s, "overall score")
        if factor == 1.0:
            for name in ("mean score", "trend score", "variability score", "anomaly correlation score"):
                assert pick(s, name, reference="tang2020-rh") == pytest.approx(1.0)
    assert overall[1.0] == pytest.approx(1.0)
    assert overall[1.0] > overall[1.1] > overall[1.3] > overall[2.0]
    # a series without the trend: its trend scores exp(-b / h) against the reference
    detrended = ts.detrended(tang.loc[1980:2010]) + tang.loc[1980:2010].mean()
    s = c.confront(seriesmodel.series_dataset(detrended, "detrended", "test")).scalars
    fit = ts.linear_trend(tang, 1980, 2010)
    assert pick(s, "trend score", reference="tang2020-rh") == pytest.approx(
        np.exp(-fit.slope / ((fit.upper - fit.lower) / 2)), rel=1e-6)


@needs_data
def test_not_applicable_reasons():
    c = confrontation()
    model, _ = monthly_model()
    climatology = model.isel(time=0).drop_vars(["time", "step_days"])
    assert "climatology" in c.applicable_to(climatology, {"rh"})
    short, _ = monthly_model(years=np.arange(2001, 2006))
    assert "5 complete year(s)" in c.applicable_to(short, {"rh", "tas"})
    assert "provides no rh" in c.applicable_to(model.drop_vars("rh"), {"tas"})
    with pytest.raises(SoilbenchError, match="does not apply"):
        c.confront(short)
    # a series model is n/a on a gridded type, with the reason
    from soilbench.confrontations import confrontation_class

    series = seriesmodel.series_dataset(pd.Series(np.arange(20.0) + 50, index=range(1990, 2010)), "s", "test")
    taylor = confrontation_class("taylor")("rh-taylor", ["cardamom-rh"], {"quantity": "rh"})
    assert "annual global totals only" in taylor.applicable_to(series, set())
    assert c.applicable_to(series, set()) is None


# -- models given as series --------------------------------------------------------------------
def write(tmp_path, text, name="model.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_single_series_file_in_any_mass_per_time(tmp_path):
    path = write(tmp_path, "year,value,units\n1990,5.0e16,g yr-1\n1991,5.1e16,g yr-1\n1993,5.2e16,g yr-1\n",
                 "MYMODEL.csv")
    models = seriesmodel.read_series_models(path)
    assert list(models) == ["MYMODEL"]
    assert models["MYMODEL"].index.tolist() == [1990, 1991, 1993]
    assert models["MYMODEL"].to_numpy() == pytest.approx([50.0, 51.0, 52.0], rel=1e-12)
    ds = seriesmodel.load_series_model(path, "MYMODEL", period=(1991, 2000))
    assert seriesmodel.is_global_series(ds)
    assert ds[seriesmodel.SERIES_VARIABLE].values == pytest.approx([51.0, 52.0], rel=1e-12)


@pytest.mark.parametrize("text, match", [
    ("year,value\n1990,50\n", r"missing column\(s\) \['units'\]"),
    ("year,value,units\n1990,50,\n", "one unit"),
    ("year,value,units\n1990,50,Pg yr-1\n1991,51,g yr-1\n", "one unit"),
    ("year,value,units\n1990,50,kg m-2 s-1\n", "not a mass per time"),
    ("year,value,units\n1990,50,Pg yr-1\n1991,abc,Pg yr-1\n", "line 3: value 'abc' is not a number"),
    ("year,value,units\n1990,50,Pg yr-1\n1990,51,Pg yr-1\n", "line 3: year 1990 does not follow 1990"),
    ("year,value,units\n1991,50,Pg yr-1\n1990,51,Pg yr-1\n", "line 3: year 1990 does not follow 1991"),
    ("year,value,units\n1990.5,50,Pg yr-1\n", "line 2: year is not a whole number"),
    ("year,value,units,variable\n1990,50,Pg yr-1,npp\n", r"variable\(s\) \['npp'\]"),
    ("", "is empty"),
])
def test_series_file_guards(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(SoilbenchError, match=match) as err:
        seriesmodel.read_series_models(path)
    assert "model.csv" in str(err.value) and "\n" not in str(err.value)


def test_ensemble_table_gives_one_model_per_member(tmp_path):
    rows = ["year,variable,experiment,ensemble,model,units,value"]
    for year in (2000, 2001, 2002):
        for model, member, value in (("A", "r1i1p1f1", 4e16), ("A", "r2i1p1f1", 4.1e16), ("B", "r1i1p1f1", 6e16)):
            rows.append(f"{year},rh,historical,{member},{model},g yr-1,{value}")
        rows.append(f"{year},npp,historical,r1i1p1f1,A,g yr-1,1e17")
    path = write(tmp_path, "\n".join(rows) + "\n")
    models = seriesmodel.read_series_models(path)
    assert sorted(models) == ["A r1i1p1f1", "A r2i1p1f1", "B r1i1p1f1"]
    assert models["B r1i1p1f1"].to_numpy() == pytest.approx([60.0, 60.0, 60.0], rel=1e-12)


def test_resolve_models_reads_series_files(tmp_path):
    from soilbench.runner.models import resolve_models

    path = write(tmp_path, "year,value,units\n1990,50,Pg C yr-1\n1991,51,Pg C yr-1\n", "M1.csv")
    (spec,) = resolve_models([str(path)])
    assert spec.series and spec.name == "M1" and spec.load().attrs["global_series"] == 1
    bad = write(tmp_path, "year,value\n1990,50\n", "bad.csv")
    with pytest.raises(SoilbenchError, match="bad.csv"):
        resolve_models([str(bad)])


@needs_data
@pytest.mark.slow
def test_cmip6_table_scored_as_models(tmp_path):
    """Two CMIP6 members (a subset of the registered table) as models: global_series scores them,
    the other confrontations of the definition say n/a with the reason."""
    from soilbench import cli

    table = pd.read_csv(SHARED_DATA / "cmip6-global" / "rh_global_1980-2015.csv")
    subset = table[(table["model"].isin(["CESM2", "NorESM2-LM"])) & (table["ensemble"] == "r1i1p1f1")]
    models = tmp_path / "cmip6_subset.csv"
    subset.to_csv(models, index=False)
    config = tmp_path / "definition.yaml"
    config.write_text("name: series-models\nconfrontations:\n"
                      "  - {name: rh-global-series, type: global_series, references: [tang2020-rh, cmip6-rh-global]}\n"
                      "  - {name: rh-global-totals, type: global_totals, references: [cardamom-rh], "
                      "options: {quantity: rh}}\n", encoding="utf-8")
    out = tmp_path / "out"
    code = cli.main(["run", "--config", str(config), "--models", str(models), "--out", str(out), "--workers", "0",
                     "--data-dir", str(SHARED_DATA), "--no-report", "--quiet"])
    assert code == 0
    status = pd.read_csv(out / "status.csv")
    assert set(status.loc[status["confrontation"] == "rh-global-series", "status"]) == {"ok"}
    totals = status[(status["confrontation"] == "rh-global-totals") & (status["model"] != "references")]
    assert set(totals["status"]) == {"not_applicable"} and len(totals) == 2
    scalars = pd.read_csv(out / "scalars.csv")
    cesm = scalars[(scalars["model"] == "CESM2 r1i1p1f1") & (scalars["analysis"] == "model")]
    expected = subset[subset["model"] == "CESM2"].set_index("year")["value"].loc[1980:2010] / 1e15
    assert float(cesm.loc[cesm["name"] == "trend", "value"].iloc[0]) == pytest.approx(
        np.polyfit(expected.index, expected.to_numpy(), 1)[0], rel=1e-9)


@needs_data
@pytest.mark.slow
def test_score_validity_series_family(tmp_path):
    """The series family of the score-validity suite (controlled series of Tang 2020 as series
    models, through soilbench run): reference 1, ladders falling, nulls low (docs/series.md)."""
    import importlib.util
    import sys

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("score_validity", root / "benchmarks" / "score_validity.py")
    module = sys.modules.get("score_validity")
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["score_validity"] = module
        spec.loader.exec_module(module)
    table, families, failures = module.run_suite(tmp_path, str(SHARED_DATA), families_only={"series"}, real_models=[])
    assert failures == []
    assert table.at["series-reference", "series: overall"] >= 0.95
    assert table.at["series-detrended", "series: trend"] <= 0.5
    assert table.at["series-shuffled", "series: anomaly r"] <= 0.5
    assert table.at["series-zero", "series: overall"] <= 0.1


def test_report_draws_saved_trend_lines_and_published_points():
    from matplotlib.figure import Figure

    from soilbench.report import plots

    ax = Figure().add_subplot()
    plots._trend_line(ax, {"trend_slope": 0.1, "trend_intercept": -150.0, "trend_first": 1980, "trend_last": 2010},
                      "#123456")
    (line,) = ax.lines
    assert list(line.get_xdata()) == [1980.0, 2010.0]
    assert list(line.get_ydata()) == pytest.approx([48.0, 51.0])
    plots._trend_line(ax, {"plot": "series"}, "#123456")  # no trend saved: nothing drawn
    assert len(ax.lines) == 1
    rows = pd.DataFrame({"group": "global Rh", "doy": [16, 45, 197], "observed": [np.nan, 3.0, 5.0],
                         "observed_lower": [np.nan, 2.2, 4.3], "observed_upper": [np.nan, 3.8, 5.7],
                         "modelled": [4.0, 3.5, 4.5]})
    ax = Figure().add_subplot()
    plots._seasonal_panel(ax, rows, "global Rh", {"observed_style": "points", "observed_label": "[003]"}, "#123456")
    assert len(ax.containers) == 1  # the published values as points with their ranges
    assert [l.get_label() for l in ax.lines if not l.get_label().startswith("_")] == ["modelled"]
    assert ax.get_ylim()[0] < 2.2 and ax.get_ylim()[1] > 5.7  # the whole published range is shown


@pytest.mark.parametrize("option, value, problem", [
    ("period", [2010, 1980], "must be [first_year, last_year]"),
    ("period", [1980.5, 2010], "must be [first_year, last_year]"),
    ("min_years", ts.MIN_YEARS - 1, f"must be an integer >= {ts.MIN_YEARS}"),
    ("min_years", True, f"must be an integer >= {ts.MIN_YEARS}"),
    ("rh_share_of_rs", [0.8, 0.6], "0 < lower <= upper <= 1"),
    ("rh_share_of_rs", [0.0, 0.6], "0 < lower <= upper <= 1"),
])
def test_bad_option_values_are_config_errors_naming_the_option(option, value, problem):
    from soilbench.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        confrontation(**{option: value})
    message = str(caught.value)
    assert f"options.{option}" in message and f"option {option} must be" in message and problem in message
    assert "rh-global-series" in message


def test_options_are_the_typed_definition():
    from soilbench.confrontations.series import GlobalSeries, GlobalSeriesOptions

    c = confrontation(min_years=12)
    assert isinstance(c.settings, GlobalSeriesOptions) and c.settings.min_years == 12
    assert GlobalSeries.option_defaults == {"period": [1980, 2010], "min_years": 10,
                                            "rh_share_of_rs": list(ts.RH_SHARE_OF_RS)}
