"""Gridded confrontation classes on synthetic canonical datasets (no data files needed)."""

import math

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import soilbench.load
import soilbench.regions
from soilbench.analysis import integrate
from soilbench.confrontations import confrontation_class
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.load import series
from soilbench.results import SCALAR_COLUMNS, load_result
from test_gridded_analysis import canonical

NO_KOPPEN = {"regions": ["latitude_bands"]}


def smooth_rh(res_deg: float, scale: float = 1.0) -> np.ndarray:
    lat = np.arange(-90 + res_deg / 2, 90, res_deg)
    lon = np.arange(-180 + res_deg / 2, 180, res_deg)
    field = scale * (600 * np.cos(np.radians(lat))[:, None] + 50 * np.sin(np.radians(lon))[None, :] + 100)
    field[lat < -60] = np.nan  # no soil in Antarctica
    return field


@pytest.fixture
def products(monkeypatch):
    """Two synthetic gridded rh products on a 4° grid, served by load_reference."""
    refs = {
        "prod-a": canonical(smooth_rh(4.0), 4.0),
        "prod-b": canonical(smooth_rh(4.0, 1.1), 4.0),
    }
    for ident, ds in refs.items():
        ds.attrs.update(model=ident, reference=ident, period="2001-2010", climatology=1)
    monkeypatch.setattr("soilbench.load.reference.gridded_reference_ids", lambda ids=tuple(refs): ids)
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: refs[ident].copy())
    return refs


def make(kind, references, **options):
    return confrontation_class(kind)(f"rh-{kind}", references, {**NO_KOPPEN, **options})


def overall(result):
    rows = result.scalars.query("analysis == 'overall' and name == 'overall score'")
    assert len(rows) == 1 and rows["region"].iloc[0] == "global"
    return float(rows["value"].iloc[0])


def test_global_totals_against_products_and_literature(products, tmp_path):
    conf = make("global_totals", ["prod-a", "prod-b", "literature-rh"])
    conf.stage_data()
    model = canonical(smooth_rh(2.0, 1.05), 2.0)
    model.attrs["model"] = "M"
    result = conf.confront(model)
    s = result.scalars
    assert list(s.columns) == SCALAR_COLUMNS
    expected = float(integrate.period_total(model, "rh"))
    total = s.query("name == 'total' and region == 'global'")["value"].iloc[0]
    assert total == pytest.approx(expected)
    # σ is the sample SD of the point estimates: two products + data-driven literature best values
    table = series.read_literature_table(series.literature_path("rh"))
    point = table.query("category == 'data-driven' and not value_is_midpoint")["value"].tolist()
    product_totals = [float(integrate.period_total(products[p], "rh")) for p in ("prod-a", "prod-b")]
    sigma = np.std(point + product_totals, ddof=1)
    assert s.query("name == 'spread of estimates'")["value"].iloc[0] == pytest.approx(sigma)
    score_a = s.query("reference == 'prod-a' and name == 'total score' and region == 'global'")["value"].iloc[0]
    # against a gridded product: both totals on the land both have (here all of it), σ relative
    on_common = s.query("reference == 'prod-a' and region == 'global' and analysis == 'global total'")
    model_common = on_common.query("name == 'model total on common cells'")["value"].iloc[0]
    product_common = on_common.query("name == 'reference total on common cells'")["value"].iloc[0]
    assert model_common == pytest.approx(expected, rel=1e-9)
    # the product's 4° cell centred on 60°S is only half covered by the model's land
    assert 0.99 * product_totals[0] < product_common < product_totals[0]
    relative_sigma = sigma / np.mean(point + product_totals)
    assert score_a == pytest.approx(math.exp(-abs(model_common - product_common) / (relative_sigma * product_common)))
    assert 0 < overall(result) <= 1
    bars = result.tables["global_totals"]
    assert {"label", "role", "value", "lower", "upper", "units"} <= set(bars.columns)
    assert set(bars["role"]) == {"model", "reference", "literature"}
    regional = result.tables["regional_totals"]
    assert set(regional["region"]) >= {"global", "lat_-30_0", "lat_60_90"}
    assert result.table_meta["global_totals"]["plot"] == "bars"
    # the result survives the round trip through disk
    result.save(tmp_path / "r", {"model": "M"})
    meta, back = load_result(tmp_path / "r")
    assert meta["tables"]["global_totals"]["plot"] == "bars"
    np.testing.assert_allclose(back.scalars["value"], s["value"], equal_nan=True)
    assert list(back.scalars["name"]) == list(s["name"])
    refs = conf.confront_references()
    assert refs.scalars.query("name == 'coefficient of variation across products'").shape[0] >= 1


def test_model_equal_to_a_product_scores_one_against_it(products):
    conf = make("global_totals", ["prod-a", "prod-b"])
    conf.stage_data()
    model = products["prod-a"].copy()
    model.attrs["model"] = "copy of a"
    s = conf.confront(model).scalars
    assert s.query("reference == 'prod-a' and name == 'total score'")["value"].min() == pytest.approx(1.0)


def test_rs_not_applicable_for_a_model_with_only_rh(products):
    conf = make("global_totals", ["literature-rs"], quantity="rs")
    conf.stage_data()
    assert conf.group == "SR"
    model = canonical(smooth_rh(4.0), 4.0)
    # one way to say it: applicable() gives the reason (the runner then never calls confront) ...
    assert conf.applicable({"rh"}) == "the model provides no rs (it provides: rh)"
    assert conf.applicable({"rh", "ra_root"}) is None
    # ... and confronting such a model anyway is an error, not a result with a NaN score
    with pytest.raises(SoilbenchError, match="does not apply: not applicable: the model provides no rs"):
        conf.confront(model)
    # rh + ra_root is soil respiration
    with_root = model.assign(ra_root=model["rh"] * 0.7)
    result = conf.confront(with_root)
    total = result.scalars.query("name == 'total' and region == 'global'")["value"].iloc[0]
    assert total == pytest.approx(1.7 * float(integrate.period_total(model, "rh")))
    assert any("rh + ra_root" in n for n in result.notes)


def constant_rc(value: float, res_deg: float = 2.0) -> xr.Dataset:
    """A root-contribution map (as load_reference gives it) with one RC everywhere but Antarctica."""
    rc = np.where(np.isnan(smooth_rh(res_deg)), np.nan, value)
    ds = canonical(rc, res_deg, name="rc", land_fraction=np.isfinite(rc).astype(float))
    ds["rc"].attrs = {"units": "1"}
    return ds


@pytest.fixture
def with_rc(products, monkeypatch):
    """The products plus a root-contribution map of RC = 0.25 (so Rs = Rh / 0.75)."""
    refs = {**products, "root-contribution": constant_rc(0.25)}
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: refs[ident].copy())
    return refs


def test_rs_from_rh_with_the_root_contribution_map(with_rc):
    from soilbench.runner.core import data_ids

    conf = make("global_totals", ["literature-rs"], quantity="rs", rs_from_rh="root_contribution")
    assert conf.auxiliary_data == ["root-contribution"] and "root-contribution" in data_ids(conf)
    conf.stage_data()
    model = monthly_model(2001, 3)  # Rh only, with a time axis
    result = conf.confront(model)
    total = result.scalars.query("name == 'total' and region == 'global'")["value"].iloc[0]
    assert total == pytest.approx(float(integrate.period_total(model, "rh")) / 0.75, rel=1e-9)
    # linear in Rh: the time axis survives, so there are annual totals and a trend
    assert list(result.fields["total_model"]["year"].values) == [2001, 2002, 2003]
    assert any("Rs = Rh / (1 − RC)" in n and "root-contribution" in n for n in result.notes)
    assert np.isfinite(overall(result))
    # the same option name on an rh confrontation reads no RC
    assert make("global_totals", ["literature-rh"], rs_from_rh="root_contribution").auxiliary_data == []


def test_rs_from_rh_bl2004_is_a_climatology_of_the_period_mean(with_rc):
    from soilbench.analysis import partition

    conf = make("global_totals", ["literature-rs"], quantity="rs", rs_from_rh="bl2004")
    assert conf.auxiliary_data == []
    conf.stage_data()
    model = monthly_model(2001, 2)
    result = conf.confront(model)
    rs = partition.rs_from_rh_bl2004(integrate.period_mean(model, "rh"))
    expected = float(integrate.global_total(rs, integrate.land_area(model)))
    total = result.scalars.query("name == 'total' and region == 'global'")["value"].iloc[0]
    assert total == pytest.approx(expected, rel=1e-9)
    assert result.fields is None or "total_model" not in result.fields
    assert any("Bond-Lamberty" in n for n in result.notes)
    with pytest.raises(ConfigError, match="rs_from_rh"):
        make("global_totals", ["literature-rs"], quantity="rs", rs_from_rh="q10")


def monthly_model(first_year: int, n_years: int, res_deg: float = 4.0) -> xr.Dataset:
    times = [cftime.DatetimeNoLeap(y, m, 15) for y in range(first_year, first_year + n_years) for m in range(1, 13)]
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] * n_years
    base = smooth_rh(res_deg)
    field = np.stack([base * (1 + 0.01 * (t // 12)) for t in range(len(times))])
    ds = canonical(field, res_deg, times=times, step_days=days)
    ds.attrs.update(model="monthly", calendar="noleap", period=f"{first_year}-{first_year + n_years - 1}")
    return ds


def test_time_series_model_gives_annual_series_and_period_metadata(products):
    conf = make("global_totals", ["prod-a"], period=[2001, 2003])
    conf.stage_data()
    result = conf.confront(monthly_model(2000, 5))
    series_var = result.fields["total_model"]
    assert series_var.attrs["plot"] == "series" and list(series_var["year"].values) == [2001, 2002, 2003]
    ratio = series_var.sel(year=2003) / series_var.sel(year=2001)
    assert float(ratio) == pytest.approx(1.03 / 1.01)
    assert not result.notes
    assert result.comparison["period"] == {"model": [2000, 2004], "references": {"prod-a": [2001, 2010]},
                                           "requested": [2001, 2003], "compared": [2001, 2003], "fallback": None}
    assert result.comparison["quantity"] == "rh" and result.comparison["reference_ids"] == ["prod-a"]
    late = conf.confront(monthly_model(2030, 2))
    period = late.comparison["period"]
    assert period["model"] == period["compared"] == [2030, 2031]
    assert "shares no year" in period["fallback"] and "climatology" in period["fallback"]


def test_a_series_that_shares_no_year_is_the_references_fallback(products):
    """A digitised series outside the compared years keeps its whole record: saved as a fallback."""
    conf = make("global_totals", ["prod-a"])
    conf.stage_data()
    conf.series = {"old-series": pd.Series([50.0, 52.0], index=[1950, 1951])}  # as staged from a .txt file
    period = conf.confront(monthly_model(2001, 3)).comparison["period"]
    assert period["compared"] == [2001, 2003] and period["references"]["old-series"] == [1950, 1951]
    assert period["fallback"] == "old-series (1950-1951) shares no year with the compared period: its whole-record mean is used"


@pytest.mark.parametrize("kind", ["global_totals", "zonal_means", "taylor"])
def test_model_is_compared_over_the_years_it_shares_with_the_reference(products, kind):
    """As ILAMB trims: a 1990-2019 model against a 2001-2010 product is compared over 2001-2010
    (its mean over 2001-2010), not over its whole record; the years are in the saved metadata."""
    conf = make(kind, ["prod-a"])
    conf.stage_data()
    long = monthly_model(1990, 30)
    trimmed = conf.confront(long)
    assert trimmed.comparison["period"]["model"] == [1990, 2019]
    assert trimmed.comparison["period"]["compared"] == [2001, 2010]
    assert trimmed.comparison["period"]["fallback"] is None
    inside = conf.confront(long.sel(time=long["time"].dt.year.isin(range(2001, 2011))))
    pd.testing.assert_frame_equal(trimmed.scalars, inside.scalars)


def test_zonal_means_never_read_the_koppen_map(products, monkeypatch):
    def no_koppen(*args, **kwargs):
        raise AssertionError("zonal means use latitude bands only")

    monkeypatch.setattr(soilbench.regions, "load_koppen_classes", no_koppen)
    conf = confrontation_class("zonal_means")("rh-zonal", ["prod-a"], {"regions": ["latitude_bands", "koppen"]})
    conf.stage_data()
    model = products["prod-a"].copy()
    model.attrs["model"] = "copy"
    assert overall(conf.confront(model)) == pytest.approx(1.0)


def test_zonal_means_identical_model_scores_one_and_fields_follow_conventions(products):
    conf = make("zonal_means", ["prod-a", "prod-b"])
    conf.stage_data()
    model = products["prod-a"].copy()
    model.attrs["model"] = "copy"
    result = conf.confront(model)
    s = result.scalars
    assert s.query("reference == 'prod-a' and name == 'zonal score'")["value"].iloc[0] == pytest.approx(1.0)
    assert s.query("reference == 'prod-b' and name == 'zonal score'")["value"].iloc[0] < 1.0
    fields = result.fields
    zonal_vars = [v for v in fields.data_vars if fields[v].attrs.get("plot") == "zonal"]
    # zonal curves are 1-D over band centres, never over the maps' `lat` (docs/architecture.md)
    assert dict(fields.sizes) == {"lat_band": 36}
    assert fields["lat_band"].values[0] == pytest.approx(-87.5)
    for name in zonal_vars:
        assert fields[name].dims == ("lat_band",)
        lower = fields[name].attrs.get("lower")
        if lower:
            assert lower in fields and fields[name].attrs["upper"] in fields
            assert bool((fields[lower] <= fields[name] + 1e-9).where(fields[name].notnull(), True).all())
    assert {"model", "reference"} == {fields[v].attrs["role"] for v in zonal_vars}
    band_rows = s.query("name == 'band score'")
    assert band_rows["region"].str.fullmatch(r"lat_-?\d+_-?\d+").all()
    refs = conf.confront_references()
    assert refs is not None and 0 < overall(refs) < 1


def test_taylor_linear_model_and_reference_points(products):
    conf = make("taylor", ["prod-a", "prod-b"])
    conf.stage_data()
    ref = products["prod-a"]
    model = ref.copy()
    model["rh"] = 2.0 * ref["rh"] + 10.0
    model.attrs["model"] = "twice"
    result = conf.confront(model)
    s = result.scalars.set_index(["reference", "region", "name"])["value"]
    assert s[("prod-a", "global", "correlation")] == pytest.approx(1.0)
    assert s[("prod-a", "global", "normalised standard deviation")] == pytest.approx(2.0)
    assert s[("prod-a", "global", "spatial distribution score")] == pytest.approx(4 * 2 / ((2 + 0.5) ** 2 * 2))
    table = result.tables["taylor"]
    # prod-a is the reference itself (the diagram's star): no point of its own
    assert list(table["label"]) == ["twice", "prod-b"]
    assert list(table["role"]) == ["model", "reference"]
    # prod-b = 1.1 × prod-a: correlation 1, σ̂ 1.1 against prod-a
    assert table.iloc[1]["correlation"] == pytest.approx(1.0)
    assert table.iloc[1]["std_ratio"] == pytest.approx(1.1)
    maps = [v for v in result.fields.data_vars if result.fields[v].attrs.get("plot") == "map"]
    assert {"mean_model", "mean_prod_a", "difference_prod_a", "bias_score_prod_a"} <= set(maps)
    assert result.fields["difference_prod_a"].attrs["colormap"] == "diverging"
    refs = conf.confront_references()
    assert "cv_products" in refs.fields and list(refs.tables["taylor"]["label"]) == ["prod-b"]
    cv = refs.fields["cv_products"]
    assert float(cv.max()) == pytest.approx(np.std([1.0, 1.1], ddof=1) / 1.05, rel=1e-6)


def test_taylor_regrids_a_finer_model_to_the_coarser_grid(products):
    conf = make("taylor", ["prod-a"])
    conf.stage_data()
    model = canonical(smooth_rh(2.0), 2.0)
    model.attrs["model"] = "fine"
    result = conf.confront(model)
    assert result.fields.sizes["lat"] == 45  # the 4° grid of the product
    corr = result.scalars.query("reference == 'prod-a' and region == 'global' and name == 'correlation'")
    assert corr["value"].iloc[0] > 0.999


def test_rmse_score_when_both_have_time_axes(monkeypatch):
    ref = monthly_model(2000, 3)
    model = ref.copy()
    model["rh"] = ref["rh"] * 1.2
    monkeypatch.setattr("soilbench.load.reference.gridded_reference_ids", lambda ids=("series-ref",): ids)
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: ref.copy())
    conf = make("taylor", ["series-ref"])
    conf.stage_data()
    result = conf.confront(model)
    rmse = result.scalars.query("name == 'rmse score' and region == 'global'")["value"].iloc[0]
    assert 0 < rmse < 1
    assert "rmse_score_series_ref" in result.fields


def test_taylor_reads_its_references_once_however_many_models(monkeypatch):
    ref = monthly_model(2000, 3)
    calls = []
    monkeypatch.setattr("soilbench.load.reference.gridded_reference_ids", lambda ids=("series-ref",): ids)
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: calls.append(ident) or ref.copy())
    conf = make("taylor", ["series-ref"])
    conf.stage_data()
    for factor in (1.2, 0.8):
        model = ref.copy()
        model["rh"] = ref["rh"] * factor
        rmse = conf.confront(model).scalars.query("name == 'rmse score' and region == 'global'")["value"].iloc[0]
        assert 0 < rmse < 1
    assert calls == ["series-ref"]  # staged once, the RMSE series included


@pytest.mark.parametrize("kind, refs, options, key", [
    ("taylor", ["prod-a"], {"quantity": "csoil"}, "options.quantity"),
    ("taylor", ["literature-rh"], {}, "references"),
    ("zonal_means", ["prod-a"], {"band_width": 7}, "options.band_width"),
    ("global_totals", ["prod-a"], {"period": [2010, 2001]}, "options.period"),
    ("global_totals", ["prod-a"], {"regions": ["continents"]}, "options.regions"),
])
def test_invalid_options_are_config_errors(products, kind, refs, options, key):
    with pytest.raises(ConfigError) as err:
        confrontation_class(kind)("x", refs, options, source="bench.yaml")
    assert err.value.variable == key


def test_unknown_option_is_rejected(products):
    with pytest.raises(ConfigError):
        confrontation_class("taylor")("x", ["prod-a"], {"max_distance": 3})


def test_mean_and_annual_totals_from_annual_sums_equal_integrate():
    from soilbench.analysis import reductions
    from soilbench.confrontations.gridded import mean_and_annual_totals
    from soilbench.load import timeaxis

    ds = monthly_model(2000, 3).chunk({"time": 12})
    ds["rh"] = ds["rh"].where(ds["lat"] < 50)
    sums = reductions.annual_step_sums(ds["rh"]).compute()
    mean_map, annual = mean_and_annual_totals(ds, "rh", sums, integrate.land_area(ds))
    xr.testing.assert_allclose(mean_map, integrate.period_mean(ds, "rh").compute())
    xr.testing.assert_allclose(reductions.annual_mean_from_sums(sums, "rh"), timeaxis.annual_mean(ds["rh"]).compute())
    expected = integrate.annual_totals(ds, "rh").compute()
    np.testing.assert_allclose(annual.values, expected.values, rtol=1e-12)
    np.testing.assert_array_equal(annual["days_in_year"].values, expected["days_in_year"].values)
