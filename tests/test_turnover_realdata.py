"""Turnover time on the real testbed models and the real HWSD / NCSCD / CARDAMOM files.

Every expected value is computed here independently from the raw files (pools, ``landarea``,
``cellMissing``), not through soilbench's loader.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from soilbench.confrontations import confrontation_class

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}"),
]

TESTBED = {
    "testbed-casacnp": ("testbed/casaclm_pool_flux_2000-2010_mean.nc", "cresp",
                        ["clitmetb", "clitstr", "clitcwd", "csoilmic", "csoilslow", "csoilpass"]),
    "testbed-mimics": ("testbed/mimics_pool_flux_2000-2010_mean.nc", "cHresp",
                       ["cLITm", "cLITs", "cMICr", "cMICk", "cSOMa", "cSOMc", "cSOMp"]),
}


def open_raw(relative):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # several fill values, ambiguous reference dates
        return xr.open_dataset(SHARED_DATA / relative, decode_times=False).load()


def independent_testbed_tau(model_id):
    """Σ (soil + litter pools)·landarea / Σ Rh·landarea over cells with data (yr)."""
    relative, rh_name, pools = TESTBED[model_id]
    raw = open_raw(relative).isel(time=0)
    carbon_g_m2 = sum(raw[p] for p in pools)
    rh_g_m2_yr = raw[rh_name] * 365.0
    area_m2 = raw["landarea"] * 1e6
    ok = (raw["cellMissing"] == 0) & (area_m2 > 0) & carbon_g_m2.notnull() & rh_g_m2_yr.notnull()
    return float((carbon_g_m2 * area_m2).where(ok).sum() / (rh_g_m2_yr * area_m2).where(ok).sum())


def independent_observed_tau():
    """Merged HWSD/NCSCD stock over CARDAMOM Rh on cells where both exist and Rh > 0.01 kg m-2 yr-1."""
    hwsd = open_raw("soilc/HWSD_soilc_0.5x0.5.nc")["soilc"]
    ncscd = open_raw("soilc/NCSCDV22_soilc_0.5x0.5.nc")["soilc"]
    rh_kg = open_raw("cardamom-rh/cardamom_rh_2001-2010_mean_0.5deg.nc")["rh"]
    merged = xr.where(ncscd > 0, ncscd, hwsd)
    lat = np.deg2rad(hwsd["lat"].astype(float))
    half = np.deg2rad(0.25)
    area = (np.sin(lat + half) - np.sin(lat - half)) * np.deg2rad(0.5) * 6371229.0**2
    ok = merged.notnull() & rh_kg.notnull() & (rh_kg > 0.01)
    return float((merged * area).where(ok).sum() / (rh_kg * area).where(ok).sum())


@pytest.fixture(scope="module")
def confrontation():
    cls = confrontation_class("turnover")
    conf = cls("soil-turnover", ["hwsd-ncscd-soilc", "hwsd-soilc", "cardamom-rh"], {}, 1.0, str(SHARED_DATA), "test")
    conf.stage_data()
    return conf


@pytest.mark.parametrize("model_id, published", [("testbed-casacnp", 26.0), ("testbed-mimics", 26.9)])
def test_testbed_global_tau_matches_the_pools(confrontation, model_id, published):
    from soilbench.load import load_model

    expected = independent_testbed_tau(model_id)
    assert expected == pytest.approx(published, abs=0.1)
    result = confrontation.confront(load_model(model_id, data_dir=SHARED_DATA))
    s = result.scalars
    got = float(s[(s["name"] == "global tau") & (s["region"] == "global")]["value"].iloc[0])
    assert got == pytest.approx(expected, rel=0.005)
    overall = float(s[s["name"] == "overall score"]["value"].iloc[0])
    assert 0.0 < overall < 1.0
    share = float(s[(s["name"] == "Rh-dominated area share") & (s["region"] == "global")]["value"].iloc[0])
    assert 0.0 < share < 1.0
    assert any("2-box constraint not run" in n for n in result.notes)


def test_observed_tau_from_the_shared_products(confrontation):
    expected = independent_observed_tau()
    assert expected == pytest.approx(27.3, abs=0.3)
    result = confrontation.confront_references()
    s = result.scalars[result.scalars["region"] == "global"].set_index("reference")["value"]
    assert s["hwsd-ncscd-soilc / cardamom-rh"] == pytest.approx(expected, rel=0.005)
    # HWSD alone misses the permafrost carbon NCSCD adds: a shorter observed τ
    assert s["hwsd-soilc / cardamom-rh"] < s["hwsd-ncscd-soilc / cardamom-rh"] - 2.0
