"""Defects of the gridded score construction (docs/scores.md); each test failed on the old code."""

import math

import cftime
import numpy as np
import pytest

import soilbench.data
import soilbench.load
from soilbench.load import series
from test_gridded_analysis import canonical
from test_gridded_confrontations import make, overall, products, smooth_rh  # noqa: F401  (fixture)
from test_turnover import canonical as tau_canonical
from test_turnover import fake_references, make_confrontation, observed_fields  # noqa: F401  (fixture)

#: scales the test products' rh to a realistic global total (about 54 and 59 Pg C yr-1)
REALISTIC = 0.19

SERIES = {"hashimoto2015-rh": {2000 + k: 50.0 + 0.2 * k for k in range(11)},
          "tang2020-rh": {2000 + k: 56.0 + 0.1 * k for k in range(11)}}


@pytest.fixture
def realistic(monkeypatch):
    """Two products as in test_gridded_confrontations, at realistic global totals: the spread of
    estimates (the literature's and theirs) then means what it means for real data."""
    refs = {"prod-a": canonical(smooth_rh(4.0, REALISTIC), 4.0), "prod-b": canonical(smooth_rh(4.0, 1.1 * REALISTIC), 4.0)}
    for ident, ds in refs.items():
        ds.attrs.update(model=ident, reference=ident, period="2001-2010", climatology=1)
    monkeypatch.setattr("soilbench.load.reference.gridded_reference_ids", lambda ids=tuple(refs): ids)
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: refs[ident].copy())
    return refs


@pytest.fixture
def with_series(realistic, tmp_path, monkeypatch):
    """The products plus both digitised series, served by fetch."""
    paths = {}
    for ident, values in SERIES.items():
        path = tmp_path / f"{ident}.txt"
        path.write_text("".join(f"{year}, {value}\n" for year, value in values.items()), encoding="utf-8")
        paths[ident] = path
    real_fetch = soilbench.data.fetch
    monkeypatch.setattr(soilbench.data, "fetch", lambda ident, data_dir=None, **kw: paths.get(ident) or real_fetch(
        ident, data_dir, **kw))
    return products


def scalar(result, name, reference="", region="global"):
    s = result.scalars
    rows = s[(s["name"] == name) & (s["reference"] == reference) & (s["region"] == region)]
    assert len(rows) == 1, (name, reference, region)
    return float(rows["value"].iloc[0])


def test_each_global_rh_estimate_counts_once(with_series):
    conf = make("global_totals", ["prod-a", "hashimoto2015-rh", "tang2020-rh", "literature-rh"])
    conf.stage_data()
    model = canonical(smooth_rh(4.0, REALISTIC), 4.0)
    model.attrs.update(model="M", period="2001-2010")
    result = conf.confront(model)
    table = series.read_literature_table(series.literature_path("rh"))
    # Hashimoto 2015 and Tang 2020 are the series; their literature rows and the range spanning
    # them are context only
    counted = table[(table["category"] == "data-driven") & ~table["id"].isin(
        ["hashimoto2015", "tang2020", "statistical-range"])]
    estimates = [float(conf.gridded_totals["prod-a"])]
    estimates += [np.mean([v for y, v in SERIES[s].items() if 2001 <= y <= 2010]) for s in SERIES]
    estimates += counted["value"].tolist()
    assert scalar(result, "spread of estimates") == pytest.approx(np.std(estimates, ddof=1))
    bars = result.tables["global_totals"]
    assert bars["label"].str.contains(r"\[counted as hashimoto2015-rh\]").sum() == 1
    assert bars["label"].str.contains(r"\[counted as tang2020-rh\]").sum() == 1
    assert bars["label"].str.contains(r"Range of statistical estimates.*\[counted as").sum() == 1
    # the literature's score averages only the estimates counted there
    total = scalar(result, "total")
    sigma = scalar(result, "spread of estimates")
    expected = np.mean([math.exp(-max(abs(total - r.value) - r.half_width, 0) / sigma) for r in counted.itertuples()])
    assert scalar(result, "total score", "literature-rh") == pytest.approx(expected)


def test_the_spread_comes_from_the_literature_even_when_it_is_not_scored(realistic):
    # with one product σ used to fall back to |model total|: a model without flux scored e^-1
    conf = make("global_totals", ["prod-a"])
    conf.stage_data()
    model = canonical(smooth_rh(4.0, REALISTIC) * 0.0, 4.0)
    result = conf.confront(model)
    assert scalar(result, "total score", "prod-a") < 1e-3
    assert overall(result) < 0.01


def test_totals_against_a_product_use_the_land_both_have(realistic):
    # the model is 12 % above the product on shared land and has no value on a strip where the
    # product has flux: compared on all of each side's land the totals nearly agreed
    conf = make("global_totals", ["prod-a"])
    conf.stage_data()
    field = smooth_rh(4.0, REALISTIC) * 1.12
    lat = np.arange(-88.0, 90, 4.0)
    field[(lat > 0) & (lat < 20)] = np.nan
    model = canonical(field, 4.0, land_fraction=np.where(np.isnan(field), 0.0, 1.0))
    result = conf.confront(model)
    m_common = scalar(result, "model total on common cells", "prod-a")
    r_common = scalar(result, "reference total on common cells", "prod-a")
    assert m_common == pytest.approx(1.12 * r_common, rel=1e-9)
    assert scalar(result, "reference total", "prod-a") > r_common  # the product's own land, as information
    assert scalar(result, "total") == pytest.approx(m_common, rel=1e-9)
    assert scalar(result, "total score", "prod-a") < math.exp(-1)
    # the share of the product's land compared: all but the 0–20° N strip
    product = realistic["prod-a"]
    area = (product["cell_area"] * product["land_fraction"]).where(product["rh"].notnull())
    strip = (product["lat"] > 0) & (product["lat"] < 20)
    expected_share = float(area.where(~strip).sum() / area.sum())
    assert scalar(result, "common land share", "prod-a") == pytest.approx(expected_share, rel=1e-9)


def test_a_region_without_model_data_scores_zero_and_is_reported(products):  # noqa: F811
    conf = make("global_totals", ["prod-a"])
    conf.stage_data()
    field = smooth_rh(4.0).copy()
    lat = np.arange(-88.0, 90, 4.0)
    field[lat > 30] = np.nan
    model = canonical(field, 4.0, land_fraction=np.where(np.isnan(field), 0.0, 1.0))
    result = conf.confront(model)
    assert scalar(result, "total score", "prod-a", "lat_60_90") == 0.0
    assert scalar(result, "total score", "prod-a", "lat_30_60") == 0.0
    assert scalar(result, "total score", "prod-a", "lat_0_30") == pytest.approx(1.0)
    assert any(n.startswith("incomplete") and "lat_60_90" in n for n in result.notes)


def test_a_uniform_map_scores_zero_in_spatial_distribution_not_nan(products):  # noqa: F811
    conf = make("taylor", ["prod-a"])
    conf.stage_data()
    base = smooth_rh(4.0)
    model = canonical(np.where(np.isnan(base), np.nan, np.nanmean(base)), 4.0)
    result = conf.confront(model)
    assert scalar(result, "spatial distribution score", "prod-a") == 0.0
    bias_score = scalar(result, "bias score", "prod-a")
    assert overall(result) == pytest.approx(bias_score / 2)
    assert scalar(result, "missing components", region="global") == 0.0


def test_a_missing_component_counts_as_zero_and_is_named(products):  # noqa: F811
    conf = make("zonal_means", ["prod-a"])
    conf.stage_data()
    field = smooth_rh(4.0)
    model = canonical(np.full_like(field, np.nan), 4.0, land_fraction=np.zeros_like(field))
    model["rh"].values[60 // 4, 0] = 300.0  # one cell, over no land: nothing in common
    result = conf.confront(model)
    assert overall(result) == 0.0
    assert scalar(result, "missing components") == 1.0
    assert any(n.startswith("incomplete") for n in result.notes)


def test_latitude_bands_add_up_to_the_global_total_in_a_360_day_calendar(products):  # noqa: F811
    conf = make("global_totals", ["prod-a"])
    conf.stage_data()
    n_years = 2
    times = [cftime.Datetime360Day(y, m, 15) for y in range(2001, 2001 + n_years) for m in range(1, 13)]
    field = np.stack([smooth_rh(4.0)] * len(times))
    model = canonical(field, 4.0, times=times, step_days=[30.0] * len(times))
    model.attrs.update(model="360", calendar="360_day", period="2001-2002")
    result = conf.confront(model)
    s = result.scalars
    bands = s[(s["analysis"] == "regional total") & (s["name"] == "total") & s["region"].str.startswith("lat_")]
    assert len(bands) == 6
    assert bands["value"].sum() == pytest.approx(scalar(result, "total"), rel=1e-9)
    regional = result.tables["regional_totals"]
    mine = regional[(regional["role"] == "model") & regional["region"].str.startswith("lat_")]
    assert mine["value"].sum() == pytest.approx(scalar(result, "total"), rel=1e-9)


def test_turnover_without_any_common_cell_is_incomplete_not_nan(fake_references):  # noqa: F811
    csoil, rh = observed_fields()
    model = tau_canonical({"csoil": 0.0 * csoil, "rh": rh}, 10.0, "no stock")
    result = make_confrontation().confront(model)
    # bias, spatial, global τ and τ–MAT curve have no value (0); the band and climate-group profiles
    # count every region without τ as a 100-fold error, which scores almost nothing
    assert overall(result) == pytest.approx(0.0, abs=1e-3)
    assert scalar(result, "missing components") == 4.0
    central = "merged-soilc / some-rh"
    assert scalar(result, "zonal tau score", central) < 1e-3 and scalar(result, "climate group tau score", central) < 1e-3
    assert any(n.startswith("incomplete") for n in result.notes)


def test_turnover_bias_ladder_falls_strictly(fake_references):  # noqa: F811
    csoil, rh = observed_fields()
    conf = make_confrontation()
    ladder = []
    for factor in (1.0, 1 / 1.1, 1 / 1.3, 0.5):
        result = conf.confront(tau_canonical({"csoil": factor * csoil, "rh": rh}, 10.0, f"x{factor}"))
        ladder.append((scalar(result, "global tau score", reference=result.scalars.query(
            "name == 'global tau score'")["reference"].iloc[0]), overall(result)))
    for (g0, o0), (g1, o1) in zip(ladder, ladder[1:]):
        assert g1 < g0 and o1 < o0


@pytest.mark.parametrize("kind", ["global_totals", "zonal_means", "taylor"])
def test_an_empty_model_scores_zero_not_nan(realistic, kind):
    # no value anywhere: every component is missing, so the overall score is 0 (was NaN, or the
    # literature's scores alone), with the reason in the notes
    model = canonical(np.full_like(smooth_rh(4.0), np.nan), 4.0)
    conf = make(kind, ["prod-a"])
    conf.stage_data()
    result = conf.confront(model)
    assert overall(result) == 0.0
    assert any(n.startswith("incomplete") for n in result.notes)


def test_literature_summaries_of_listed_estimates_are_not_counted_again(realistic):
    # Rs: the mean of the estimates published after 2010 and the range of all 23 include the
    # individual estimates listed in the same table
    conf = make("global_totals", ["literature-rs"], quantity="rs")
    conf.stage_data()
    model = canonical(smooth_rh(4.0, REALISTIC * 1.6), 4.0, name="rs")
    result = conf.confront(model)
    table = series.read_literature_table(series.literature_path("rs")).set_index("id")
    independent = ["lu2021-rf-srdb5", "warner2019", "hashimoto2015", "jian2018", "published-before-2010"]
    assert scalar(result, "spread of estimates") == pytest.approx(np.std(table.loc[independent, "value"], ddof=1))
    bars = result.tables["global_totals"]
    assert bars["label"].str.contains(r"after 2010.*\[counted as").sum() == 1
    assert bars["label"].str.contains(r"23 published.*\[counted as").sum() == 1
