"""soilbench.derived: one rule says whether a model can give a quantity, how (the reductions'
key), and gives the field, so a confrontation found applicable always gets its field."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from soilbench import derived
from soilbench.confrontations import confrontation_class
from test_gridded_analysis import canonical

QUANTITY_SETS = [set(c) for n in range(4) for c in itertools.combinations(("rh", "ra_root", "rs", "csoil"), n)]


def _model(available: set[str]):
    field = 400.0 + 100.0 * np.random.default_rng(0).random((45, 90))
    ds = canonical(field, 4.0, name="rh")
    ds.attrs.update(model="m", period="2001-2010", climatology=1)
    for name in available - {"rh"}:
        ds[name] = ds["rh"] * 0.5
    return ds if "rh" in available else ds.drop_vars("rh")


@pytest.mark.parametrize("rs_from_rh", ["none", "bl2004"])
@pytest.mark.parametrize("available", QUANTITY_SETS, ids=lambda s: "+".join(sorted(s)) or "nothing")
def test_applicability_the_key_and_the_field_agree(available, rs_from_rh):
    field, notes = derived.model_field(_model(available), "rs", rs_from_rh)
    way = derived.how("rs", available, rs_from_rh)
    reason = derived.not_applicable_reason(["rs"], available, rs_from_rh)
    assert (field is None) == (way is None) == (reason is not None)
    if way == "rh + ra_root":
        assert notes == ["rs = rh + ra_root (the model has no rs variable)"]
        np.testing.assert_allclose(field.values, 1.5 * _model(available)["rh"].values)
    if way == "rh/bl2004":
        assert field.attrs["rs_from_rh"] == "bl2004"


def test_the_types_build_their_reduction_keys_with_the_same_rule():
    model = _model({"rh", "ra_root"}).expand_dims(time=[np.datetime64("2005-07-01")])
    model = model.assign_coords(step_days=("time", [365.0]))
    taylor = confrontation_class("taylor")("t", ["cardamom-rh"], {"quantity": "rs", "regions": ["latitude_bands"]})
    assert taylor._sums_key(model, model) == ("annual_step_sums", "rs", "rh + ra_root", 2005, 2005)
    srdb = confrontation_class("srdb_annual")("s", ["srdb-v5-data"], {"quantity": "rs", "rs_from_rh": "bl2004"})
    assert srdb._how(model, "rs") == "rh + ra_root"
    assert srdb._how(model.drop_vars("ra_root"), "rs") == "rh/bl2004"


def test_inputs_cover_the_parts_of_derived_quantities():
    assert derived.inputs(["rs"]) == {"rs", "rh", "ra_root"}
    assert derived.inputs(["csoil", "rh"]) == {"csoil", "rh"}
