"""The score-validity suite on a small synthetic grid (docs/scores.md): controlled models built from
the references run through ``soilbench run`` (in this process), and the three tests hold.

The full suite on the real references is ``python benchmarks/score_validity.py --work DIR``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

import soilbench.load
from soilbench import cli
from soilbench.analysis import controlled
from soilbench.config import load_benchmark
from soilbench.load.grid import cell_bounds, sphere_cell_area

ROOT = Path(__file__).resolve().parent.parent
RES_DEG = 10.0


def _module():
    if "score_validity" in sys.modules:
        return sys.modules["score_validity"]
    spec = importlib.util.spec_from_file_location("score_validity", ROOT / "benchmarks" / "score_validity.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["score_validity"] = module  # its dataclass needs its module registered
    spec.loader.exec_module(module)
    return module


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat = np.arange(-90 + RES_DEG / 2, 90, RES_DEG)
    lon = np.arange(-180 + RES_DEG / 2, 180, RES_DEG)
    pairs = lambda edges: np.column_stack([edges[:-1], edges[1:]])  # noqa: E731
    return lat, lon, sphere_cell_area(pairs(cell_bounds(lat, 90.0)), pairs(cell_bounds(lon)))


def _product(name: str, values: np.ndarray, land: np.ndarray, units: str) -> xr.Dataset:
    lat, lon, area = _grid()
    ds = xr.Dataset({name: (("lat", "lon"), np.where(land, values, np.nan), {"units": units}),
                     "cell_area": (("lat", "lon"), area, {"units": "m2"}),
                     "land_fraction": (("lat", "lon"), land.astype(float))},
                    coords={"lat": lat, "lon": lon}, attrs={"period": "2001-2010", "climatology": 1})
    return ds


def world() -> dict[str, xr.Dataset]:
    """An Rh map and two soil carbon maps on a 5° grid, with more land and a boreal maximum in the
    north (like the real Earth, so that a latitude flip is a different world)."""
    lat, lon, _ = _grid()
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    rng = np.random.default_rng(11)
    land = (lat2 > -55) & (lat2 < 80) & (np.sin(np.radians(2 * lon2)) + np.cos(np.radians(3 * lat2)) > -0.4)
    land &= ~((lat2 < 0) & (np.cos(np.radians(lon2)) > 0.2))
    rh = (120 + 650 * np.exp(-((lat2 - 5) / 18) ** 2) + 260 * np.exp(-((lat2 - 52) / 10) ** 2)
          + 90 * np.sin(np.radians(2 * lon2 + 4 * lat2)) + rng.uniform(-50, 50, lat2.shape))
    # waves running north-east: a mirrored world has them running south-east
    csoil = (8 + 28 * np.exp(-((lat2 - 62) / 12) ** 2) + 6 * np.cos(np.radians(2 * lon2 + 5 * lat2))
             + rng.uniform(0, 3, lat2.shape))
    # a gridded mean annual temperature (the root-contribution product's MAT) for the τ–MAT curve
    mat = 27 - 0.5 * np.abs(lat2) - 6 * np.clip((lat2 - 40) / 30, 0, 1) + rng.uniform(-2, 2, lat2.shape)
    return {"cardamom-rh": _product("rh", rh, land, "g m-2 yr-1"),
            "hwsd-ncscd-soilc": _product("csoil", csoil, land, "kg m-2"),
            "hwsd-soilc": _product("csoil", np.where(lat2 > 50, 0.8 * csoil, csoil), land, "kg m-2"),
            "root-contribution": _product("mat", mat, land, "degC")}


def koppen_classes() -> xr.DataArray:
    """Köppen classes of the world, every climate group present and, as on Earth, boreal (D) and
    arctic (E) climates in the north only."""
    lat, lon, _ = _grid()
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    a = np.abs(lat2)
    codes = np.select([a < 15, a < 30, (a < 45) & (lon2 < 0), (a < 45) | (lat2 < 0), lat2 < 65],
                      ["Af", "BWh", "Csa", "Cfb", "Dfb"], "ET")
    return xr.DataArray(codes.astype(object), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))


def imperfect_models(products: dict[str, xr.Dataset], models_dir: Path) -> list[str]:
    """Two plausible but imperfect models (the stand-ins for real ones): smoothed and biased, and
    with a latitude-dependent error and noise."""
    rh, stock = products["cardamom-rh"], products["hwsd-ncscd-soilc"]
    both = rh.assign(csoil=stock["csoil"])
    rng = np.random.default_rng(3)
    a = controlled.smoothed(controlled.scaled(both, ["rh"], 1.15), ["rh", "csoil"], 3)
    a["csoil"] = a["csoil"] * 0.8
    lat_factor = 1 + 0.3 * np.sin(np.radians(both["lat"]))
    b = both.assign(rh=both["rh"] * lat_factor * rng.uniform(0.8, 1.2, both["rh"].shape),
                    csoil=both["csoil"] / lat_factor)
    module = _module()
    return [str(module._write(a, models_dir / "model-a.nc")), str(module._write(b, models_dir / "model-b.nc"))]


def site_tables(rh: xr.Dataset, directory: Path) -> dict[str, Path]:
    """SRDB-like annual and MGRhD-like daily Rh at land cells of the world: several records per
    cell that differ (site noise, different years), as in the real tables."""
    rng = np.random.default_rng(5)
    lat, lon = rh["lat"].values, rh["lon"].values
    i, j = np.nonzero(np.isfinite(rh["rh"].values))
    cells = rng.choice(i.size, size=30, replace=False)
    annual = []
    for k, c in enumerate(cells):
        for r in range(int(rng.integers(1, 4))):
            annual.append({"Record_number": len(annual) + 1, "Study_number": 100 + k, "Site_ID": f"S{k}-{r}",
                           "Latitude": round(lat[i[c]] + rng.uniform(-4, 4), 2),
                           "Longitude": round(lon[j[c]] + rng.uniform(-4, 4), 2),
                           "Study_midyear": int(rng.integers(2001, 2011)) + 0.5, "YearsOfData": 1,
                           "Manipulation": "None", "Meas_method": "IRGA", "Rs_annual": "NA",
                           "Rh_annual": round(float(rh["rh"].values[i[c], j[c]]
                                                    * np.exp(0.25 * rng.standard_normal())), 1)})
    daily = []
    for study, c in enumerate(cells[:14]):
        year = int(rng.integers(2001, 2011))
        for doy in np.sort(rng.choice(np.arange(1, 366), size=10, replace=False)):
            cycle = 1 + 0.4 * np.cos(2 * np.pi * (doy - 200) / 365) * np.sign(lat[i[c]])
            value = rh["rh"].values[i[c], j[c]] / 365 * cycle * np.exp(0.2 * rng.standard_normal())
            daily.append({"Study_number": 500 + study, "Site_ID": f"D{study}", "Meas_Year": year,
                          "Meas_Month": "NA", "Meas_DOY": int(doy),
                          "Latitude": round(lat[i[c]] + 1.0, 2), "Longitude": round(lon[j[c]] - 1.0, 2),
                          "Manipulation": "None", "Meas_method": "IRGA", "Rh_Norm": round(float(value), 4)})
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"srdb-v5-data": directory / "srdb.csv", "mgrhd": directory / "mgrhd.csv"}
    pd.DataFrame(annual).to_csv(paths["srdb-v5-data"], index=False)
    pd.DataFrame(daily).to_csv(paths["mgrhd"], index=False)
    return paths


@pytest.fixture
def references(monkeypatch, tmp_path):
    products = world()
    monkeypatch.setattr("soilbench.load.reference.gridded_reference_ids", lambda ids=tuple(products): ids)
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: products[ident].copy())
    monkeypatch.setattr("soilbench.regions.load_koppen_classes",
                        lambda data_dir=None, dataset_id="koppen": koppen_classes())
    tables = site_tables(products["cardamom-rh"], tmp_path / "sites")
    monkeypatch.setattr("soilbench.confrontations.sites._fetch", lambda dataset_id, data_dir: tables[dataset_id])
    return products


def fast_config(module, tmp_path: Path) -> Path:
    """The suite's definition with latitude bands for regions, sites without Köppen groups and
    a small bootstrap."""
    definition = yaml.safe_load(module.CONFIG.read_text(encoding="utf-8"))
    kept = []
    for c in definition["confrontations"]:
        if c["type"] in ("srdb_annual", "daily_rh"):
            c["options"] = {**c.get("options", {}), "climate_map": None}
            if c["type"] == "daily_rh":
                c["options"]["bootstrap_samples"] = 20
        if c["type"] in ("global_totals", "taylor"):
            c["options"] = {**c.get("options", {}), "regions": ["latitude_bands"]}
        kept.append(c)
    definition["confrontations"] = kept
    path = tmp_path / "validity.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    return path


def test_controlled_models_pass_the_three_tests(references, tmp_path):
    module = _module()
    # every controlled model but the smoothed one (no test is about it), to keep the test short
    names = set(controlled.controlled_models(references["cardamom-rh"], ["rh"], 20.0)) - {"smoothed"}
    suites = module.write_gridded_models(references["cardamom-rh"], references["hwsd-ncscd-soilc"],
                                         tmp_path / "models", coarse_deg=20.0, only=names)
    config = fast_config(module, tmp_path)
    site_confrontations = [c for c in load_benchmark(config).build() if c.kind in ("srdb_annual", "daily_rh")]
    suites += module.write_site_models(references["cardamom-rh"], site_confrontations, tmp_path / "models")
    families = {f"{s.family}-{name}": s.family for s in suites for name in s.files}
    real = imperfect_models(references, tmp_path / "models")
    parts = []
    for family, models, names in [(s.family, [str(p) for p in s.files.values()], module.FAMILY_CONFRONTATIONS[s.family])
                                  for s in suites] + [("real", real, None)]:
        family_yaml = module.family_config(config, names, tmp_path / f"{family}.yaml")
        out = tmp_path / "out" / family
        code = cli.main(["run", "--config", str(family_yaml), "--models", *models, "--out", str(out),
                         "--workers", "0", "--no-report", "--quiet"])
        assert code == 0
        parts.append(pd.read_csv(out / "scalars.csv"))
    scalars = pd.concat(parts, ignore_index=True)
    families.update({"model-a": "real", "model-b": "real"})
    table = module.score_table(scalars, families)
    for family in ("rh", "tau", "srdb", "mgrhd"):
        assert not table.loc[["model-a", "model-b"], module.FAMILY_COLUMNS[family]].isna().any().any()
    # every family ran, the site families with their null models
    assert {"srdb-reference", "srdb-constant", "srdb-shuffled", "srdb-flipped", "mgrhd-reference",
            "mgrhd-x0.5", "mgrhd-zero"} <= set(table.index)
    failures = module.check(table, families, ["model-a", "model-b"])
    assert failures == [], "\n" + module.markdown(table, families) + "\n".join(failures)
    # the suite's own checks can fail: a score that ignores the pattern is caught
    broken = table.copy()
    broken.loc["rh-shuffled", "zonal: overall"] = 0.7
    broken.loc["rh-x1.3", "taylor: bias"] = broken.loc["rh-x1.1", "taylor: bias"]
    broken.loc["rh-zero", "totals: overall"] = 0.37
    found = module.check(broken, families, ["model-a", "model-b"])
    assert any("rh-shuffled" in f and "zonal" in f for f in found)
    assert any("rh-x1.3" in f and "test 2" in f for f in found)
    assert any("rh-zero" in f and "totals: overall" in f for f in found)
    # a τ climate score blind to the pattern is caught too
    broken.loc["tau-constant", "tau: climate groups"] = 0.6
    broken.loc["tau-x2", "tau: MAT curve"] = broken.loc["tau-x1.3", "tau: MAT curve"]
    found = module.check(broken, families, ["model-a", "model-b"])
    assert any("tau-constant" in f and "tau: climate groups" in f for f in found)
    assert any("tau-x2" in f and "tau: MAT curve" in f and "test 2" in f for f in found)
    # and so are stock scores blind to the level or to a stock-free model
    broken.loc["tau-zero", "stocks: spatial"] = 0.7
    broken.loc["tau-x0.5", "stocks: zonal"] = broken.loc["tau-x0.77", "stocks: zonal"]
    found = module.check(broken, families, ["model-a", "model-b"])
    assert any("tau-zero" in f and "stocks: spatial" in f for f in found)
    assert any("tau-x0.5" in f and "stocks: zonal" in f and "test 2" in f for f in found)
    # and a site score that gives a field without site-to-site variation e^-1 (ILAMB's) is caught
    broken.loc["srdb-constant", "SRDB: spatial"] = np.exp(-1) + 0.2
    broken.loc["srdb-zero", "SRDB: overall"] = np.exp(-1)
    found = module.check(broken, families, ["model-a", "model-b"])
    assert any("srdb-constant" in f and "SRDB: spatial" in f for f in found)
    assert any("srdb-zero" in f and "SRDB: overall" in f for f in found)


def test_smoothed_stays_within_the_field_where_cells_have_values_but_no_land():
    """The merged stock has values on cells of land fraction 0: the box mean gave them -545 kg m-2
    (a window without land has a round-off sum of weights, not 0)."""
    grid = controlled.regular_grid(2.0)
    rng = np.random.default_rng(0)
    values = rng.uniform(1.0, 120.0, grid["cell_area"].shape).astype("float32")
    # fractional land (sums with round-off) up to 60° N, cells with values but no land above
    land = np.where(grid["lat"].values[:, None] > 60, 0.0, rng.uniform(0.05, 1.0, values.shape))
    ds = grid.assign(csoil=(("lat", "lon"), values), land_fraction=(("lat", "lon"), land))
    smooth = controlled.smoothed(ds, ["csoil"])["csoil"].values
    assert np.isfinite(smooth).all()
    assert smooth.min() >= values.min() - 1e-3 and smooth.max() <= values.max() + 1e-3
