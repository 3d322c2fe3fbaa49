"""``soilbench inspect`` on generated files and on the real testbed and reference files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_gen as gen  # noqa: E402

from soilbench import cli  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")


def inspect_json(capsys, *args: str) -> dict:
    assert cli.main(["inspect", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def totals(report: dict) -> dict[str, float]:
    return {q["quantity"]: q["global_total"] for q in report["quantities"]}


def test_inspect_cmor_file_human_and_json(tmp_path, capsys):
    path = gen.write(gen.make_rh(calendar="360_day", area="sftlf_percent"), tmp_path / "MODEL_rh.nc")
    report = inspect_json(capsys, str(path), "--period", "2001", "2003")
    assert report["calendar"] == "360_day" and report["time_steps"] == 12
    assert report["period"] == "2001-2001" and report["period_overlap"] == "1 of 3 years"
    assert report["grid"]["nlat"] == 12 and report["grid"]["lon_convention_found"] == "0-360"
    assert report["grid"]["lat_order_found"] == "descending"
    (rh,) = report["quantities"]
    assert rh["source"] == "rh [kg m-2 s-1]" and rh["units_found"] == "kg m-2 s-1" and rh["units"] == "g m-2 yr-1"
    assert rh["total_units"] == "Pg yr-1" and rh["global_total"] > 0

    assert cli.main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert "360_day" in text and "kg m-2 s-1 -> g m-2 yr-1" in text and "Pg C yr-1" in text


def independent_testbed_totals(path: Path, rh_var: str, pools: list[str]) -> tuple[float, float]:
    """Global Rh (Pg C yr-1, 365-day year) and soil+litter C (Pg) from landarea and cellMissing."""
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_mask(False)
        land_m2 = nc["landarea"][:].astype(float) * 1e6
        ok = (nc["cellMissing"][:] == 0) & (nc["landarea"][:] < 1e30)
        rh = nc[rh_var][0].astype(float)  # g C m-2 day-1
        pools_g = sum(nc[p][0].astype(float) for p in pools)  # g C m-2
    rh_pg = np.sum((rh * 365.0 * land_m2)[ok]) / 1e15
    soil_pg = np.sum((pools_g * land_m2)[ok]) / 1e15
    return rh_pg, soil_pg


CASA_POOLS = ["clitmetb", "clitstr", "clitcwd", "csoilmic", "csoilslow", "csoilpass"]
MIMICS_POOLS = ["cLITm", "cLITs", "cMICr", "cMICk", "cSOMa", "cSOMc", "cSOMp"]


@pytest.mark.realdata
@needs_data
@pytest.mark.parametrize("file,rh_var,pools,rh_approx,soil_approx", [
    ("casaclm_pool_flux_2000-2010_mean.nc", "cresp", CASA_POOLS, 54.3, 1412),
    ("mimics_pool_flux_2000-2010_mean.nc", "cHresp", MIMICS_POOLS, 55.0, 1482),
])
def test_inspect_testbed_totals(capsys, file, rh_var, pools, rh_approx, soil_approx):
    path = SHARED_DATA / "testbed" / file
    report = inspect_json(capsys, str(path))
    rh_pg, soil_pg = independent_testbed_totals(path, rh_var, pools)
    got = totals(report)
    assert got["rh"] == pytest.approx(rh_pg, rel=0.005)
    assert got["csoil"] == pytest.approx(soil_pg, rel=0.005)
    assert got["rh"] == pytest.approx(rh_approx, abs=0.1) and got["csoil"] == pytest.approx(soil_approx, abs=2)
    assert report["climatology"] and report["period"] == "2000-2010"
    assert report["grid"]["nlat"] == 96 and report["grid"]["nlon"] == 144


@pytest.mark.realdata
@needs_data
@pytest.mark.parametrize("dataset_id,quantity,expected,tolerance", [
    ("cardamom-rh", "rh", 53.9, 0.1),
    ("hwsd-soilc", "csoil", 1376.0, 2.0),
])
def test_inspect_reference_totals(capsys, dataset_id, quantity, expected, tolerance):
    report = inspect_json(capsys, dataset_id)
    assert report["kind"] == "reference"
    assert totals(report)[quantity] == pytest.approx(expected, abs=tolerance)
