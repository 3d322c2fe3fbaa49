"""soilbench's Taylor analysis run by ilamb3's own machinery scores as soilbench's taylor confrontation.

A synthetic-world model is written as CMIP6 files (``rh`` with CMIP6's ``cell_measures`` and
``cell_methods``, ``areacella``, ``sftlf``), an ilamb3 block naming ``soilbench_taylor`` is run
with ``ilamb3.run.run_single_block`` (ilamb3's loaders, its scalar table on disk), and every
number is compared with the native confrontation on the same files: once against the synthetic
CARDAMOM-like climatology (through the synthetic registry), once against a monthly reference
(which adds the RMSE score). ilamb3 needs Python >= 3.12; without it the tests are skipped.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

# ilamb3 is imported by the tests only: importing it sets xarray's keep_attrs=True for the whole
# process, which must not reach the rest of the suite (the fixture ``ilamb3`` puts it back)
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ilamb3") is None,
                                reason="ilamb3 (Python >= 3.12) is not installed")

from cmip_support import write_cmip6  # noqa: E402

import soilbench.load  # noqa: E402
from soilbench.confrontations import confrontation_class  # noqa: E402
from soilbench.data import use_registry  # noqa: E402
from soilbench.errors import SoilbenchError  # noqa: E402
from soilbench.synthetic import generate_world  # noqa: E402

SOURCE = "SYN-ESM-r1i1p1f1-gn"  # ilamb3's name of the model: source_id, member_id, grid_label
#: ilamb3's row name (with its units, as ilamb3 writes it) → the native confrontation's row name
NATIVE_NAME = {"Mean-State Score [1]": "mean-state score", "Bias Score [1]": "bias score",
               "Spatial Distribution Score [1]": "spatial distribution score", "RMSE Score [1]": "rmse score",
               "Correlation [1]": "correlation", "Normalized Standard Deviation [1]": "normalised standard deviation",
               "Centralized RMSE [g m-2 yr-1]": "centred RMSE", "Bias [g m-2 yr-1]": "bias"}


@pytest.fixture
def ilamb3():
    """ilamb3, imported as in any ilamb3 run; xarray's options as they were afterwards."""
    before = xr.get_options()["keep_attrs"]
    import ilamb3

    xr.set_options(keep_attrs=True)  # what the import did, the first time only
    yield ilamb3
    xr.set_options(keep_attrs=before)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ilamb3")
    world = generate_world(tmp / "world")
    model = write_cmip6(world.models["rh-plus-20pct"], tmp / "esgf", "SYN-ESM", variables=("rh", "areacella", "sftlf"))
    _cmip6_cell_attributes(model[0])
    # a monthly reference: the unbiased model's rh alone (no area, no land fraction: like a product)
    monthly = write_cmip6(world.models["perfect"], tmp / "reference", "SYN-REF", variables=("rh",))[0]
    return {"tmp": tmp, "world": world, "model": model, "monthly": monthly}


def _cmip6_cell_attributes(path: Path) -> None:
    """What CMIP6 rh files say of their cells; ilamb3 merges areacella × sftlf by them."""
    ds = xr.load_dataset(path, decode_times=False)
    ds["rh"].attrs.update(cell_measures="area: areacella", cell_methods="area: mean where land time: mean")
    ds.to_netcdf(path)


def _offline_maps(monkeypatch, directory: Path) -> None:
    """Where register() writes the offline Natural Earth layers; cartopy's configuration is put
    back after the test (register() points it at them for the rest of the process)."""
    import cartopy

    monkeypatch.setenv("SOILBENCH_NATURAL_EARTH_DIR", str(directory))
    monkeypatch.setitem(cartopy.config, "pre_existing_data_dir", cartopy.config["pre_existing_data_dir"])


def _run_ilamb3(ilamb3, campaign, name: str, reference: Path, monkeypatch, **block) -> pd.DataFrame:
    """One ilamb3 block with soilbench's analysis; its scalar table as ilamb3 wrote it (and its
    page: soilbench's maps drawn by ilamb3's plotting, offline, through the analysis's ``plots``)."""
    from ilamb3.run import run_single_block

    from soilbench.ilamb3_analysis import register

    _offline_maps(monkeypatch, campaign["tmp"] / "natural_earth")
    register()  # also draws ilamb3's maps offline
    out = campaign["tmp"] / name
    out.mkdir()
    references = pd.DataFrame({"key": ["rh-reference"], "path": [str(reference)]})
    rows = []
    for path in campaign["model"]:
        with xr.open_dataset(path) as ds:
            rows.append({**{k: ds.attrs[k] for k in ("source_id", "member_id", "grid_label", "experiment_id",
                                                      "variable_id", "frequency")}, "path": str(path)})
    with ilamb3.conf.set(use_cached_results=False):
        run_single_block(name, references, pd.DataFrame(rows), out, sources={"rh": "rh-reference"},
                         analyses=["soilbench_taylor"], **block)
    table = out / f"{SOURCE}.csv"
    assert table.is_file(), "\n".join(p.read_text() for p in out.glob("*.log"))
    assert (out / "index.html").is_file(), "\n".join(p.read_text() for p in out.glob("*.log"))
    assert {p.name for p in out.glob("*.png")} == {
        "Reference_None_soilbench_mean.png", f"{SOURCE}_None_soilbench_mean.png",
        f"{SOURCE}_None_soilbench_biasscore.png"}
    rows = pd.read_csv(table, dtype={"region": object})
    rows["region"] = rows["region"].fillna("None")  # as ilamb3 reads its tables back (ilamb3.run)
    return rows


def _native(campaign, reference_id: str, data_dir: Path | None = None) -> pd.DataFrame:
    """The taylor confrontation's global rows, under xarray's default options (not ilamb3's)."""
    with xr.set_options(keep_attrs="default"):
        conf = confrontation_class("taylor")("rh-taylor", [reference_id], {"regions": ["latitude_bands"]},
                                             data_dir=data_dir or campaign["world"].root)
        conf.stage_data()
        result = conf.confront(soilbench.load.load_model([str(p) for p in campaign["model"]]))
    return result.scalars.query("region == 'global' and reference in [@reference_id, '']").set_index("name")["value"]


def _assert_same(ilamb3_rows: pd.DataFrame, native: pd.Series, expected_names: set[str]) -> None:
    rows = ilamb3_rows.set_index("name")
    assert set(rows.index) == expected_names
    for name, value in rows["value"].items():
        assert value == pytest.approx(native[NATIVE_NAME[name]], rel=1e-9, abs=1e-12), name
    # one score row: ilamb3's Overall Score (the mean of a source's score rows) is soilbench's
    from ilamb3.analysis import add_overall_score

    overall = add_overall_score(ilamb3_rows).query("name == 'Overall Score [1]' and source == @SOURCE")
    assert float(overall["value"].iloc[0]) == pytest.approx(native["overall score"], rel=1e-9)


def test_against_a_climatology_it_scores_as_the_native_confrontation(ilamb3, campaign, monkeypatch):
    world = campaign["world"]
    reference = world.root / "cardamom-rh" / "cardamom_rh_2001-2010_mean_0.5deg.nc"
    got = _run_ilamb3(ilamb3, campaign, "climatology", reference, monkeypatch, reference_period=[2001, 2010])
    assert set(got["source"]) == {SOURCE} and set(got["analysis"]) == {"soilbench Taylor"}
    assert got.query("type == 'score'")["name"].tolist() == ["Mean-State Score [1]"]
    with use_registry(world.registry):
        native = _native(campaign, "cardamom-rh")
    _assert_same(got, native, set(NATIVE_NAME) - {"RMSE Score [1]"})
    # the model has 20 % too much rh: a real, imperfect score
    assert 0.5 < native["mean-state score"] < 0.95


def _standard_calendar(path: Path) -> Path:
    """The file on the standard calendar without time bounds: xarray (and ilamb3) open it with
    datetime64 times, soilbench with cftime and step lengths from the calendar months."""
    with xr.open_dataset(path) as ds:
        ds = ds.drop_vars("time_bnds").convert_calendar("standard", align_on="date").load()
    ds["time"].attrs.pop("bounds", None)
    out = path.with_name(path.stem + "_standard.nc")
    ds.to_netcdf(out)
    return out


@pytest.mark.parametrize("calendar", ["noleap", "standard"])
def test_against_a_monthly_reference_the_rmse_score_counts(ilamb3, campaign, monkeypatch, calendar):
    reference = campaign["monthly"] if calendar == "noleap" else _standard_calendar(campaign["monthly"])
    got = _run_ilamb3(ilamb3, campaign, f"monthly-{calendar}", reference, monkeypatch)
    with xr.set_options(keep_attrs="default"):
        product = soilbench.load.load_model(str(reference), name="monthly-rh")
    product.attrs["reference"] = "monthly-rh"
    monkeypatch.setattr("soilbench.load.reference.gridded_reference_ids", lambda: ("monthly-rh",))
    monkeypatch.setattr(soilbench.load, "load_reference", lambda ident, data_dir=None: product.copy())
    native = _native(campaign, "monthly-rh")
    assert 0 < native["rmse score"] < 1
    _assert_same(got, native, set(NATIVE_NAME))


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")
def test_against_the_real_cardamom_product_it_scores_as_the_native_confrontation(ilamb3, campaign, monkeypatch):
    """The product's own file (0.5°, per grid-cell area) as ilamb3 reads it, against the 4°×5° model."""
    from soilbench.data import fetch

    reference = fetch("cardamom-rh", data_dir=SHARED_DATA, allow_download=False)
    got = _run_ilamb3(ilamb3, campaign, "cardamom", reference, monkeypatch, reference_period=[2001, 2010])
    _assert_same(got, _native(campaign, "cardamom-rh", SHARED_DATA), set(NATIVE_NAME) - {"RMSE Score [1]"})


def test_register_adds_the_analysis_and_the_block_variable_is_checked(ilamb3, tmp_path, monkeypatch):
    from soilbench.ilamb3_analysis import SoilbenchTaylor, register

    _offline_maps(monkeypatch, tmp_path)
    analyses = register({})
    assert analyses == {"soilbench_taylor": SoilbenchTaylor}
    with pytest.raises(SoilbenchError, match="scores \\['rh'\\], not 'gpp'"):
        SoilbenchTaylor(required_variable="gpp")
    with pytest.raises(SoilbenchError, match="period must be"):
        SoilbenchTaylor(required_variable="rh", period=[2010])


def test_ilamb3_cell_measures_split_into_area_and_fraction(ilamb3):
    """areacella × sftlf / 100 (ilamb3's cell measure) comes back as the same land area per cell."""
    from soilbench.ilamb3_analysis import canonical_from_ilamb3
    from soilbench.load.grid import EARTH_RADIUS_M

    lat = np.array([-45.0, 45.0])
    lon = np.array([-90.0, 90.0])
    sphere = np.full((2, 2), np.pi * EARTH_RADIUS_M**2)  # each cell is a quarter of the sphere
    fraction = np.array([[0.0, 0.25], [1.0, 0.5]])
    measures = np.where(fraction > 0, sphere * fraction, np.nan)
    measures[1, 0] *= 1.001  # a model's areacella slightly above the sphere's: its land area is kept
    ds = xr.Dataset({"rh": (("lat", "lon"), np.full((2, 2), 1e-3), {"units": "kg m-2 yr-1"}),
                     "cell_measures": (("lat", "lon"), measures)}, coords={"lat": lat, "lon": lon})
    canonical = canonical_from_ilamb3(ds, "rh", "rh", "test")
    land = (canonical["cell_area"] * canonical["land_fraction"]).values
    np.testing.assert_allclose(land, np.nan_to_num(measures), rtol=1e-12)
    np.testing.assert_allclose(canonical["land_fraction"].values, [[0.0, 0.25], [1.0, 0.5]], rtol=1e-12)
    assert float(canonical["rh"][0, 0]) == pytest.approx(1.0)  # g m-2 yr-1
    assert canonical.attrs["period"] == "static"
