"""The default benchmark's Rs confrontations on the real testbed models (Rh only), through the
root-contribution map. Skipped with a reason when ../shared/data is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soilbench.config import load_benchmark, resolve_config
from soilbench.load import load_model

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not (SHARED / "root-contribution").is_dir(),
                                 reason=f"real data not found in {SHARED}")]
TESTBED = {"CASA-CNP": "casaclm_pool_flux_2000-2010_mean.nc", "MIMICS": "mimics_pool_flux_2000-2010_mean.nc"}
RS_CONFRONTATIONS = ("rs-global-totals", "rs-srdb-annual")
#: methods.md: 85.5 (83.6–87.8) Pg C yr-1 data-driven, 68–101 across 23 estimates
RS_RANGE_PG = (68.0, 101.0)


@pytest.fixture(scope="module")
def default_rs():
    benchmark = load_benchmark(resolve_config("default"))
    confrontations = {c.name: c for c in benchmark.build(data_dir=SHARED) if c.name in RS_CONFRONTATIONS}
    assert set(confrontations) == set(RS_CONFRONTATIONS)
    for conf in confrontations.values():
        assert conf.options["rs_from_rh"] == "root_contribution"
        assert conf.auxiliary_data == ["root-contribution"]
        conf.stage_data()
    return confrontations


@pytest.fixture(scope="module")
def testbed():
    return {name: load_model(SHARED / "testbed" / file, name=name) for name, file in TESTBED.items()}


@pytest.mark.parametrize("name", list(TESTBED))
def test_default_rs_confrontations_succeed_for_rh_only_models(default_rs, testbed, name):
    model = testbed[name]
    assert "rs" not in model and "ra_root" not in model
    totals = default_rs["rs-global-totals"].confront(model).scalars
    total = totals.query("name == 'total' and region == 'global'")["value"].iloc[0]
    assert RS_RANGE_PG[0] < total < RS_RANGE_PG[1]  # CASA-CNP 92.6, MIMICS 94.0 Pg C yr-1
    overall = totals.query("analysis == 'overall' and name == 'overall score'")["value"].iloc[0]
    assert 0.3 < overall <= 1
    sites = default_rs["rs-srdb-annual"].confront(model)
    value = sites.scalars.set_index(["region", "name"])["value"]
    assert value[("global", "n sites")] > 1000
    assert np.isfinite(value[("global", "overall score")])
    assert any("Rs = Rh / (1 − RC)" in note for note in sites.notes)
