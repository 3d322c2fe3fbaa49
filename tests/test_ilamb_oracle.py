"""soilbench's global integral and spatial (Taylor) score against ILAMB 2.x on the same data.

ILAMB's conventions, read from its source (ILAMB 2.7.3, ``Variable.py``, ``ilamblib.py``,
``constants.py``):

- cell areas ``earth_rad² · Δλ · (sin φ₂ − sin φ₁)`` with ``earth_rad = 6.371e6`` m; soilbench's
  loader uses 6 371 229 m, so areas differ by (6371229/6371000)² ≈ 1 + 7.2e-5. We give both the
  same areas (ILAMB's ``area`` keyword) for the integral and check the radius ratio separately.
- ``integrateInSpace`` sums value · area over unmasked cells (no land fraction: we pass land
  fraction × area as ILAMB's ``weight``).
- ``spatialDistribution``: σ by ``numpy.ma.std`` (population, *unweighted*: every cell counts
  once) on each variable's own mask, R by a plain Pearson sum on a composed grid, then
  ``4(1+R)/((σ̂+1/σ̂)²(1+R0))``. soilbench weights by area, so the exact comparison passes unit
  weights; with area weights on a narrow equatorial band (nearly equal areas) the two agree to
  the size of the area variation.
"""

import numpy as np
import pytest

pytest.importorskip("ILAMB")
from ILAMB import ilamblib as il  # noqa: E402
from ILAMB.constants import earth_rad  # noqa: E402
from ILAMB.Variable import Variable  # noqa: E402

from soilbench.analysis import integrate, taylor  # noqa: E402
from soilbench.load.grid import EARTH_RADIUS_M  # noqa: E402
from test_gridded_analysis import canonical, regular_grid  # noqa: E402


def ilamb_variable(values: np.ndarray, lat: np.ndarray, lon: np.ndarray, unit: str, area=None) -> Variable:
    return Variable(data=np.ma.masked_invalid(values), unit=unit, lat=lat, lon=lon, area=area, name="rh")


def test_global_integral_matches_integrate_in_space():
    rng = np.random.default_rng(10)
    lat, lon = regular_grid(2.0)
    field = rng.uniform(0, 1000, (lat.size, lon.size))
    field[rng.random(field.shape) < 0.4] = np.nan
    land = rng.uniform(0, 1, field.shape)
    ds = canonical(field, 2.0, land_fraction=land)
    ours = float(integrate.global_total(ds["rh"], integrate.land_area(ds)))  # Pg yr-1

    area = ds["cell_area"].values
    var = ilamb_variable(field, lat, lon, "g m-2 yr-1", area=area)
    integral = var.integrateInSpace(weight=land)
    integral.convert("Pg yr-1")
    assert float(integral.data) == pytest.approx(ours, rel=1e-12)

    # with ILAMB's own areas the totals differ only by the earth radii
    own = ilamb_variable(field, lat, lon, "g m-2 yr-1").integrateInSpace(weight=land)
    own.convert("Pg yr-1")
    assert float(own.data) * (EARTH_RADIUS_M / earth_rad) ** 2 == pytest.approx(ours, rel=1e-9)
    np.testing.assert_allclose(il.CellAreas(lat, lon) * (EARTH_RADIUS_M / earth_rad) ** 2, area, rtol=1e-9)


def spatial_pair(lat_range, seed=11):
    rng = np.random.default_rng(seed)
    lat, lon = regular_grid(2.0, lat_range)
    reference = 300 + 200 * np.cos(np.radians(lat))[:, None] + rng.normal(0, 60, (lat.size, lon.size))
    model = 0.7 * reference + rng.normal(0, 80, reference.shape) + 40
    return lat, lon, reference, model


def ilamb_spatial(lat, lon, reference, model):
    ref = ilamb_variable(reference, lat, lon, "g m-2 yr-1")
    com = ilamb_variable(model, lat, lon, "g m-2 yr-1")
    std, correlation, score = ref.spatialDistribution(com)
    return float(std.data), float(correlation.data), float(score.data)


def test_spatial_distribution_score_matches_ilamb_with_unit_weights():
    lat, lon, reference, model = spatial_pair((-90.0, 90.0))
    std, correlation, score = ilamb_spatial(lat, lon, reference, model)
    ds = canonical(reference, 2.0)
    ours = taylor.taylor_statistics(ds["rh"].copy(data=model), ds["rh"], 1.0)
    assert ours["std_ratio"] == pytest.approx(std, rel=1e-10)
    assert ours["correlation"] == pytest.approx(correlation, rel=1e-10)
    assert ours["score_ilamb"] == pytest.approx(score, rel=1e-10)


def test_area_weighted_score_is_close_to_ilamb_where_areas_are_nearly_equal():
    # ±10°: cell areas vary by < 1.6 %, so area weighting changes the statistics very little
    lat, lon, reference, model = spatial_pair((-10.0, 10.0), seed=12)
    std, correlation, score = ilamb_spatial(lat, lon, reference, model)
    ds = canonical(reference, 2.0, lat_range=(-10.0, 10.0))
    ours = taylor.taylor_statistics(ds["rh"].copy(data=model), ds["rh"], integrate.land_area(ds))
    assert ours["correlation"] == pytest.approx(correlation, abs=5e-3)
    assert ours["std_ratio"] == pytest.approx(std, rel=5e-3)
    assert ours["score_ilamb"] == pytest.approx(score, abs=5e-3)
    # on the whole globe the weighting matters: soilbench does not silently equal ILAMB there
    lat, lon, reference, model = spatial_pair((-90.0, 90.0), seed=12)
    _, correlation_global, _ = ilamb_spatial(lat, lon, reference, model)
    ds = canonical(reference, 2.0)
    weighted = taylor.taylor_statistics(ds["rh"].copy(data=model), ds["rh"], integrate.land_area(ds))
    assert weighted["correlation"] != pytest.approx(correlation_global, abs=1e-4)
