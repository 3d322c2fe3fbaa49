"""Analysis units, typed options and the one result builder (docs/architecture.md, docs/scores.md)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from soilbench.confrontations import build
from soilbench.confrontations.gridded import GlobalTotals, TaylorStatistics, ZonalMeans
from soilbench.confrontations.gridded_units import GlobalTotal, GriddedOptions, RegionalTotals, TotalsInputs, ZonalOptions
from soilbench.confrontations.sites import DailyRh, DailyRhOptions, SrdbAnnual
from soilbench.confrontations.units import UnitResult
from soilbench.errors import ConfigError


# -- the weighting rule ---------------------------------------------------------------------------
def test_overall_is_the_weighted_mean_with_missing_components_counted_as_zero():
    result = build.overall({"a": 1.0, "b": 0.5, "c": float("nan")}, {"a": 2.0})
    assert result.value == pytest.approx((2 * 1.0 + 0.5 + 0.0) / 4)
    assert result.missing == ["c"] and result.not_applicable == []


def test_not_applicable_components_are_left_out_of_both_sums():
    result = build.overall({"a": 0.8, "b": float("nan"), "c": 0.2}, not_applicable=["b"])
    assert result.value == pytest.approx(0.5)
    assert result.missing == [] and result.not_applicable == ["b"]


def test_overall_is_nan_only_without_any_applicable_component():
    assert math.isnan(build.overall({}).value)
    assert math.isnan(build.overall({"a": 0.3}, not_applicable=["a"]).value)
    assert build.overall({"a": float("nan")}).value == 0.0


def test_the_builder_writes_exactly_one_overall_row_over_every_units_components():
    units = [UnitResult(rows=[{"reference": "r", "region": "global", "analysis": "x", "name": "s1", "type": "score",
                               "units": "1", "value": 0.9}], components={"s1": 0.9}),
             UnitResult(components={"s2": float("nan")}, weights={"s2": 3.0}, notes=["second"])]
    result = build.build_result(units, model="m", confrontation="c", notes=["first"])
    overall = result.scalars[(result.scalars["analysis"] == "overall") & (result.scalars["name"] == "overall score")]
    assert len(overall) == 1
    assert float(overall["value"].iloc[0]) == pytest.approx(0.9 / 4)
    missing = result.scalars[result.scalars["name"] == "missing components"]
    assert float(missing["value"].iloc[0]) == 1.0
    assert result.notes[:2] == ["first", "second"] and "s2" in result.notes[2]
    assert set(result.scalars["model"]) == {"m"} and set(result.scalars["confrontation"]) == {"c"}


def test_a_component_given_by_two_units_is_refused():
    with pytest.raises(ValueError, match="two units"):
        build.build_result([UnitResult(components={"s": 1.0}), UnitResult(components={"s": 0.0})],
                           model="m", confrontation="c")


# -- typed options --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [GlobalTotals, ZonalMeans, TaylorStatistics, SrdbAnnual, DailyRh])
def test_declared_defaults_are_the_typed_definitions(cls):
    assert cls.option_defaults == cls.options_type.defaults()
    assert cls.options_type.defaults() is not cls.options_type.defaults()  # mutable defaults never shared


@pytest.mark.parametrize("cls, options, key", [
    (TaylorStatistics, {"quantity": "csoil"}, "options.quantity"),
    (TaylorStatistics, {"period": [2010, 2001]}, "options.period"),
    (GlobalTotals, {"regions": ["continents"]}, "options.regions"),
    (GlobalTotals, {"region_band_width": 7.0}, "options.region_band_width"),
    (GlobalTotals, {"rs_from_rh": "guess"}, "options.rs_from_rh"),
    (ZonalMeans, {"band_width": 7.0}, "options.band_width"),
    (ZonalMeans, {"confidence": 1.5}, "options.confidence"),
    (SrdbAnnual, {"quantity": "npp"}, "options.quantity"),
    (DailyRh, {"test_unit": "plot"}, "options.test_unit"),
    (DailyRh, {"window_days": -1}, "options.window_days"),
])
def test_a_refused_option_is_a_config_error_naming_the_file_and_key(cls, options, key):
    references = ["srdb-v5-data"] if cls is SrdbAnnual else ["mgrhd"] if cls is DailyRh else ["cardamom-rh"]
    with pytest.raises(ConfigError) as err:
        cls("x", references, options, source="bench.yaml")
    assert err.value.source == "bench.yaml" and err.value.variable == key
    assert "confrontation 'x'" in err.value.one_line()


def test_typed_options_hold_the_parsed_values():
    conf = ZonalMeans("z", ["cardamom-rh"], {"quantity": "rs", "band_width": 10.0, "period": [2001, 2005]})
    assert isinstance(conf.settings, ZonalOptions) and isinstance(conf.settings, GriddedOptions)
    assert conf.settings.band_width == 10.0 and conf.settings.years == (2001, 2005)
    assert [type(unit).__name__ for unit in conf.units] == ["ZonalBands"]
    assert DailyRhOptions.parse({}, name="d", kind="daily_rh", source=None).seed == 20210701


# -- a unit on numbers whose answer is known ------------------------------------------------------
def _totals(model_total: float, literature: float, sigma: float) -> TotalsInputs:
    row = {"label": "lit", "role": "literature", "value": literature, "lower": np.nan, "upper": np.nan,
           "reference": "literature-rh", "scored": True, "half_width": 0.0, "point_estimate": True}
    return TotalsInputs("m", ["literature-rh"], model_total, pd.Series({"global": model_total}), None, [row],
                        sigma, sigma / literature, {}, {})


def test_global_total_unit_scores_the_distance_in_units_of_the_spread():
    unit = GlobalTotal(GriddedOptions())
    assert unit(_totals(50.0, 50.0, 5.0)).components == {"global total score": pytest.approx(1.0)}
    result = unit(_totals(60.0, 50.0, 5.0))
    assert result.components["global total score"] == pytest.approx(math.exp(-2.0))
    total = [r for r in result.rows if r["name"] == "total" and r["analysis"] == "global total"]
    assert total[0]["value"] == 60.0


def test_regional_totals_unit_has_no_component_without_gridded_products():
    assert RegionalTotals(GriddedOptions())(_totals(60.0, 50.0, 5.0)).components == {}


def test_a_type_that_declares_optional_components_counts_those_not_applicable():
    rows = build.overall_rows({"a": 0.6, "b": float("nan")}, [], not_applicable=["b"], reference="srdb")
    by_name = {r["name"]: r for r in rows}
    assert by_name["components not applicable"]["value"] == 1.0 and by_name["missing components"]["value"] == 0.0
    assert by_name["overall score"]["value"] == pytest.approx(0.6) and by_name["overall score"]["reference"] == "srdb"
    assert "components not applicable" not in {r["name"] for r in build.overall_rows({"a": 0.6}, [])}


def test_site_statistics_unit_scores_a_perfect_model_one():
    from soilbench.confrontations.sites import SiteInputs, SiteStatistics, SrdbAnnualOptions

    rng = np.random.default_rng(1)
    n = 30
    observed = rng.uniform(100, 900, n)
    sites = pd.DataFrame({"observed": observed, "modelled": observed, "difference": 0.0, "group": "koppen_C",
                          "relocated": False, "located": True, "lat": np.linspace(-40, 40, n), "lon": 0.0})
    used = sites.assign(ilat=np.arange(n), ilon=0)
    result = SiteStatistics(SrdbAnnualOptions())(SiteInputs(sites, used, "Rh"))
    assert result.components == {"bias score": pytest.approx(1.0), "spatial distribution score": pytest.approx(1.0)}
    worse = SiteStatistics(SrdbAnnualOptions())(SiteInputs(sites.assign(modelled=observed * 2), used.assign(
        modelled=observed * 2), "Rh"))
    assert worse.components["bias score"] < 0.9
