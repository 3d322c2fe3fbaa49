"""Site confrontations end to end on the real files of ../shared/data (SRDB V5, MGRhD, testbed).

Skipped with a reason when the shared data directory is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soilbench.confrontations import confrontation_class

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not (SHARED / "mgrhd" / "MGRhD.csv").is_file(),
                       reason=f"real data not found in {SHARED}"),
]
TESTBED = {"CASA-CNP": "casaclm_pool_flux_2000-2010_mean.nc", "MIMICS": "mimics_pool_flux_2000-2010_mean.nc"}


@pytest.fixture(scope="module")
def confrontations():
    annual = confrontation_class("srdb_annual")("rh-srdb-annual", ["srdb-v5-data"], {}, data_dir=SHARED)
    daily = confrontation_class("daily_rh")("rh-daily-sites", ["mgrhd"], {"bootstrap_samples": 200}, data_dir=SHARED)
    annual.stage_data()
    daily.stage_data()
    return annual, daily


@pytest.fixture(scope="module")
def testbed():
    from soilbench.load import load_model

    return {name: load_model(SHARED / "testbed" / file, name=name) for name, file in TESTBED.items()}


def _global(result, analysis=None):
    scalars = result.scalars[result.scalars["region"] == "global"]
    if analysis:
        scalars = scalars[scalars["analysis"] == analysis]
    return scalars.set_index("name")["value"]


def test_filter_counts_match_data_documentation(confrontations):
    annual, daily = confrontations
    counts = daily.site_records.filter_counts.set_index("step")
    # DATA.md: about 8,249 observations from 246 studies after coordinates/date/manipulation/method
    assert counts.loc["negative", "remaining"] == 8249
    assert counts.loc["negative", "studies_remaining"] == 246
    srdb = annual.site_records.filter_counts.set_index("step")
    assert srdb.loc["has_value", "remaining"] == 1050  # DATA.md: Rh_annual in 1,050 rows
    assert srdb.loc["manipulation", "removed"] > 0     # "None" read as a string, not as missing
    assert 500 < srdb["remaining"].iloc[-1] < 1050


@pytest.mark.parametrize("model_name", sorted(TESTBED))
def test_testbed_models_against_sites(confrontations, testbed, model_name):
    annual, daily = confrontations
    model = testbed[model_name]
    result = annual.confront(model)
    stats = _global(result, "site statistics")
    assert stats["n sites"] > 600
    assert 0 < stats["RMSE"] < 2000 and -1 <= stats["correlation"] <= 1
    assert any("climatology" in note for note in result.notes)
    assert 0 <= _global(result, "overall")["overall score"] <= 1

    result = daily.confront(model)
    value = _global(result, "wilcoxon")
    tested = value["n studies tested"]
    assert 200 <= tested <= 246
    shares = [value[f"share {c}"] for c in ("over-estimated", "under-estimated", "well estimated")]
    assert sum(shares) == pytest.approx(1.0)
    counts = [value[f"n {c}"] for c in ("over-estimated", "under-estimated", "well estimated")]
    assert sum(counts) == tested == len(result.tables["studies"])
    assert "seasonal_cycle" not in result.tables  # one-period testbed files: no seasonal cycle
    assert _global(result, "sites daily")["n observations in record"] == 0


def _daily_noleap_model(years=(2005, 2009), resolution=4.0):
    """A generated daily noleap model over part of MGRhD's years, peaking in late July."""
    from datetime import timedelta

    import cftime
    import xarray as xr

    lat = np.arange(-90 + resolution / 2, 90, resolution)
    lon = np.arange(-180 + resolution * 0.625, 180, resolution * 1.25)
    times = [cftime.datetime(y, 1, 1, calendar="noleap") + timedelta(days=d)
             for y in range(years[0], years[1] + 1) for d in range(365)]
    doy = np.array([t.dayofyr for t in times], float)
    amplitude = np.clip(np.abs(lat) / 90.0, 0.1, 0.9)[None, :, None]
    cycle = np.cos(2 * np.pi * (doy - 205) / 365)[:, None, None] * np.sign(lat)[None, :, None]
    rh = (600.0 * (1 + amplitude * cycle) * np.ones((1, 1, lon.size))).astype(np.float32)
    return xr.Dataset(
        {"rh": (("time", "lat", "lon"), rh, {"units": "g m-2 yr-1"}),
         "cell_area": (("lat", "lon"), np.ones((lat.size, lon.size))),
         "land_fraction": (("lat", "lon"), np.ones((lat.size, lon.size)))},
        coords={"time": times, "lat": lat, "lon": lon, "step_days": ("time", np.ones(len(times)))},
        attrs={"model": "generated-daily-noleap", "calendar": "noleap", "period": f"{years[0]}-{years[1]}"})


def test_generated_daily_model_in_record_and_seasonal_cycles(confrontations):
    _, daily = confrontations
    result = daily.confront(_daily_noleap_model())
    linked = _global(result, "sites daily")
    assert linked["n observations in record"] > 1000
    assert linked["n observations on climatology"] > 1000
    cycle = result.tables["seasonal_cycle"]
    assert {"Temperate (Cf, Cw)", "Boreal (Df, Ds, Dw)"} <= set(cycle["group"])
    cycle_rows = result.scalars[result.scalars["analysis"] == "seasonal cycle"]
    timing, amplitude, combined = (cycle_rows[cycle_rows["name"] == name].set_index("region")["value"]
                                   for name in ("timing score", "amplitude score", "seasonal cycle score"))
    # the generated model peaks in late July like northern temperate and boreal soils: high timing
    # scores; its amplitude (a fraction of its mean growing with latitude) is not the observed one
    assert timing["koppen_Cfw"] > 0.8 and timing["koppen_D"] > 0.8
    np.testing.assert_allclose(combined[timing.index], (timing * amplitude)[timing.index])
    assert (amplitude[timing.index] < 1).all()
    assert np.isfinite(_global(result, "overall")["overall score"])
