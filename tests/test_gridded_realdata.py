"""Gridded confrontations end to end on the real testbed models and CARDAMOM (skipped without ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soilbench.confrontations import confrontation_class
from soilbench.load import load_model, series

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")]

TESTBED = {"CASA-CNP": ("casaclm_pool_flux_2000-2010_mean.nc", 54.27), "MIMICS": ("mimics_pool_flux_2000-2010_mean.nc", 55.0)}
TOTAL_REFERENCES = ["cardamom-rh", "hashimoto2015-rh", "tang2020-rh", "literature-rh", "cmip6-rh-global"]


@pytest.fixture(scope="module")
def models():
    return {name: load_model(SHARED_DATA / "testbed" / file, name=name) for name, (file, _) in TESTBED.items()}


@pytest.fixture(scope="module")
def staged():
    out = {}
    for kind, refs in (("global_totals", TOTAL_REFERENCES), ("zonal_means", ["cardamom-rh"]), ("taylor", ["cardamom-rh"])):
        conf = confrontation_class(kind)(f"rh-{kind}", refs, {}, data_dir=SHARED_DATA)
        conf.stage_data()
        out[kind] = conf
    return out


def scalar(result, **query):
    frame = result.scalars
    for key, value in query.items():
        frame = frame[frame[key] == value]
    assert len(frame) == 1, query
    return float(frame["value"].iloc[0])


@pytest.mark.parametrize("name", list(TESTBED))
def test_global_totals_match_inspect_and_cardamom(models, staged, name):
    result = staged["global_totals"].confront(models[name])
    total = scalar(result, name="total", region="global", reference="")
    assert total == pytest.approx(TESTBED[name][1], abs=0.1)
    assert scalar(result, name="reference total", reference="cardamom-rh", region="global") == pytest.approx(53.9, abs=0.1)
    # Hashimoto's digitised series over the model's 2000-2010
    hashimoto = series.read_digitised_series(SHARED_DATA / "testbed" / "hashimoto2015_rh.txt")
    expected = hashimoto.loc[2000:2010].mean()
    assert scalar(result, name="reference total", reference="hashimoto2015-rh", region="global") == pytest.approx(expected)
    regional = result.tables["regional_totals"]
    model_rows = regional[(regional["role"] == "model") & regional["region"].str.startswith("lat_")]
    assert model_rows["value"].sum() == pytest.approx(total, rel=1e-6)
    koppen = regional[(regional["role"] == "model") & regional["region"].str.startswith("koppen_")]
    assert len(koppen) == 6 and 0.9 * total < koppen["value"].sum() <= total * 1.0001
    overall = scalar(result, analysis="overall", name="overall score")
    assert 0.3 < overall < 1


@pytest.mark.parametrize("name", list(TESTBED))
def test_zonal_and_taylor_against_cardamom(models, staged, name):
    zonal = staged["zonal_means"].confront(models[name])
    assert 0.5 < scalar(zonal, analysis="overall", name="overall score") < 1
    fields = zonal.fields
    model_mean = fields["zonal_mean_model_vs_cardamom_rh"]
    ref_mean = fields["zonal_mean_cardamom_rh"]
    # models agree with the product in the tropics within a factor of 1.5 [002]
    tropics = slice(-10, 10)
    assert model_mean.dims == ref_mean.dims == ("lat_band",)
    ratio = float(model_mean.sel(lat_band=tropics).mean() / ref_mean.sel(lat_band=tropics).mean())
    assert 0.67 < ratio < 1.5
    taylor = staged["taylor"].confront(models[name])
    r = scalar(taylor, name="correlation", region="global", reference="cardamom-rh")
    assert 0.4 < r < 0.95  # seeds: models vs observed Rh R = 0.41-0.72 [000]
    assert 0 < scalar(taylor, analysis="overall", name="overall score") < 1
    assert taylor.fields["mean_model"].shape == (96, 144)  # the testbed grid is the coarser one
    assert np.isfinite(taylor.tables["taylor"]["correlation"]).all()
