"""The score-validity suite on a small synthetic grid (docs/scores.md): controlled models built from
the references run through ``soilbench run`` (in this process), and the three tests hold.

The full suite on the real references is ``python benchmarks/score_validity.py --work DIR``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import soilbench.load
from soilbench import cli
from soilbench.analysis import controlled
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
    return {"cardamom-rh": _product("rh", rh, land, "g m-2 yr-1"),
            "hwsd-ncscd-soilc": _product("csoil", csoil, land, "kg m-2"),
            "hwsd-soilc": _product("csoil", np.where(lat2 > 50, 0.8 * csoil, csoil), land, "kg m-2")}


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


@pytest.fixture
def references(monkeypatch):
    products = world()
    monkeypatch.setattr(soilbench.load, "REFERENCE_IDS", tuple(products))
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: products[ident].copy())
    return products


def fast_config(module, tmp_path: Path) -> Path:
    """The suite's definition without the site confrontations and the Köppen regions."""
    definition = yaml.safe_load(module.CONFIG.read_text(encoding="utf-8"))
    kept = []
    for c in definition["confrontations"]:
        if c["type"] in ("srdb_annual", "daily_rh"):
            continue
        if c["type"] in ("global_totals", "taylor"):
            c["options"] = {**c.get("options", {}), "regions": ["latitude_bands"]}
        kept.append(c)
    definition["confrontations"] = kept
    path = tmp_path / "validity.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    return path


def test_controlled_models_pass_the_three_tests(references, tmp_path):
    import pandas as pd

    module = _module()
    # every controlled model but the smoothed one (no test is about it), to keep the test short
    names = set(controlled.controlled_models(references["cardamom-rh"], ["rh"], 20.0)) - {"smoothed"}
    suites = module.write_gridded_models(references["cardamom-rh"], references["hwsd-ncscd-soilc"],
                                         tmp_path / "models", coarse_deg=20.0, only=names)
    families = {f"{s.family}-{name}": s.family for s in suites for name in s.files}
    real = imperfect_models(references, tmp_path / "models")
    config = fast_config(module, tmp_path)
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
    assert not table.loc[["model-a", "model-b"], module.FAMILY_COLUMNS["rh"]].isna().any().any()
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
