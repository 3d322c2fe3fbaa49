"""Land totals one way: the area rule and the NaN rule of soilbench.analysis.integrate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import integrate, reductions, twobox
from soilbench.analysis import turnover as tau
from soilbench.analysis.plausibility import valid_land_area_m2
from soilbench.quantities import G_PER_PG

LAT, LON = [-10.0, 10.0], [0.0, 20.0, 40.0]
AREA = xr.DataArray(np.full((2, 3), 2.0e12), coords={"lat": LAT, "lon": LON}, dims=("lat", "lon"),
                    attrs={"units": "m2"})
#: one cell half land, one with an unknown land fraction (no land), one ocean
FRACTION = xr.DataArray([[1.0, 0.5, np.nan], [1.0, 0.0, 1.0]], coords=AREA.coords, dims=AREA.dims)
#: g m-2 yr-1; the last cell of the second row has no value
RATE = xr.DataArray([[100.0, 200.0, 300.0], [50.0, 400.0, np.nan]], coords=AREA.coords, dims=AREA.dims,
                    attrs={"units": "g m-2 yr-1"})
#: by hand: 2e12 m² × (100·1 + 200·0.5 + 300·0 + 50·1 + 400·0) g m-2 yr-1, the NaN cell adding nothing
EXPECTED_PG = 2.0e12 * (100 + 100 + 50) / G_PER_PG


def test_the_area_rule_counts_an_unknown_land_fraction_as_no_land():
    area = integrate.land_area_m2(AREA, FRACTION)
    assert float(area[0, 2]) == 0.0 and float(area[0, 1]) == pytest.approx(1.0e12)
    ds = xr.Dataset({"cell_area": AREA, "land_fraction": FRACTION})
    np.testing.assert_array_equal(integrate.land_area(ds).values, area.values)
    # valid land: cells with a value only
    assert valid_land_area_m2(RATE, AREA, FRACTION) == pytest.approx(2.0e12 * (1 + 0.5 + 0 + 1 + 0))


def test_the_nan_rule_skips_cells_without_a_value_and_gives_nan_without_any():
    area = integrate.land_area_m2(AREA, FRACTION)
    assert float(integrate.area_sum(RATE, area)) == pytest.approx(EXPECTED_PG * G_PER_PG)
    assert np.isnan(float(integrate.area_sum(RATE * np.nan, area)))


def test_every_land_total_follows_the_same_rule():
    area = integrate.land_area_m2(AREA, FRACTION)
    assert float(integrate.global_total(RATE, area.assign_attrs(units="m2"))) == pytest.approx(EXPECTED_PG)
    # per step: the second step has no value at all, so its total is NaN rather than 0
    steps = xr.concat([RATE, RATE * np.nan], dim="time").assign_attrs(units="g m-2 yr-1")
    per_step = reductions.global_step_totals(steps, area)
    assert float(per_step[0]) / G_PER_PG == pytest.approx(EXPECTED_PG) and np.isnan(float(per_step[1]))
    # the 2-box series: a year of two steps whose second has no value is the first step's total
    time = pd.date_range("2001-01-01", periods=2, freq="MS")
    model = xr.Dataset({q: steps.assign_coords(time=time) for q in ("npp", "rh", "cveg", "csoil")},
                       coords={"step_days": ("time", [31.0, 28.0])})
    model["cell_area"], model["land_fraction"] = AREA, FRACTION
    series = twobox.global_annual_series(model)
    assert series["rh_pg_yr"].iloc[0] == pytest.approx(EXPECTED_PG)
    # a turnover time over the same cells: Σ C·A / Σ Rh·A with C = Rh / 1000 kg per g → 1 yr
    assert tau.global_turnover_time(RATE / 1000.0, RATE, area) == pytest.approx(1.0)
    assert np.isnan(tau.global_turnover_time(RATE * np.nan, RATE, area))
