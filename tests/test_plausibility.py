"""Plausibility flags and the period rule: pure functions, and what the confrontations save."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from soilbench.analysis import periods, plausibility
from soilbench.results import Flag, load_result
from test_gridded_analysis import canonical
from test_gridded_confrontations import make, monthly_model, products, smooth_rh  # noqa: F401 (fixture)


# -- periods -----------------------------------------------------------------------------------

def test_choose_period_trims_to_shared_years_and_falls_back_to_the_climatology():
    choice = periods.choose_period((1990, 2019), {"cardamom": (2001, 2010), "hwsd": None})
    assert choice.compared == (2001, 2010) and choice.fallback is None
    assert choice.as_meta() == {"model": [1990, 2019], "references": {"cardamom": [2001, 2010], "hwsd": None},
                                "requested": None, "compared": [2001, 2010], "fallback": None}
    requested = periods.choose_period((1990, 2019), {"cardamom": (2001, 2010)}, (2005, 2030))
    assert requested.compared == (2005, 2010)
    static_only = periods.choose_period((1990, 2019), {"hwsd": None})
    assert static_only.compared == (1990, 2019) and static_only.fallback is None
    late = periods.choose_period((2030, 2039), {"cardamom": (2001, 2010)})
    assert late.compared == (2030, 2039) and "shares no year with 2001-2010" in late.fallback
    # a climatology cannot be cut: its own years, with a fallback only when nothing is shared
    clim = periods.choose_period((2000, 2010), {"cardamom": (2001, 2010)}, model_has_time=False)
    assert clim.compared == (2000, 2010) and clim.fallback is None
    assert "its one period" in periods.choose_period((1981, 1990), {"c": (2001, 2010)}, model_has_time=False).fallback


def test_steps_in_and_years_of():
    model = monthly_model(1999, 4)
    kept = periods.steps_in(model, (2000, 2001))
    assert periods.years_of(kept) == (2000, 2001) and kept.attrs["period"] == "2000-2001"
    assert kept.sizes["time"] == 24
    assert periods.parse_years("static") is None and periods.parse_years([2001, 2010]) == (2001, 2010)


def test_turnover_and_sites_share_the_rule():
    """The period rule has one home: the confrontations no longer carry their own copies."""
    import inspect

    from soilbench.confrontations import gridded, sites, turnover

    for module in (gridded, turnover, sites):
        source = inspect.getsource(module)
        assert "periods.choose_period" in source or "periods.steps_in" in source, module.__name__
        assert "dt.year >=" not in source and "years >= period[0]" not in source, module.__name__


# -- plausibility ------------------------------------------------------------------------------

def test_land_area_and_total_flags():
    assert plausibility.land_area_flags(0.6e14, 1e14, "ref") == []
    (flag,) = plausibility.land_area_flags(1e12, 1e14, "ref")
    assert flag.code == "small_land_area" and "1.0%" in flag.message
    assert "less than 0.1%" in plausibility.land_area_flags(0.0, 1e14, "ref")[0].message
    assert plausibility.global_total_flags("rh", 55.0) == []
    assert plausibility.global_total_flags("rh", 0.0)[0].code == "total_out_of_range"
    assert plausibility.global_total_flags("rh", float("nan"))[0].code == "total_out_of_range"
    assert plausibility.global_total_flags("csoil", 1500.0) == []


def test_grid_flags_from_cell_bounds():
    full = canonical(smooth_rh(4.0), 4.0)
    assert plausibility.tiling_ratio(full["cell_area"]) == pytest.approx(1.0, abs=1e-6)
    assert plausibility.grid_flags(full["cell_area"]) == []
    # every second row and column, each cell keeping its own (file) bounds: gaps between cells
    subsample = full.isel(lat=slice(0, None, 2), lon=slice(0, None, 2))
    assert plausibility.tiling_ratio(subsample["cell_area"]) == pytest.approx(0.25, rel=0.05)
    assert [f.code for f in plausibility.grid_flags(subsample["cell_area"])] == ["grid_gaps"]
    # a 2 x 2 block: the cells tile their block, which is a sliver of the globe
    block = full.isel(lat=slice(20, 22), lon=slice(40, 42))
    assert [f.code for f in plausibility.grid_flags(block["cell_area"])] == ["partial_grid"]


def test_a_one_land_cell_model_is_flagged_in_every_gridded_confrontation(products, tmp_path):  # noqa: F811
    """A 2 x 2 block of cells holding one land cell scored 0.30 overall with no warning."""
    full = canonical(smooth_rh(4.0), 4.0)
    block = full.isel(lat=slice(30, 32), lon=slice(40, 42)).copy(deep=True)
    block["rh"][:] = np.nan
    block["rh"][0, 0] = 400.0
    block.attrs["model"] = "one-cell"
    for kind in ("global_totals", "zonal_means", "taylor"):
        conf = make(kind, ["prod-a"])
        conf.stage_data()
        result = conf.confront(block)
        codes = {f.code for f in result.flags}
        assert {"small_land_area", "partial_grid"} <= codes, kind
        if kind == "global_totals":
            assert "total_out_of_range" in codes
        meta, loaded = load_result(result.save(tmp_path / kind, {"model": "one-cell", "confrontation": kind}))
        assert {f["code"] for f in meta["flags"]} == codes and loaded.flags == result.flags
    good = canonical(smooth_rh(4.0, 0.3), 4.0)  # a whole globe of land: a plausible total needs less per m²
    good.attrs["model"] = "good"
    conf = make("global_totals", ["prod-a"])
    conf.stage_data()
    assert conf.confront(good).flags == []


def test_flags_round_trip_and_bad_entries_are_skipped(tmp_path):
    from soilbench.results import SCALAR_COLUMNS, ConfrontationResult, saved_flags

    result = ConfrontationResult(pd.DataFrame(columns=SCALAR_COLUMNS), flags=[Flag("grid_gaps", "gaps")])
    meta, loaded = load_result(result.save(tmp_path, {"model": "m"}))
    assert meta["flags"] == [{"code": "grid_gaps", "message": "gaps"}] and loaded.flags == result.flags
    assert saved_flags({"flags": [{"message": "no code"}, "text", {"code": "x"}]}) == [Flag("x", "")]


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")
def test_a_2x2_block_of_the_real_testbed_grid_is_flagged_against_cardamom(tmp_path):
    """The issue's case on real files: a 2 x 2 block of a real model grid holding one land cell,
    written as a file and loaded like any model, is flagged; the full testbed model is not."""
    import xarray as xr

    from soilbench.confrontations import confrontation_class
    from soilbench.load import load_model

    source = SHARED_DATA / "testbed" / "casaclm_pool_flux_2000-2010_mean.nc"
    full = load_model(source, name="CASA-CNP")
    valid = (full["rh"].notnull() & (full["land_fraction"] > 0.5)).values
    ilat, ilon = next((i, j) for i in range(10, valid.shape[0] - 11) for j in range(valid.shape[1] - 1)
                      if valid[i:i + 2, j:j + 2].sum() == 1)
    raw = xr.open_dataset(source, decode_times=False)
    block = raw.sel(lat=full["lat"].values[ilat:ilat + 2], lon=full["lon"].values[ilon:ilon + 2] % 360, method="nearest")
    path = tmp_path / "one-cell_2000-2010_mean.nc"
    block.to_netcdf(path)
    model = load_model(path, name="one-cell")
    conf = confrontation_class("global_totals")("rh-global-totals", ["cardamom-rh", "literature-rh"], {},
                                                data_dir=SHARED_DATA)
    conf.stage_data()
    codes = {f.code for f in conf.confront(model).flags}
    assert {"small_land_area", "partial_grid", "total_out_of_range"} <= codes
    assert conf.confront(full).flags == []
