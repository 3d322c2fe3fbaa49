"""Generate a realistic synthetic model campaign for the performance benchmark.

Writes, into ``--out`` (outside the repository; default ``/tmp/soilbench-bench/campaign``):

``models/<name>/``
    CMOR-style NetCDF, one file per variable: ``rh`` (kg m-2 s-1, float32, monthly, noleap
    calendar, time/lat/lon bounds, one year per chunk, zlib level 1 + shuffle), ``cSoil`` and
    ``cLitter`` (kg m-2, annual or monthly), ``areacella`` (m2) and ``sftlf`` (%). At 0.5°,
    1982–2018 a model's ``rh`` is 444 × 360 × 720 float32 = 460 MB uncompressed.
``data/``
    a soilbench data directory with a *synthetic* registry (``registry.yaml``, ``synthetic: true``,
    selected with ``SOILBENCH_SYNTHETIC_REGISTRY``): a CARDAMOM-like 2001–2010 mean Rh map at the
    campaign's resolution, SRDB-like annual and MGRhD-like daily site records sampled from the same
    truth, and — when the real files are available locally (``../shared/data``) — links to the real
    Köppen table, HWSD/NCSCD soil carbon, land fraction and digitised global series, registered
    with their real sha256.
``ilamb/``
    an ILAMB_ROOT: ``DATA/rh/SYNTH/rh.nc`` (the monthly truth the CARDAMOM-like map is the
    2001–2010 mean of, kg m-2 s-1) and ``MODELS/<name>/`` links to each model's rh, areacella, sftlf.
``campaign.json``
    the parameters, the files and their sizes.

Fields are a smooth climatology (tropical maximum, northern mid-latitude shoulder, arid dips,
longitudinal waves) scaled to 50 Pg C yr-1, × a seasonal cycle growing with latitude, × a trend and
interannual anomalies, × 10 % multiplicative noise; ocean is missing. Models differ by a scale factor,
a seasonal phase shift, a spatial distortion, their soil-carbon turnover time and the noise seed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import cftime
import netCDF4
import numpy as np
import pandas as pd
import yaml

log = logging.getLogger("generate_campaign")

DEFAULT_OUT = Path("/tmp/soilbench-bench/campaign")
TIME_UNITS = "days since 1850-01-01 00:00:00"
CALENDAR = "noleap"
SECONDS_PER_YEAR = 365.0 * 86400.0
EARTH_RADIUS_M = 6371229.0
FILL = np.float32(1.0e20)
GLOBAL_RH_PG = 50.0
REFERENCE_PERIOD = (2001, 2010)
GENERATOR_VERSION = 1
#: per model: rh scale, seasonal shift (months), spatial distortion, turnover factor
MODEL_TRAITS = [
    (1.00, 0.0, 0.00, 1.0), (1.18, 1.0, 0.15, 0.6), (0.86, -1.0, -0.10, 1.3),
    (1.05, 2.0, 0.25, 0.8), (0.95, 0.5, -0.20, 1.1),
]
#: real files linked into the campaign's data directory (whole-benchmark references), by registry id
LINKED_IDS = ("koppen", "hwsd-soilc", "ncscd-soilc", "landfrac", "hashimoto2015-rh", "tang2020-rh", "cmip6-rh-global")
SRDB_METHODS = ["IRGA", "IRGA", "IRGA", "Gas chromatography", "Alkali absorption"]
ECOSYSTEMS = ["Forest", "Grassland", "Agriculture", "Shrubland", "Wetland", "Savanna"]


# -- grid and truth --------------------------------------------------------------------------------
def grid(resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of a regular global grid (lat ascending, lon −180…180)."""
    n_lat, n_lon = round(180 / resolution), round(360 / resolution)
    if not (np.isclose(n_lat * resolution, 180) and np.isclose(n_lon * resolution, 360)):
        raise SystemExit(f"--resolution {resolution} must divide 180 and 360")
    lat = -90 + resolution * (np.arange(n_lat) + 0.5)
    lon = -180 + resolution * (np.arange(n_lon) + 0.5)
    return lat, lon


def cell_area(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    d = np.deg2rad(lat[1] - lat[0]) if lat.size > 1 else np.pi
    band = np.abs(np.sin(np.deg2rad(lat) + d / 2) - np.sin(np.deg2rad(lat) - d / 2))
    return (EARTH_RADIUS_M ** 2 * np.deg2rad(360.0 / lon.size) * band)[:, None] * np.ones(lon.size)


def land_fraction(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, str]:
    """The real 0.5° land fraction block-averaged to the grid, or smooth continents without it."""
    step = (lat[1] - lat[0]) / 0.5
    try:
        if not np.isclose(step, round(step)) or round(step) < 1:
            raise ValueError("resolution is not a multiple of 0.5°")
        from soilbench.data import locate
        from soilbench.load import load_reference

        if locate("landfrac") is None:  # never download here: analytic continents instead
            raise FileNotFoundError("no local copy of landfrac")
        fine = load_reference("landfrac")["land_fraction"].values.astype("float64")
        k = round(step)
        coarse = fine.reshape(lat.size, k, lon.size, k).mean(axis=(1, 3))
        return np.where(coarse < 0.01, 0.0, coarse), "real 0.5° land fraction (landfrac), block means"
    except Exception as err:  # noqa: BLE001 — no real data here: analytic continents instead
        log.info("land fraction: analytic continents (%s)", err)
        la, lo = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
        shape = np.sin(2 * lo + 0.4) * np.cos(la) + 0.6 * np.sin(3 * la + 0.3) + 0.35 * np.cos(5 * lo) * np.cos(2 * la)
        frac = np.clip((shape - 0.35) * 3.0, 0.0, 1.0)
        frac[lat < -62] = 1.0  # Antarctica (no Rh: see truth_mean)
        return frac, "analytic continents"


def truth_mean(lat: np.ndarray, lon: np.ndarray, distortion: float = 0.0) -> np.ndarray:
    """Annual-mean Rh (g C m-2 yr-1) before scaling, for 1-D lat and lon (or matching arrays)."""
    la = np.asarray(lat, dtype=float)
    lo = np.asarray(lon, dtype=float)
    if la.ndim == 1 and lo.ndim == 1 and la.shape != lo.shape:
        la, lo = la[:, None], lo[None, :]
    base = (150 + 650 * np.exp(-(la / 18) ** 2) + 260 * np.exp(-((la - 48) / 14) ** 2)
            + 120 * np.exp(-((la + 35) / 12) ** 2))
    arid = 1 - 0.55 * np.exp(-((np.abs(la) - 24) / 8) ** 2)
    waves = 1 + (0.3 + distortion) * np.sin(np.deg2rad(3 * lo) + 0.5) * np.cos(np.deg2rad(2 * la)) \
        + 0.15 * np.cos(np.deg2rad(5 * lo) + distortion)
    cold = np.where(la < -60, 0.0, 1.0) * np.clip((80 - np.abs(la)) / 10, 0.05, 1.0)
    return np.clip(base * arid * waves * cold, 5.0, None)


def seasonal_factor(lat: np.ndarray, month_mid: float, shift: float) -> np.ndarray:
    """Multiplicative seasonal cycle (mean ≈ 1): peak mid-July in the north, mid-January in the south."""
    amplitude = 0.85 * np.clip(np.abs(lat) / 55.0, 0.05, 1.0)
    peak = np.where(lat >= 0, 6.5, 0.5) + shift
    return 1 + amplitude * np.cos(2 * np.pi * (month_mid - peak) / 12.0)


class Truth:
    """The campaign's truth and each model's version of it, on one grid."""

    def __init__(self, resolution: float):
        self.lat, self.lon = grid(resolution)
        self.area = cell_area(self.lat, self.lon)
        self.fraction, self.fraction_source = land_fraction(self.lat, self.lon)
        self.land = (self.fraction > 0) & (truth_mean(self.lat, self.lon) > 5.0) & (self.lat[:, None] > -60)
        self.fraction = np.where(self.land, self.fraction, 0.0)
        weights = self.area * self.fraction
        raw = truth_mean(self.lat, self.lon)
        self.scale = GLOBAL_RH_PG * 1e15 / float(np.sum(raw * weights))

    def mean(self, distortion: float = 0.0) -> np.ndarray:
        return np.where(self.land, self.scale * truth_mean(self.lat, self.lon, distortion), np.nan)

    def year_block(self, year: int, mean: np.ndarray, shift: float, rng: np.random.Generator,
                   noise: float) -> np.ndarray:
        """Twelve monthly maps (g C m-2 yr-1) of ``year``: mean × season × trend × anomaly × noise."""
        lat = self.lat[:, None]
        trend = 1 + 0.002 * (year - 2000)
        anomaly = 1 + 0.04 * np.sin(0.9 * year + np.deg2rad(self.lon)[None, :] * 2) * np.cos(np.deg2rad(lat))
        out = np.empty((12, self.lat.size, self.lon.size), dtype="float32")
        for month in range(12):
            season = seasonal_factor(lat, month + 0.5, shift)
            eps = rng.standard_normal((self.lat.size, self.lon.size), dtype="float32")
            out[month] = mean * season * trend * anomaly * np.clip(1 + noise * eps, 0.05, None)
        return out


# -- time axis -------------------------------------------------------------------------------------
def time_axis(first: int, last: int, frequency: str) -> tuple[np.ndarray, np.ndarray]:
    """Mid-points and bounds (days since 1850, noleap) of monthly or annual steps."""
    if frequency == "monthly":
        edges = [cftime.datetime(y + m // 12, m % 12 + 1, 1, calendar=CALENDAR)
                 for y in range(first, last + 1) for m in range(12)]
        edges.append(cftime.datetime(last + 1, 1, 1, calendar=CALENDAR))
    else:
        edges = [cftime.datetime(y, 1, 1, calendar=CALENDAR) for y in range(first, last + 2)]
    num = np.asarray(cftime.date2num(edges, TIME_UNITS, calendar=CALENDAR), dtype="float64")
    bounds = np.column_stack([num[:-1], num[1:]])
    return bounds.mean(axis=1), bounds


# -- NetCDF writing ----------------------------------------------------------------------------------
def _coords(nc: netCDF4.Dataset, lat: np.ndarray, lon: np.ndarray) -> None:
    res = lat[1] - lat[0]
    nc.createDimension("lat", lat.size)
    nc.createDimension("lon", lon.size)
    nc.createDimension("bnds", 2)
    for name, values, attrs in (
        ("lat", lat, {"standard_name": "latitude", "units": "degrees_north", "axis": "Y", "bounds": "lat_bnds"}),
        ("lon", lon, {"standard_name": "longitude", "units": "degrees_east", "axis": "X", "bounds": "lon_bnds"}),
    ):
        var = nc.createVariable(name, "f8", (name,))
        var.setncatts(attrs)
        var[:] = values
        b = nc.createVariable(f"{name}_bnds", "f8", (name, "bnds"))
        b[:] = np.column_stack([values - res / 2, values + res / 2])


def _time(nc: netCDF4.Dataset, mid: np.ndarray, bounds: np.ndarray) -> None:
    nc.createDimension("time", None)
    t = nc.createVariable("time", "f8", ("time",))
    t.setncatts({"standard_name": "time", "units": TIME_UNITS, "calendar": CALENDAR, "axis": "T", "bounds": "time_bnds"})
    t[:] = mid
    tb = nc.createVariable("time_bnds", "f8", ("time", "bnds"))
    tb[:] = bounds


def _open(path: Path, model: str, variable: str) -> netCDF4.Dataset:
    path.parent.mkdir(parents=True, exist_ok=True)
    nc = netCDF4.Dataset(path, "w", format="NETCDF4")
    nc.setncatts({"Conventions": "CF-1.7 CMIP-6.2", "source_id": model, "variable_id": variable,
                  "title": f"SYNTHETIC soilbench benchmark campaign: {model} {variable}",
                  "comment": "generated by benchmarks/generate_campaign.py; not model output"})
    return nc


def _field(nc, name, dims, chunks, attrs, complevel):
    var = nc.createVariable(name, "f4", dims, zlib=complevel > 0, complevel=max(complevel, 1), shuffle=True,
                            chunksizes=chunks, fill_value=FILL)
    var.setncatts(attrs)
    return var


def write_static(directory: Path, model: str, truth: Truth) -> None:
    for name, values, attrs in (
        ("areacella", truth.area, {"standard_name": "cell_area", "units": "m2", "long_name": "Grid-Cell Area for Atmospheric Grid Variables"}),
        ("sftlf", 100.0 * truth.fraction, {"standard_name": "land_area_fraction", "units": "%", "long_name": "Percentage of the grid cell occupied by land"}),
    ):
        with _open(directory / f"{name}.nc", model, name) as nc:
            _coords(nc, truth.lat, truth.lon)
            var = nc.createVariable(name, "f4", ("lat", "lon"), zlib=True, complevel=1)
            var.setncatts(attrs)
            var[:] = values.astype("float32")


def write_model(directory: Path, model: str, index: int, truth: Truth, years: tuple[int, int],
                stock_frequency: str, complevel: int, seed: int) -> dict[str, float]:
    """One model's rh, cSoil, cLitter, areacella and sftlf; returns its global totals."""
    scale, shift, distortion, tau_factor = MODEL_TRAITS[index % len(MODEL_TRAITS)]
    if index >= len(MODEL_TRAITS):
        scale *= 1 + 0.03 * index
    mean = scale * truth.mean(distortion)
    tau = tau_factor * (15.0 + 60.0 * (np.abs(truth.lat) / 90.0) ** 1.5)[:, None]  # yr
    rng = np.random.default_rng([seed, index])
    first, last = years
    n_lat, n_lon = truth.lat.size, truth.lon.size
    mid, bounds = time_axis(first, last, "monthly")
    a_mid, a_bounds = time_axis(first, last, stock_frequency)
    weights = truth.area * truth.fraction
    totals = []
    with _open(directory / "rh.nc", model, "rh") as rh_nc, _open(directory / "cSoil.nc", model, "cSoil") as cs_nc, \
            _open(directory / "cLitter.nc", model, "cLitter") as cl_nc:
        for nc in (rh_nc, cs_nc, cl_nc):
            _coords(nc, truth.lat, truth.lon)
        _time(rh_nc, mid, bounds)
        _time(cs_nc, a_mid, a_bounds)
        _time(cl_nc, a_mid, a_bounds)
        rh = _field(rh_nc, "rh", ("time", "lat", "lon"), (12, n_lat, n_lon), {
            "standard_name": "heterotrophic_respiration_carbon_flux", "units": "kg m-2 s-1",
            "long_name": "Total Heterotrophic Respiration on Land as Carbon Mass Flux",
            "cell_methods": "area: mean where land time: mean", "cell_measures": "area: areacella"}, complevel)
        stock_chunk = (12 if stock_frequency == "monthly" else 1, n_lat, n_lon)
        cs = _field(cs_nc, "cSoil", ("time", "lat", "lon"), stock_chunk, {
            "standard_name": "soil_mass_content_of_carbon", "units": "kg m-2",
            "long_name": "Carbon Mass in Model Soil Pool", "cell_measures": "area: areacella"}, complevel)
        cl = _field(cl_nc, "cLitter", ("time", "lat", "lon"), stock_chunk, {
            "standard_name": "litter_mass_content_of_carbon", "units": "kg m-2",
            "long_name": "Carbon Mass in Litter Pool", "cell_measures": "area: areacella"}, complevel)
        for k, year in enumerate(range(first, last + 1)):
            block = truth.year_block(year, mean, shift, rng, noise=0.10)  # g m-2 yr-1
            rh[12 * k:12 * (k + 1)] = np.where(np.isfinite(block), block / 1000.0 / SECONDS_PER_YEAR, FILL)
            annual = block.mean(axis=0)
            totals.append(float(np.nansum(annual * weights)) / 1e15)
            if stock_frequency == "monthly":
                stock = block * tau / 1000.0  # kg m-2, tracks the month's flux
                sl = slice(12 * k, 12 * (k + 1))
            else:
                stock = (annual * tau / 1000.0)[None]
                sl = slice(k, k + 1)
            cs[sl] = np.where(np.isfinite(stock), stock, FILL)
            cl[sl] = np.where(np.isfinite(stock), 0.06 * stock, FILL)
    write_static(directory, model, truth)
    return {"rh_pg_per_yr_mean": round(float(np.mean(totals)), 3)}


def write_ilamb_reference(path: Path, truth: Truth, years: tuple[int, int], seed: int, complevel: int) -> np.ndarray:
    """The monthly truth (per grid-cell area, kg m-2 s-1) for ILAMB; returns its 2001–2010 mean (kg m-2 yr-1)."""
    first, last = years
    mean = truth.mean()
    rng = np.random.default_rng([seed, 9999])
    mid, bounds = time_axis(first, last, "monthly")
    lo, hi = max(first, REFERENCE_PERIOD[0]), min(last, REFERENCE_PERIOD[1])
    if lo > hi:
        lo, hi = first, last
    accumulated, count = np.zeros(mean.shape), 0
    with _open(path, "SYNTH", "rh") as nc:
        _coords(nc, truth.lat, truth.lon)
        _time(nc, mid, bounds)
        rh = _field(nc, "rh", ("time", "lat", "lon"), (12, truth.lat.size, truth.lon.size), {
            "standard_name": "heterotrophic_respiration_carbon_flux", "units": "kg m-2 s-1",
            "long_name": "Heterotrophic respiration (synthetic reference)"}, complevel)
        for k, year in enumerate(range(first, last + 1)):
            block = truth.year_block(year, mean, 0.0, rng, noise=0.05) * truth.fraction[None]  # per cell area
            rh[12 * k:12 * (k + 1)] = np.where(np.isfinite(block), block / 1000.0 / SECONDS_PER_YEAR, FILL)
            if lo <= year <= hi:
                accumulated += block.mean(axis=0)
                count += 1
        nc.setncattr("comment", "monthly truth of the synthetic campaign; the CARDAMOM-like map is its "
                     f"{lo}-{hi} mean")
    return (accumulated / count / 1000.0).astype("float32")


def write_cardamom_like(path: Path, truth: Truth, mean_kg_yr: np.ndarray) -> None:
    """Like the real cardamom_rh_2001-2010_mean_0.5deg.nc: ``rh`` (lat, lon) in kg m-2 yr-1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts({"title": "SYNTHETIC CARDAMOM-like heterotrophic respiration, 2001-2010 mean",
                      "comment": "generated by benchmarks/generate_campaign.py"})
        for name, values, units in (("lat", truth.lat, "degrees_north"), ("lon", truth.lon, "degrees_east")):
            nc.createDimension(name, values.size)
            var = nc.createVariable(name, "f8", (name,))
            var.units = units
            var[:] = values
        var = nc.createVariable("rh", "f4", ("lat", "lon"), zlib=True, complevel=4, shuffle=True, fill_value=FILL)
        var.setncatts({"units": "kg m-2 yr-1", "long_name": "heterotrophic respiration (synthetic)"})
        var[:] = np.where(np.isfinite(mean_kg_yr), mean_kg_yr, FILL)


# -- site records ------------------------------------------------------------------------------------
def _site_locations(truth: Truth, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on land cells, denser in the northern mid-latitudes like the real databases."""
    weights = (truth.area * truth.fraction * (1 + 2 * np.exp(-((truth.lat[:, None] - 45) / 15) ** 2))).ravel()
    weights = weights / weights.sum()
    cells = rng.choice(weights.size, size=n, p=weights)
    i, j = np.unravel_index(cells, truth.fraction.shape)
    res = truth.lat[1] - truth.lat[0]
    lat = truth.lat[i] + rng.uniform(-0.45, 0.45, n) * res
    lon = truth.lon[j] + rng.uniform(-0.45, 0.45, n) * res
    return np.round(lat, 3), np.round(lon, 3)


def write_srdb(path: Path, truth: Truth, years: tuple[int, int], n_rows: int, rng: np.random.Generator) -> None:
    """SRDB-V5-like ``srdb-data.csv``: Rs on ~55 % of rows, Rh on ~10 % (as in the real file)."""
    n_sites = max(2, n_rows // 3)
    site_lat, site_lon = _site_locations(truth, n_sites, rng)
    site = rng.integers(0, n_sites, n_rows)
    lat, lon = site_lat[site], site_lon[site]
    rate = truth.scale * truth_mean(lat, lon)  # g m-2 yr-1 at the points
    first, last = years
    midyear = rng.integers(first, last + 1, n_rows).astype(float)
    years_of_data = rng.choice([0.5, 1, 1, 1, 2, 3], n_rows)
    rh = rate * rng.lognormal(0.0, 0.35, n_rows)
    rs = rh / rng.uniform(0.45, 0.75, n_rows)
    has_rs = rng.random(n_rows) < 0.55
    has_rh = rng.random(n_rows) < 0.10
    frame = pd.DataFrame({
        "Record_number": np.arange(1, n_rows + 1),
        "Study_number": 1 + site // 3,
        "Site_ID": [f"SYN-{s:05d}" for s in site],
        "Study_midyear": midyear,
        "YearsOfData": years_of_data,
        "Latitude": lat,
        "Longitude": lon,
        "Manipulation": rng.choice(["None", "None", "None", "None", "Warming", "N fertilization"], n_rows),
        "Ecosystem_type": rng.choice(ECOSYSTEMS, n_rows),
        "Meas_method": rng.choice(SRDB_METHODS, n_rows),
        "Rs_annual": np.where(has_rs, np.round(rs, 1), np.nan),
        "Rh_annual": np.where(has_rh, np.round(rh, 1), np.nan),
        "Ra_annual": np.where(has_rs & has_rh, np.round(rs - rh, 1), np.nan),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, na_rep="NA")


def write_mgrhd(path: Path, truth: Truth, years: tuple[int, int], n_rows: int, n_studies: int,
                rng: np.random.Generator) -> None:
    """MGRhD-like daily records: ``Rh_Norm`` (g C m-2 day-1) with year, month and day of year."""
    n_studies = max(1, min(n_studies, n_rows))
    study_lat, study_lon = _site_locations(truth, n_studies, rng)
    study = np.sort(rng.integers(0, n_studies, n_rows))
    lat, lon = study_lat[study], study_lon[study]
    first, last = years
    start = rng.integers(first, max(first, last - 1) + 1, n_studies)
    year = start[study] + rng.integers(0, 2, n_rows)
    year = np.minimum(year, last)
    doy = rng.integers(1, 366, n_rows)
    month = np.minimum(12, 1 + ((doy - 1) * 12) // 365)
    rate = truth.scale * truth_mean(lat, lon) * seasonal_factor(lat, (doy - 0.5) / 365.0 * 12.0, 0.0)
    rh_day = rate / 365.0 * rng.lognormal(0.0, 0.4, n_rows)
    frame = pd.DataFrame({
        "Study_number": 5000 + study,
        "Site_ID": [f"SYN-D{s:04d}" for s in study],
        "Meas_Year": year, "Meas_Month": month, "Meas_DOY": doy,
        "Rs_Norm": np.round(rh_day / 0.6, 4), "Rh_Norm": np.round(rh_day, 4),
        "Latitude": lat, "Longitude": lon,
        "Manipulation": np.where(rng.random(n_rows) < 0.85, "None", "Warming"),
        "Meas_method": rng.choice(["IRGA", "IRGA", "Gas chromatography", "Alkali absorption"], n_rows),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, na_rep="NA")


# -- registry ------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    from soilbench.data import sha256_of

    return sha256_of(path)


def _standins(data: Path, missing: list[str], seed: int) -> dict[str, str]:
    """Synthetic stand-ins for real files that are not available locally (no network here).

    soilbench's own synthetic world writes every reference in its real format; the ones the
    campaign would have linked are taken from it, so the benchmark runs the same code paths on
    a machine without the real data. They are registered as generated, never as the real file.
    """
    if not missing:
        return {}
    from soilbench.data import registry
    from soilbench.synthetic import generate_world

    log.warning("real %s not available locally: synthetic stand-ins from soilbench.synthetic", ", ".join(missing))
    world = generate_world(data.parent / "standins", seed=seed)
    standins = {}
    for dataset_id in missing:
        relative = registry(world.registry)[dataset_id]["file"]
        target = data / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink((world.root / relative).resolve(), target)
        standins[dataset_id] = relative
    return standins


def write_registry(data: Path, generated: dict[str, str], seed: int) -> Path:
    """``registry.yaml`` (``synthetic: true``): generated files and links to real ones."""
    from soilbench.data import REGISTRY_PATH, locate, registry

    real = registry(REGISTRY_PATH)
    generated = {**generated, **_standins(data, [i for i in LINKED_IDS if locate(i) is None], seed)}
    datasets = []
    for dataset_id, relative in sorted(generated.items()):
        path = data / relative
        datasets.append({
            "id": dataset_id, "file": relative, "url": f"synthetic://soilbench-benchmark/{relative}",
            "sha256": _sha256(path), "size": path.stat().st_size,
            "licence": "generated (synthetic benchmark campaign)",
            "citation": f"soilbench benchmark campaign (seed {seed}); stands in for: "
                        f"{real.get(dataset_id, {}).get('citation', dataset_id)}",
            "variables": real.get(dataset_id, {}).get("variables", {}),
            "description": f"SYNTHETIC stand-in for {dataset_id}",
        })
    # every other real id keeps its real entry (catalogs name them); those the whole benchmark
    # reads are linked from the local copy of the real data when there is one
    for dataset_id, item in real.items():
        if dataset_id in generated:
            continue
        datasets.append(dict(item))
        found = locate(dataset_id) if dataset_id in LINKED_IDS else None
        if found is None:
            if dataset_id in LINKED_IDS:
                log.warning("real %s not available locally: not linked (whole-benchmark mode needs it)", dataset_id)
            continue
        target = data / item["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(found.resolve(), target)
    document = {"synthetic": True, "seed": seed, "generator": "benchmarks/generate_campaign.py",
                "generator_version": GENERATOR_VERSION, "datasets": datasets}
    header = "# SYNTHETIC benchmark-campaign registry: generated files (and links to real ones). Not for science.\n"
    (data / "registry.yaml").write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return data / "registry.yaml"


# -- main ------------------------------------------------------------------------------------------------
def parse_years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    if not (first.isdigit() and last.isdigit() and int(first) <= int(last)):
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST, e.g. 1982-2018; got {text!r}")
    return int(first), int(last)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="campaign directory (outside the repository)")
    parser.add_argument("--years", type=parse_years, default=(1982, 2018), help="FIRST-LAST years of monthly output")
    parser.add_argument("--resolution", type=float, default=0.5, help="grid spacing in degrees")
    parser.add_argument("--models", type=int, default=3, help="number of models")
    parser.add_argument("--stock-frequency", choices=("annual", "monthly"), default="monthly",
                        help="time step of cSoil and cLitter")
    parser.add_argument("--srdb-rows", type=int, default=10366, help="rows of the SRDB-like table")
    parser.add_argument("--mgrhd-rows", type=int, default=11811, help="rows of the MGRhD-like table")
    parser.add_argument("--mgrhd-studies", type=int, default=304, help="studies of the MGRhD-like table")
    parser.add_argument("--complevel", type=int, default=1, help="zlib level of the gridded files (0: none)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--force", action="store_true", help="regenerate even when the campaign is current")
    return parser


def generate(args: argparse.Namespace) -> dict:
    """Write the campaign (or reuse it when its parameters match); returns ``campaign.json``'s content."""
    out: Path = args.out
    params = {"years": list(args.years), "resolution": args.resolution, "models": args.models,
              "stock_frequency": args.stock_frequency, "srdb_rows": args.srdb_rows, "mgrhd_rows": args.mgrhd_rows,
              "mgrhd_studies": args.mgrhd_studies, "complevel": args.complevel, "seed": args.seed,
              "generator_version": GENERATOR_VERSION}
    manifest_path = out / "campaign.json"
    if not args.force and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params and all(Path(p).is_dir() for p in manifest["models"].values()):
            log.info("campaign in %s is current", out)
            return manifest
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    truth = Truth(args.resolution)
    names = [f"synth-{chr(ord('a') + i)}" if i < 26 else f"synth-{i}" for i in range(args.models)]
    models, totals = {}, {}
    for index, name in enumerate(names):
        log.info("model %s", name)
        directory = out / "models" / name
        totals[name] = write_model(directory, name, index, truth, args.years, args.stock_frequency,
                                   args.complevel, args.seed)
        models[name] = str(directory)

    data = out / "data"
    ilamb = out / "ilamb"
    log.info("references")
    mean = write_ilamb_reference(ilamb / "DATA" / "rh" / "SYNTH" / "rh.nc", truth, args.years, args.seed, args.complevel)
    generated = {
        "cardamom-rh": "cardamom-rh/cardamom_rh_2001-2010_mean_0.5deg.nc",
        "srdb-v5-data": "srdb-v5/srdb-data.csv",
        "mgrhd": "mgrhd/MGRhD.csv",
    }
    write_cardamom_like(data / generated["cardamom-rh"], truth, mean)
    write_srdb(data / generated["srdb-v5-data"], truth, args.years, args.srdb_rows, np.random.default_rng([args.seed, 1]))
    write_mgrhd(data / generated["mgrhd"], truth, args.years, args.mgrhd_rows, args.mgrhd_studies,
                np.random.default_rng([args.seed, 2]))
    registry = write_registry(data, generated, args.seed)
    for name, directory in models.items():
        target = ilamb / "MODELS" / name
        target.mkdir(parents=True, exist_ok=True)
        for variable in ("rh", "areacella", "sftlf"):
            os.symlink(Path(directory) / f"{variable}.nc", target / f"{variable}.nc")

    sizes = {str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*.nc")) if not p.is_symlink()}
    n_time = 12 * (args.years[1] - args.years[0] + 1)
    manifest = {
        "params": params, "models": models, "data_dir": str(data), "registry": str(registry),
        "ilamb_root": str(ilamb), "land_fraction": truth.fraction_source, "model_totals": totals,
        "grid": [int(truth.lat.size), int(truth.lon.size)], "time_steps": n_time,
        "rh_uncompressed_bytes": int(n_time * truth.lat.size * truth.lon.size * 4),
        "file_bytes": sizes, "generation_s": round(time.perf_counter() - started, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.models < 1:
        raise SystemExit("--models must be at least 1")
    manifest = generate(args)
    print(json.dumps({k: manifest[k] for k in ("models", "data_dir", "registry", "ilamb_root", "grid",
                                               "time_steps", "rh_uncompressed_bytes")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
