"""Cell bounds: carried by the canonical dataset, and used to match sites to the cell containing them.

The sparse grid is a 2x2 subsample of a global 0.5° grid with CF bounds: four 0.5° cells far
apart. Matched by nearest centre (cell edges halfway between centres), every site of the world
was "inside" one of the four cells at 0 km; matched by bounds, only sites inside a cell are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_gen as gen  # noqa: E402
from test_sites import SRDB_COLUMNS, srdb_row, write_csv  # noqa: E402

from soilbench.analysis import sites as analysis  # noqa: E402
from soilbench.confrontations.base import confrontation_class  # noqa: E402
from soilbench.load import load_model  # noqa: E402
from soilbench.load.grid import cell_edges  # noqa: E402

#: the four cells kept: (lat index, lon index) pairs of the 0.5° grid → centres −79.75/45.25, −100.25/10.25
SPARSE_LAT = [20, 270]
SPARSE_LON = [159, 380]
HAWAII = [(19.4, -155.3), (21.3, -157.8), (20.7, -156.2)]


def sparse_rh_file(path: Path) -> Path:
    """rh (g m-2 yr-1, one annual step per year, 2 years) on the 2x2 subsample, with CF bounds."""
    lat = -90 + 0.5 * (np.arange(360) + 0.5)
    lon = -180 + 0.5 * (np.arange(720) + 0.5)
    lat, lon = lat[SPARSE_LAT], lon[SPARSE_LON]
    rate = np.full((2, 2, 2), 400.0, dtype="float32")
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rate, {"units": "g m-2 yr-1"}),
         "lat_bnds": (("lat", "bnds"), np.column_stack([lat - 0.25, lat + 0.25])),
         "lon_bnds": (("lon", "bnds"), np.column_stack([lon - 0.25, lon + 0.25])),
         "time_bnds": (("time", "bnds"), np.array([[0.0, 365.0], [365.0, 730.0]]))},
        coords={"time": ("time", [182.5, 547.5], {"units": "days since 2001-01-01", "calendar": "noleap",
                                                   "bounds": "time_bnds"}),
                "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north", "bounds": "lat_bnds"}),
                "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east", "bounds": "lon_bnds"})},
    )
    return gen.write(ds, path)


def world_sites(n: int = 271, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sites from 25°S to 71°N (SRDB's spread), none in the four cells, then Hawaii."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(-25.0, 71.0, n)
    lon = rng.uniform(-180.0, 180.0, n)
    return (np.concatenate([lat, [p[0] for p in HAWAII]]), np.concatenate([lon, [p[1] for p in HAWAII]]))


def test_canonical_dataset_keeps_file_bounds_in_canonical_order(tmp_path):
    """lat descending and lon 0…360 in the file: bounds follow the sort and the wrap."""
    path = gen.write(gen.make_rh(n_years=1, lat_descending=True, lon_0_360=True), tmp_path / "rh.nc")
    model = load_model(path)
    lat_b, lon_b = cell_edges(model)
    assert model["lat"].attrs["bounds"] == "lat_bnds" and model["lon"].attrs["bounds"] == "lon_bnds"
    assert np.all(lat_b[:, 0] < model["lat"].values) and np.all(model["lat"].values < lat_b[:, 1])
    assert np.all(lon_b[:, 0] < model["lon"].values) and np.all(model["lon"].values < lon_b[:, 1])
    assert np.allclose(lat_b[:, 1] - lat_b[:, 0], 15.0) and np.allclose(lon_b[:, 1] - lon_b[:, 0], 15.0)
    assert lat_b[0, 0] == -90.0 and lat_b[-1, 1] == 90.0
    # the bounds do not leak into the fields the confrontations take from the model
    assert "lat_bnds" not in model["rh"].coords


def test_sparse_grid_keeps_the_files_bounds_not_midpoints(tmp_path):
    model = load_model(sparse_rh_file(tmp_path / "sparse.nc"))
    lat_b, lon_b = cell_edges(model)
    assert np.allclose(lat_b, [[-80.0, -79.5], [45.0, 45.5]])
    assert np.allclose(lon_b, [[-100.5, -100.0], [10.0, 10.5]])


def test_sites_on_a_sparse_grid_match_only_the_cell_containing_them(tmp_path):
    model = load_model(sparse_rh_file(tmp_path / "sparse.nc"))
    valid = analysis.valid_land_cells(model["rh"], model["land_fraction"])
    lat, lon = world_sites()
    inside = np.array([45.3, -79.6]), np.array([10.2, -100.4])  # one site in each of two cells
    lat, lon = np.concatenate([lat, inside[0]]), np.concatenate([lon, inside[1]])

    by_centre = analysis.locate_sites(valid, lat, lon, 300.0)  # the old rule: edges halfway between centres
    assert (by_centre["located"] & (by_centre["distance_km"] == 0)).sum() == len(lat)  # every site "at 0 km"

    cells = analysis.locate_sites(valid, lat, lon, 300.0, *cell_edges(model))
    assert cells["located"].tolist()[-2:] == [True, True]
    assert cells["distance_km"].tolist()[-2:] == [0.0, 0.0]
    assert (cells["cell_lat"].iloc[-2], cells["cell_lon"].iloc[-2]) == (45.25, 10.25)
    world = cells.iloc[:-2]
    assert not (world["located"] & (world["distance_km"] == 0)).any()
    assert world["relocated"].all()
    # a substitute is accepted only within 300 km, and its distance is the real one
    assert (world.loc[world["located"], "distance_km"] <= 300.0).all()
    hawaii = world.iloc[-len(HAWAII):]
    assert not hawaii["located"].any()
    assert (hawaii["distance_km"] > 5000).all()
    expected = analysis.great_circle_km(lat[:-2], lon[:-2], world["cell_lat"].to_numpy(), world["cell_lon"].to_numpy())
    assert np.allclose(world["distance_km"], expected)


def test_contiguous_grid_matches_as_before(tmp_path):
    """On a contiguous grid the file's bounds are the midpoints: the same cells as nearest centre."""
    model = load_model(gen.write(gen.make_rh(n_years=1), tmp_path / "rh.nc"))
    valid = analysis.valid_land_cells(model["rh"], model["land_fraction"])
    lat, lon = world_sites(500, seed=7)
    old = analysis.locate_sites(valid, lat, lon, 300.0)
    new = analysis.locate_sites(valid, lat, lon, 300.0, *cell_edges(model))
    assert old.equals(new)


def test_srdb_confrontation_on_a_sparse_grid(tmp_path, monkeypatch):
    """End to end: SRDB sites far from the four cells are counted as beyond 300 km, not compared."""
    lat, lon = world_sites(40, seed=11)
    observed = np.random.default_rng(5).uniform(200.0, 500.0, lat.size).round(1)
    rows = [srdb_row(i + 1, float(v), lat=round(float(a), 3), lon=round(float(o), 3), midyear=2002)
            for i, (v, a, o) in enumerate(zip(observed, lat, lon))]
    rows.append(srdb_row(len(rows) + 1, 350.0, lat=45.3, lon=10.2, midyear=2002))
    files = {"srdb-v5-data": write_csv(rows, tmp_path / "srdb.csv", SRDB_COLUMNS)}
    monkeypatch.setattr("soilbench.confrontations.sites._fetch", lambda dataset_id, data_dir: files[dataset_id])
    model = load_model(sparse_rh_file(tmp_path / "sparse.nc"))
    conf = confrontation_class("srdb_annual")("rh-srdb", ["srdb-v5-data"], {"climate_map": None})
    result = conf.confront(model)
    value = result.scalars.set_index(["region", "name"])["value"]
    assert value[("global", "n sites")] == 1
    assert value[("global", "n sites beyond 300 km")] == len(rows) - 1
    table = result.tables["sites"]
    assert table.loc[table["located"], "distance_km"].tolist() == [0.0]
    assert value[("global", "bias")] == pytest.approx(400.0 - 350.0)


def test_longitude_bounds_written_across_the_seam(tmp_path):
    """lon_bnds [358.75, 1.25] for the cell at 0°: a 2.5° cell (area and bounds), not 357.5°."""
    ds = gen.make_rh(n_years=1, nlat=12, nlon=144, lon_0_360=True)
    lon = np.arange(144) * 2.5
    bounds = np.column_stack([lon - 1.25, lon + 1.25]) % 360.0
    ds = ds.assign_coords(lon=("lon", lon, ds["lon"].attrs), lon_bnds=(("lon", "bnds"), bounds))
    model = load_model(gen.write(ds, tmp_path / "rh.nc"))
    _, lon_b = cell_edges(model)
    assert np.allclose(lon_b[:, 1] - lon_b[:, 0], 2.5)
    assert np.all((lon_b[:, 0] <= model["lon"].values) & (model["lon"].values <= lon_b[:, 1]))
    assert float(model["cell_area"].sum()) == pytest.approx(4 * np.pi * 6371229.0**2, rel=1e-9)
    valid = xr.ones_like(model["cell_area"], dtype=bool)
    cells = analysis.locate_sites(valid, np.full(4, 10.0), np.array([0.5, 359.5, -178.5, 179.9]), 300.0,
                                  *cell_edges(model))
    assert cells["cell_lon"].tolist() == [0.0, 0.0, -177.5, -180.0]
    assert cells["distance_km"].tolist() == [0.0] * 4
