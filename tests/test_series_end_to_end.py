"""The 2-box constraint and the global series confrontation end to end, through ``soilbench run``.

A CMOR-style NetCDF model with ANNUAL steps 1980-2015 of npp, cVeg, cSoil, rh and tas is written
here with global series chosen so that the answers are known exactly: Rh = 20 + 2 · T (Pg C yr-1)
with the land temperature T rising 0.05 °C yr-1 plus noise orthogonal to the trend (SD 0.25 °C),
so Rh's trend is 0.1 Pg C yr-2, its interannual variability 0.5 Pg C yr-1 and its sensitivity
to T 2.0 Pg C yr-1 °C-1; vegetation and soil carbon grow by 1 and 2 Pg C yr-1. The run uses the
real references (skipped without ../shared/data).
"""

from pathlib import Path

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
pytestmark = [
    pytest.mark.realdata, pytest.mark.slow,
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}"),
]

YEARS = np.arange(1980, 2016)
SECONDS_PER_YEAR = 365 * 86400.0  # noleap: every year 365 days


def orthogonal_noise(sd, seed=3):
    noise = np.random.default_rng(seed).normal(size=YEARS.size)
    design = np.column_stack([np.ones(YEARS.size), YEARS.astype(float)])
    noise -= design @ np.linalg.lstsq(design, noise, rcond=None)[0]
    return noise * sd / noise.std(ddof=1)


TEMPERATURE_C = 15.0 + 0.05 * (YEARS - 1980) + orthogonal_noise(0.25)
RH_PG_YR = 20.0 + 2.0 * TEMPERATURE_C
NPP_PG_YR = RH_PG_YR + 3.0  # inputs above outputs: the land gains carbon
CVEG_PG = 450.0 + 1.0 * (YEARS - 1980)
CSOIL_PG = 1500.0 + 2.0 * (YEARS - 1980)


def write_model(directory: Path) -> Path:
    """One file, 10° grid, land between 60° S and 80° N (sftlf 100 %), areacella given."""
    dlat = dlon = 10.0
    lat = -90 + dlat * (np.arange(18) + 0.5)
    lon = dlon * (np.arange(36) + 0.5)
    radius = 6.371229e6
    band = np.abs(np.sin(np.deg2rad(lat + dlat / 2)) - np.sin(np.deg2rad(lat - dlat / 2)))
    area = radius**2 * np.deg2rad(dlon) * band[:, None] * np.ones(lon.size)
    land = ((lat > -60) & (lat < 80))[:, None] * np.ones(lon.size, bool)
    land_area = float((area * land).sum())
    edges = [cftime.datetime(int(y), 1, 1, calendar="noleap") for y in range(1980, 2017)]
    units = "days since 1980-01-01"
    edge_num = cftime.date2num(edges, units, calendar="noleap")

    def field(per_year, per_area):
        values = np.where(land[None], (np.asarray(per_year)[:, None, None] * per_area), np.nan)
        return (("time", "lat", "lon"), values.astype("float64"))

    flux = 1e12 / land_area / SECONDS_PER_YEAR  # Pg C yr-1 → kg m-2 s-1 on every land cell
    stock = 1e12 / land_area  # Pg C → kg m-2
    ds = xr.Dataset(
        {"rh": field(RH_PG_YR, flux), "npp": field(NPP_PG_YR, flux), "cVeg": field(CVEG_PG, stock),
         "cSoil": field(CSOIL_PG, stock),
         "tas": (("time", "lat", "lon"), np.broadcast_to((TEMPERATURE_C + 273.15)[:, None, None],
                                                          (YEARS.size, lat.size, lon.size)).astype("float64")),
         "time_bnds": (("time", "bnds"), np.column_stack([edge_num[:-1], edge_num[1:]])),
         "areacella": (("lat", "lon"), area, {"units": "m2", "standard_name": "cell_area"}),
         "sftlf": (("lat", "lon"), np.where(land, 100.0, 0.0), {"units": "%", "standard_name": "land_area_fraction"})},
        coords={"time": ("time", 0.5 * (edge_num[:-1] + edge_num[1:]),
                         {"units": units, "calendar": "noleap", "bounds": "time_bnds", "standard_name": "time"}),
                "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})},
        attrs={"source_id": "SERIESTEST", "member_id": "r1i1p1f1", "experiment_id": "historical", "frequency": "yr"},
    )
    for name in ("rh", "npp"):
        ds[name].attrs["units"] = "kg m-2 s-1"
    for name in ("cVeg", "cSoil"):
        ds[name].attrs["units"] = "kg m-2"
    ds["tas"].attrs["units"] = "K"
    directory.mkdir(parents=True)
    path = directory / "seriestest_1980-2015.nc"
    ds.to_netcdf(path)
    return directory


DEFINITION = """
name: twobox-and-series
confrontations:
  - name: rh-global-series
    type: global_series
    references: [hashimoto2015-rh, tang2020-rh, cmip6-rh-global]
    options: {period: [1980, 2015]}
  - name: soil-turnover
    type: turnover
    references: [hwsd-ncscd-soilc, cardamom-rh]
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from soilbench import cli

    root = tmp_path_factory.mktemp("e2e")
    model_dir = write_model(root / "SERIESTEST")
    config = root / "definition.yaml"
    config.write_text(DEFINITION, encoding="utf-8")
    out = root / "out"
    code = cli.main(["run", "--config", str(config), "--models", str(model_dir), "--out", str(out), "--workers", "0",
                     "--data-dir", str(SHARED_DATA), "--no-report", "--quiet"])
    return code, out


def scalars(out, confrontation):
    table = pd.read_csv(out / "scalars.csv")
    return table[(table["confrontation"] == confrontation) & (table["model"] == "SERIESTEST r1i1p1f1")]


def value(table, name, analysis=None, reference=None):
    rows = table[table["name"] == name]
    if analysis is not None:
        rows = rows[rows["analysis"] == analysis]
    if reference is not None:
        rows = rows[rows["reference"].fillna("") == reference]
    assert len(rows) == 1, (name, rows)
    return float(rows["value"].iloc[0])


def test_run_succeeds(run):
    code, out = run
    status = pd.read_csv(out / "status.csv")
    assert code == 0, status.to_string()
    assert set(status["status"]) == {"ok"}


def test_series_scores_match_the_built_series(run):
    _, out = run
    table = scalars(out, "rh-global-series")
    assert value(table, "mean", "model") == pytest.approx(RH_PG_YR.mean(), rel=1e-6)
    assert value(table, "trend", "model") == pytest.approx(0.1, rel=1e-6)
    assert value(table, "interannual variability", "model") == pytest.approx(0.5, rel=1e-5)
    assert value(table, "years", "model") == YEARS.size
    assert value(table, "sensitivity", "temperature sensitivity") == pytest.approx(2.0, rel=1e-6)
    # 2.0 lies inside [003]'s 1.9-5.0 (Rs) times the HR/SR share 0.54-0.63: 1.03-3.15
    assert value(table, "temperature sensitivity score", "scores") == pytest.approx(1.0)
    # against Tang 2020 over the shared years 1980-2015, everything from the series built here
    tang = pd.read_csv(SHARED_DATA / "testbed" / "tang2020_rh.txt", comment="#", header=None,
                       names=["year", "rh"]).set_index("year")["rh"].loc[1980:2015]
    model = pd.Series(RH_PG_YR, index=YEARS)
    assert value(table, "mean score", reference="tang2020-rh") == pytest.approx(
        min(model.mean(), tang.mean()) / max(model.mean(), tang.mean()), rel=1e-6)
    slope, intercept = np.polyfit(tang.index, tang.to_numpy(), 1)
    assert value(table, "reference trend", reference="tang2020-rh") == pytest.approx(slope, rel=1e-9)
    # annual steps: no seasonal cycle; one overall row
    assert "seasonal cycle score" not in set(table["name"])
    assert (table["name"] == "overall score").sum() == 1


def test_twobox_outputs_from_the_annual_series(run):
    _, out = run
    table = scalars(out, "soil-turnover")
    period = f"{YEARS[0]}-{YEARS[-1]}"
    # the model's own stock changes: exactly the series written into the file
    assert value(table, "delta cVeg original", "two-box", period) == pytest.approx(CVEG_PG[-1] - CVEG_PG[0], rel=1e-6)
    assert value(table, "delta cSoil original", "two-box", period) == pytest.approx(CSOIL_PG[-1] - CSOIL_PG[0],
                                                                                    rel=1e-6)
    # the model's mean turnover times over the correction period (1982-2018: here 1982-2015)
    years = (YEARS >= 1982)
    tau_soil = np.mean(CSOIL_PG[years] / RH_PG_YR[years])
    assert value(table, "model tau_soil 1982-2018", "two-box") == pytest.approx(tau_soil, rel=0.02)
    constrained = value(table, "delta cTotal constrained", "two-box", period)
    assert np.isfinite(constrained)
    task = next(p for p in (out / "soil-turnover").iterdir() if p.name.startswith("SERIESTEST"))
    assert (task / "tables" / "twobox.csv").is_file()
