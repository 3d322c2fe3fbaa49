"""The real ``ilamb-run`` (ILAMB 2.7.3, one process, no mpiexec, offline) on soilbench's ctypes.

One synthetic world (4° × 5°, monthly 2001–2010, two models) is prepared with
``soilbench ilamb prepare``, run through ``confrontations/soilbench-ilamb.cfg`` by ``ilamb-run``
and by a native ``soilbench run`` of ``confrontations/default.yaml`` on the same model
directories; every dataset's "Overall Score global" in ILAMB's result files, and every
variable row of ILAMB's ``scores.csv``, must be soilbench's. About 40 s.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from soilbench.config import CONFRONTATIONS_DIR
from soilbench.ilamb.naturalearth import LAYERS, layer_path
from soilbench.ilamb.results import read_scalars
from soilbench.synthetic import generate_world

pytestmark = [pytest.mark.ilamb, pytest.mark.slow]

MODELS = ("perfect", "rh-plus-20pct")
CFG = CONFRONTATIONS_DIR / "soilbench-ilamb.cfg"
# The same code on the same files; dask may sum the same numbers in another order.
REL_TOL = 1e-12


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _leaves(cfg: Path):
    """(h2 node, leaf node) of the cfg, read with ILAMB's own parser."""
    from ILAMB.Scoreboard import ParseScoreboardConfigureFile

    tree = ParseScoreboardConfigureFile(str(cfg))
    for h1 in tree.children:
        for h2 in h1.children:
            for leaf in h2.children:
                yield h1, h2, leaf


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ilamb")
    world = generate_world(tmp / "world")
    root = tmp / "root"
    for name in MODELS:
        (root / "MODELS" / name).mkdir(parents=True)
        shutil.copy(world.models[name], root / "MODELS" / name / f"{name}.nc")
    env = {
        **os.environ,
        "SOILBENCH_SYNTHETIC_REGISTRY": str(world.registry),  # the world's files pass the sha256 checks
        "ILAMB_ROOT": str(root),
        "SOILBENCH_NATURAL_EARTH_DIR": str(tmp / "natural_earth"),
        "XDG_DATA_HOME": str(tmp / "xdg"),  # no cartopy data from the user's home can help
        "MPLBACKEND": "Agg",
    }
    env.pop("CARTOPY_DATA_DIR", None)
    soilbench = [sys.executable, "-m", "soilbench"]
    _run(soilbench + ["ilamb", "prepare", "--root", str(root), "--data-dir", str(world.root), "--models"], env, tmp)
    ilamb = _run([shutil.which("ilamb-run") or "ilamb-run", "--config", str(root / CFG.name), "--model_root",
                  str(root / "MODELS"), "--build_dir", str(root / "_build")], env, tmp)
    _run(soilbench + ["run", "--models", *[str(root / "MODELS" / m) for m in MODELS], "--out", str(tmp / "native"),
                      "--workers", "0", "--data-dir", str(world.root), "--no-report", "--quiet"], env, tmp)
    native = pd.read_csv(tmp / "native" / "scalars.csv", keep_default_na=False, na_values=[""])
    overall = native[(native["analysis"] == "overall") & (native["name"] == "overall score")
                     & (native["region"] == "global")]
    return {"tmp": tmp, "build": root / "_build", "ilamb": ilamb,
            "native": overall.set_index(["confrontation", "model"])["value"]}


def test_ilamb_run_finished_without_errors_or_downloads(runs):
    build = runs["build"]
    assert "Errors occurred" not in runs["ilamb"].stdout, (build / "ILAMB01.log").read_text()
    assert "[DEBUG]" not in (build / "ILAMB01.log").read_text()  # ILAMB logs every caught exception so
    assert "Downloading" not in runs["ilamb"].stderr  # cartopy warns before any download
    for name in LAYERS:
        assert layer_path(runs["tmp"] / "natural_earth", name).exists()
    assert (build / "index.html").exists() and (build / "scalar_database.csv").exists()


def test_every_overall_score_is_soilbenchs(runs):
    compared = 0
    for h1, h2, leaf in _leaves(runs["build"] / "ilamb.cfg"):
        directory = runs["build"] / h1.name.replace(" ", "") / h2.name.replace(" ", "") / leaf.name.replace(" ", "")
        for model in MODELS:
            ilamb = read_scalars(directory / f"{leaf.name}_{model}.nc")["Overall Score global"]
            native = runs["native"][(leaf.soilbench_name, model)]
            assert math.isclose(ilamb, native, rel_tol=REL_TOL), (leaf.soilbench_name, model, ilamb, native)
            compared += 1
    assert compared == 2 * len(runs["native"].index.get_level_values(0).unique())


def test_scoreboard_rows_are_weighted_soilbench_scores(runs):
    """ILAMB's scores.csv row of an h2 is the weight-averaged overall score of its datasets."""
    scores = pd.read_csv(runs["build"] / "scores.csv", index_col=0)
    assert list(scores.columns) == sorted(MODELS, key=str.upper)
    groups: dict[str, list[tuple[str, float]]] = {}
    for _, h2, leaf in _leaves(runs["build"] / "ilamb.cfg"):
        groups.setdefault(h2.name, []).append((leaf.soilbench_name, leaf.weight))
    assert set(scores.index) == set(groups)
    for group, members in groups.items():
        for model in MODELS:
            expected = sum(runs["native"][(name, model)] * w for name, w in members) / sum(w for _, w in members)
            assert math.isclose(float(scores.at[group, model]), expected, rel_tol=REL_TOL), (group, model)


def test_dataset_pages_show_soilbench_figures(runs):
    page_dir = runs["build"] / "SoilCarbonCyclesoilbench" / "HeterotrophicRespiration" / "SpatialTaylor"
    html = (page_dir / "Spatial Taylor.html").read_text(encoding="utf-8")  # ILAMB: <cfg name>.html
    maps = sorted(p.name for p in page_dir.glob("perfect_map_*.png"))
    assert maps, "no per-model maps drawn"
    for png in maps:
        key = png[len("perfect_"):-len(".png")]
        assert f"getElementById('{key}')" in html  # on the page, swapped per model by ILAMB's script
        assert (page_dir / f"rh-plus-20pct_{key}.png").exists()
    assert (page_dir / "table_taylor.png").exists() and "table_taylor" in html
    assert "Overall Score" in html


TURNOVER_ONLY_CFG = """
[h1: Soil Carbon Cycle soilbench]
bgcolor = "#ECFFE6"

[h2: Soil Carbon Turnover Time]
variable = "cSoil"
ctype    = "ConfSoilbenchTurnover"

[HWSD NCSCD and CARDAMOM]
source               = "DATA/soilbench/cSoil/HWSD_NCSCD/cSoil.nc"
soilbench_name       = "soil-turnover"
soilbench_kind       = "turnover"
soilbench_references = "hwsd-ncscd-soilc, hwsd-soilc, cardamom-rh"
soilbench_data_dir   = "DATA/soilbench/files"
"""


def test_a_model_without_csoil_is_not_applicable_in_ilamb_run_not_an_error(runs):
    """ILAMB 2.x prints a model lacking a variable in red (VarNotInModel) and reports errors;
    soilbench's ctypes ask applicable() first, as a native run does."""
    import xarray as xr

    tmp = runs["tmp"]
    world = generate_world(tmp / "world")  # current: reused
    root = tmp / "root"
    models = tmp / "models-rh-only"
    (models / "rh-only").mkdir(parents=True)
    with xr.open_dataset(world.models["perfect"]) as perfect:
        perfect[["rh", "sftlf", "areacella", "time_bnds"]].to_netcdf(models / "rh-only" / "rh-only.nc")
    cfg = root / "turnover-only.cfg"
    cfg.write_text(TURNOVER_ONLY_CFG)
    env = {**os.environ, "SOILBENCH_SYNTHETIC_REGISTRY": str(world.registry), "ILAMB_ROOT": str(root),
           "SOILBENCH_NATURAL_EARTH_DIR": str(tmp / "natural_earth"), "MPLBACKEND": "Agg"}
    build = root / "_build_rh_only"
    done = _run([shutil.which("ilamb-run") or "ilamb-run", "--config", str(cfg), "--model_root", str(models),
                 "--build_dir", str(build)], env, tmp)
    assert "Errors occurred" not in done.stdout and "VarNotInModel" not in done.stdout, done.stdout[-3000:]
    assert "not applicable: the model provides no csoil" in done.stdout
    leaf = build / "SoilCarbonCyclesoilbench" / "SoilCarbonTurnoverTime" / "HWSDNCSCDandCARDAMOM"
    assert not (leaf / "HWSD NCSCD and CARDAMOM_rh-only.nc").exists()
    meta = (leaf / "_soilbench").glob("rh-only-*/meta.json")
    assert ['"status": "not_applicable"' in path.read_text() for path in meta] == [True]
