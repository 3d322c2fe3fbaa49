"""Rs from Rh (soilbench.analysis.partition): hand-computed cases of both methods."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from soilbench.analysis import partition, totals

R_M = 6371229.0


def sphere_area(lat_edges: np.ndarray, lon_edges: np.ndarray) -> np.ndarray:
    """Cell areas from edges: R² Δλ (sin φ₂ − sin φ₁), written out independently of the package."""
    band = np.diff(np.sin(np.radians(lat_edges)))
    return R_M**2 * np.outer(band, np.radians(np.diff(lon_edges)))


def rc_dataset(rc: np.ndarray, lat: np.ndarray, lon: np.ndarray, step: float) -> xr.Dataset:
    """A canonical RC dataset like ``load_reference("root-contribution")`` (land = where RC exists)."""
    lat_edges = np.append(lat - step / 2, lat[-1] + step / 2)
    lon_edges = np.append(lon - step / 2, lon[-1] + step / 2)
    dims, coords = ("lat", "lon"), {"lat": lat, "lon": lon}
    return xr.Dataset({"rc": (dims, rc, {"units": "1"}),
                       "cell_area": (dims, sphere_area(lat_edges, lon_edges), {"units": "m2"}),
                       "land_fraction": (dims, np.isfinite(rc).astype(float))}, coords=coords)


# -- bl2004 ------------------------------------------------------------------------------------------

def test_bl2004_by_hand():
    # Rh = 200: ln Rs = (ln 200 − 1.22)/0.73 = (5.298317 − 1.22)/0.73 = 5.586736 → Rs = e^5.5 · e^0.086736 = 244.692 · 1.090609 = 266.863
    rh = xr.DataArray([[200.0, 0.0, np.nan]], dims=("lat", "lon"), attrs={"units": "g m-2 yr-1", "source": "cresp"})
    rs = partition.rs_from_rh(rh, "bl2004")
    assert float(rs[0, 0]) == pytest.approx(266.863, rel=1e-5)
    assert np.isnan(rs[0, 1]) and np.isnan(rs[0, 2])  # Rh ≤ 0: outside the fitted relation
    assert rs.name == "rs" and rs.attrs["units"] == "g m-2 yr-1" and rs.attrs["rs_from_rh"] == "bl2004"
    assert rs.attrs["source"].startswith("cresp") and "1.22 + 0.73" in rs.attrs["source"]
    assert "Bond-Lamberty" in partition.describe(rs)
    # the relation inverts exactly, and the old import path still works
    back = math.exp(1.22 + 0.73 * math.log(float(rs[0, 0])))
    assert back == pytest.approx(200.0, rel=1e-12)
    assert totals.rs_from_rh_bl2004 is partition.rs_from_rh_bl2004


def test_bl2004_refuses_a_sub_annual_time_series():
    rh = xr.DataArray(np.ones((2, 1, 1)), dims=("time", "lat", "lon"))
    with pytest.raises(ValueError, match="annual"):
        partition.rs_from_rh(rh, "bl2004")


# -- root contribution -----------------------------------------------------------------------------

@pytest.fixture
def rc_product() -> xr.Dataset:
    """RC on 1° cells around (0°, 0°); each 2° model cell covers one 2 × 2 block.

    block (south, west): columns 0.2 | 0.6 in both rows → 0.4 whatever the row areas
    block (south, east): 0.5 and one missing cell → 0.5 (the mean of the valid cells)
    block (north, west): no RC at all → the fallback
    block (north, east): 0.3 and one RC ≥ 1, which cannot be a share of Rs → 0.3
    """
    rc = np.array([[0.2, 0.6, 0.5, np.nan],
                   [0.2, 0.6, 0.5, 0.5],
                   [np.nan, np.nan, 0.3, 1.2],
                   [np.nan, np.nan, 0.3, 0.3]])
    centres = np.array([-1.5, -0.5, 0.5, 1.5])
    return rc_dataset(rc, centres, centres, 1.0)


def model_rh(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, coords={"lat": [-1.0, 1.0], "lon": [-1.0, 1.0]}, dims=("lat", "lon"),
                        attrs={"units": "g m-2 yr-1", "source": "rh [g m-2 yr-1]"})


def test_root_contribution_by_hand(rc_product):
    rh = model_rh(np.array([[60.0, 100.0], [42.0, 70.0]]))
    rs = partition.rs_from_rh(rh, "root_contribution", rc_product)
    # land-mean RC of the product: valid cells weighted by their areas (rows differ by latitude)
    edges = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    area = sphere_area(edges, edges)
    rc = rc_product["rc"].values
    valid = np.isfinite(rc) & (rc < 1)
    fallback = float((rc[valid] * area[valid]).sum() / area[valid].sum())
    assert partition.global_mean_rc(rc_product) == pytest.approx(fallback, rel=1e-12)
    expected = np.array([[60.0 / (1 - 0.4), 100.0 / (1 - 0.5)],
                         [42.0 / (1 - fallback), 70.0 / (1 - 0.3)]])
    np.testing.assert_allclose(rs.values, expected, rtol=1e-9)
    assert rs.attrs["rs_from_rh"] == "root_contribution"
    assert rs.attrs["rc_filled_cells"] == 1 and rs.attrs["rc_cells_with_rh"] == 4
    assert "root-contribution" in rs.attrs["source"] and rs.attrs["source"].startswith("rh [g m-2 yr-1]")
    assert "1 of 4 model cells" in partition.describe(rs)


def test_root_contribution_keeps_the_time_axis_and_the_missing_cells(rc_product):
    base = np.array([[60.0, np.nan], [42.0, 70.0]])
    rh = xr.concat([model_rh(base), model_rh(2 * base)], dim="time").assign_coords(
        step_days=("time", [365.0, 366.0]))
    area = xr.DataArray(np.array([[1.0, 1.0], [3.0, 1.0]]), dims=("lat", "lon"))
    rs = partition.rs_from_rh(rh, "root_contribution", rc_product, area)
    assert rs.dims == ("time", "lat", "lon") and list(rs["step_days"].values) == [365.0, 366.0]
    np.testing.assert_allclose(rs.isel(time=1).values, 2 * rs.isel(time=0).values)
    assert float(rs[0, 0, 0]) == pytest.approx(100.0)
    assert np.isnan(rs[:, 0, 1]).all()  # no rh stays no rs
    assert rs.attrs["rc_filled_cells"] == 1 and rs.attrs["rc_cells_with_rh"] == 3
    # share of the model's rh on the filled cell: mean rh 63 × area 3 of (90 + 189 + 105)
    assert rs.attrs["rc_filled_rh_share"] == pytest.approx(189.0 / 384.0)


def test_rc_on_a_finer_model_grid_takes_the_covering_cell():
    # 2° RC cells over 1° model cells (inside the RC domain): each model cell lies inside one RC
    # cell and takes its value; a model cell under a missing RC cell gets none
    values = np.full((4, 4), 0.3)
    values[1:3, 1:3] = [[0.25, 0.35], [0.45, np.nan]]
    rc = rc_dataset(values, np.array([-3.0, -1.0, 1.0, 3.0]), np.array([-3.0, -1.0, 1.0, 3.0]), 2.0)
    centres = xr.DataArray([-1.5, -0.5, 0.5, 1.5], dims="x")
    mapped = partition.rc_on_grid(rc, centres.rename(x="lat"), centres.rename(x="lon"))
    expected = np.repeat(np.repeat(values[1:3, 1:3], 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(mapped.values, expected, rtol=1e-9)
    assert list(mapped["lat"].values) == [-1.5, -0.5, 0.5, 1.5]


def test_unknown_method_and_missing_rc_are_errors(rc_product):
    rh = model_rh(np.ones((2, 2)))
    with pytest.raises(ValueError, match="unknown rs_from_rh"):
        partition.rs_from_rh(rh, "q10")
    with pytest.raises(ValueError, match="needs the root-contribution map"):
        partition.rs_from_rh(rh, "root_contribution")
