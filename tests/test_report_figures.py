"""The scorecard's figures: content keys, no redrawing of unchanged figures, parallel drawing,
and maps whose cells cover their bounds."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import results_fixture as rf
from soilbench.report import build_report, plots, projection
from soilbench.report.figures import MANIFEST, FigureBook, figure_key
from soilbench.report.site import Site


def _pngs(site: Path) -> dict[str, tuple[int, int]]:
    """Every PNG of a site with (inode, mtime): a file written again gets a new inode (atomic rename)."""
    return {str(p.relative_to(site)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in site.rglob("*.png")}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    return rf.make_results(tmp_path_factory.mktemp("figures") / "out")


def test_rebuilding_on_unchanged_results_redraws_nothing(results, tmp_path):
    site = tmp_path / "site"
    build_report(results, site, progress=False, workers=1)
    first = _pngs(site)
    assert len(first) > 20
    manifest = json.loads((site / MANIFEST).read_text())["figures"]
    assert set(manifest) == set(first), "every PNG on the pages is recorded with its key"

    build_report(results, site, progress=False, workers=1)
    assert _pngs(site) == first, "no figure may be written again when nothing changed"


def test_a_changed_field_redraws_its_own_figures_only(results, tmp_path):
    changed = tmp_path / "out"
    import shutil

    shutil.copytree(results, changed)
    site = tmp_path / "site"
    build_report(changed, site, progress=False, workers=1)
    first = _pngs(site)
    task = next(p for p in sorted((changed / "tau-turnover").iterdir()) if (p / "fields.nc").is_file())
    fields = xr.load_dataset(task / "fields.nc")
    fields["tau_model"] = fields["tau_model"] * 1.5
    fields.to_netcdf(task / "fields.nc")

    build_report(changed, site, progress=False, workers=1)
    again = _pngs(site)
    redrawn = sorted(name for name in first if again[name] != first[name])
    assert redrawn, "the changed model's figures must be drawn again"
    assert all(name.startswith("c/tau-turnover/") for name in redrawn), redrawn
    assert len(redrawn) < len(first) / 4


def test_figures_drawn_in_parallel_are_the_same(results, tmp_path):
    build_report(results, tmp_path / "one", progress=False, workers=1)
    build_report(results, tmp_path / "two", progress=False, workers=2)
    one, two = _pngs(tmp_path / "one"), _pngs(tmp_path / "two")
    assert one.keys() == two.keys()
    for name in one:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    assert (tmp_path / "one" / "index.html").read_text() == (tmp_path / "two" / "index.html").read_text()


def _field(scale: float = 1.0) -> xr.DataArray:
    lat, lon = np.arange(-88.0, 90, 4.0), np.arange(-178.0, 180, 4.0)
    values = scale * np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size)
    return xr.DataArray(values, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                        attrs={"plot": "map", "colormap": "sequential", "units": "yr"})


CALLS: list[str] = []


def counted_map(field, title):
    """A module-level drawing function (so it pickles and gets a content key) that counts its calls."""
    CALLS.append(title)
    return plots.map_figure(field, title)


def test_same_figure_shown_twice_is_drawn_once_and_failures_are_left_off(tmp_path):
    CALLS.clear()
    counted = counted_map
    book = FigureBook(Site(tmp_path), workers=1)
    a = book.add("a.png", functools.partial(counted, _field(), "t"), "a")
    b = book.add("b.png", functools.partial(counted, _field(), "t"), "b")
    c = book.add("c.png", functools.partial(counted, _field(2.0), "t"), "c")
    bad = book.add("bad.png", functools.partial(plots.map_figure, "not a field", "t"), "bad")
    stats = book.finish()
    assert len(CALLS) == 2 and stats.shared == 1
    assert a.ok and b.ok and c.ok and bad.ok is False
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert not (tmp_path / "bad.png").exists()


def test_content_key_follows_the_inputs():
    assert figure_key(functools.partial(plots.map_figure, _field(), "t")) == \
        figure_key(functools.partial(plots.map_figure, _field(), "t"))
    assert figure_key(functools.partial(plots.map_figure, _field(), "t")) != \
        figure_key(functools.partial(plots.map_figure, _field(1.001), "t"))
    assert figure_key(functools.partial(plots.map_figure, _field(), "t", (0.0, 1.0))) != \
        figure_key(functools.partial(plots.map_figure, _field(), "t", (0.0, 2.0))), "shared colour limits count"
    assert figure_key(lambda: b"") is None, "a call that cannot be pickled has no key (always drawn)"


# -- maps draw cells from their bounds ----------------------------------------------------------------
def test_cell_edges_from_bounds_else_between_centres():
    lat = np.array([-45.0, 10.0, 50.0])
    field = xr.DataArray(np.zeros((3, 2)), coords={"lat": lat, "lon": [-90.0, 90.0]}, dims=("lat", "lon"))
    np.testing.assert_allclose(projection.cell_edges(field, "lat"), [-72.5, -17.5, 30.0, 70.0])
    np.testing.assert_allclose(projection.cell_edges(field, "lon"), [-180.0, 0.0, 180.0])
    saved = xr.Dataset({"lat_bnds": (("lat", "nv"), [[-90.0, 0.0], [0.0, 20.0], [20.0, 90.0]])},
                       coords={"lat": lat})
    np.testing.assert_allclose(projection.cell_edges(field, "lat", saved), [-90.0, 0.0, 20.0, 90.0])
    saved["lat"].attrs["bounds"] = "lat_edges_of_cells"  # CF: the coordinate names its bounds variable
    saved = saved.rename({"lat_bnds": "lat_edges_of_cells"})
    np.testing.assert_allclose(projection.cell_edges(field.assign_coords(lat=saved["lat"]), "lat", saved),
                               [-90.0, 0.0, 20.0, 90.0])
    gappy = xr.Dataset({"lat_bnds": (("lat", "nv"), [[-90.0, -10.0], [0.0, 20.0], [20.0, 90.0]])})
    np.testing.assert_allclose(projection.cell_edges(field, "lat", gappy), [-72.5, -17.5, 30.0, 70.0],
                               err_msg="bounds with gaps are not cells side by side: edges from centres")


def test_each_pixel_shows_the_cell_whose_bounds_contain_it():
    """A coarse irregular grid: every pixel's cell is the one whose bounds hold the pixel's lon/lat."""
    import cartopy.crs as ccrs

    lat_edges = np.array([-90.0, -30.0, 0.0, 60.0, 90.0])
    lon_edges = np.array([-180.0, -100.0, 20.0, 180.0])
    index, (x0, x1, y0, y1) = projection.raster_index("robinson", lat_edges, lon_edges, (60, 120))
    ny, nx = index.shape
    xx, yy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx, y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny)
    lonlat = ccrs.PlateCarree().transform_points(ccrs.Robinson(), xx, yy)
    on_globe = np.isfinite(lonlat[..., 0]) & (np.abs(lonlat[..., 0]) <= 180)
    assert (index[~on_globe] == -1).all()
    rows, cols = index[on_globe] // 3, index[on_globe] % 3
    lon, lat = lonlat[..., 0][on_globe], lonlat[..., 1][on_globe]
    assert ((lat >= lat_edges[rows] - 1e-9) & (lat <= lat_edges[rows + 1] + 1e-9)).all()
    assert ((lon >= lon_edges[cols] - 1e-9) & (lon <= lon_edges[cols + 1] + 1e-9)).all()
    assert len(np.unique(index[on_globe])) == 12, "every cell is visible"


def test_map_colours_follow_the_bounds_not_the_centres():
    """One wide cell given by its bounds covers the map from 0° to 80°E, not just around its centre."""
    lat = np.array([-45.0, 45.0])
    lon = np.array([-170.0, 10.0, 100.0])  # centres far from the middle of their cells
    values = np.array([[np.nan, np.nan, np.nan], [np.nan, 1.0, np.nan]])
    field = xr.DataArray(values, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                         attrs={"plot": "map", "colormap": "sequential", "units": "yr", "vmin": 0, "vmax": 2})
    edges = (np.array([-90.0, 0.0, 90.0]), np.array([-180.0, 0.0, 80.0, 180.0]))
    index, _ = projection.raster_index("platecarree", *edges, (90, 180))
    image = projection.raster(values, index)
    filled = np.argwhere(np.isfinite(image))
    # pixel columns are 2° wide from -180°: the cell spans columns 90..129, rows 45..89 (0..90°N)
    assert filled[:, 1].min() == 90 and filled[:, 1].max() == 129
    assert filled[:, 0].min() == 45 and filled[:, 0].max() == 89
    assert plots.map_figure(field, "t", edges=edges)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork here")
def test_drawing_processes_are_forked_only_beside_idle_threads(monkeypatch):
    """The choice is made on the threads of this process; earlier tests in the same pytest
    process may leave threads of their own, so the thread list is given here."""
    import threading

    from soilbench.report import figures

    main = threading.main_thread()
    idle = threading.Thread(target=lambda: None, name="tqdm_monitor")  # tqdm's monitor of every bar
    busy = threading.Thread(target=lambda: None, name="some-other-work")
    monkeypatch.setattr(figures.threading, "enumerate", lambda: [main, idle])
    assert figures._context().get_start_method() == "fork"
    monkeypatch.setattr(figures.threading, "enumerate", lambda: [main, idle, busy])
    assert figures._context().get_start_method() == "forkserver"
