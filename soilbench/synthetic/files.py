"""The synthetic world's files, each in the format of the real file it stands in for.

One function per registry id (or model); each returns the relative path it wrote. Site records
and global series are sampled from the same truth as the gridded fields, with seeded noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import atomic
from soilbench.synthetic.truth import ROOT_SHARE, Truth
from soilbench.synthetic.world import (
    MODEL_RES, MODELS, REFERENCE_RES, SECONDS_PER_YEAR, YEARS, cell_area, koppen_codes, monthly_time,
    regular_grid, true_fields, write_csv, write_netcdf,
)

LAT_ATTRS = {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"}
LON_ATTRS = {"standard_name": "longitude", "units": "degrees_east", "axis": "X"}


def _grid_dataset(variables: dict, lat: np.ndarray, lon: np.ndarray, attrs: dict) -> xr.Dataset:
    ds = xr.Dataset(variables, coords={"lat": ("lat", lat, LAT_ATTRS), "lon": ("lon", lon, LON_ATTRS)})
    ds.attrs.update(attrs)
    return ds


def reference_grid() -> tuple[np.ndarray, np.ndarray]:
    return regular_grid(REFERENCE_RES, REFERENCE_RES)


# -- gridded references ------------------------------------------------------------------------------
def cardamom_rh(root: Path, truth: Truth, rng: np.random.Generator, relative: str) -> str:
    """CARDAMOM-like Rh (kg m-2 yr-1): the truth with 5 % smooth observation error."""
    lat, lon = reference_grid()
    fields = true_fields(truth, lat, lon)
    # per grid-cell area, like the real products: the coasts' partial land is folded in
    rh = fields["rh"] * fields["land_fraction"] * (1.0 + 0.05 * rng.standard_normal((lat.size, lon.size)))
    var = (("lat", "lon"), (rh / 1000.0).astype("float32"),
           {"units": "kg m-2 yr-1", "long_name": "heterotrophic respiration (synthetic)",
            "standard_name": "heterotrophic_respiration_carbon_flux"})
    write_netcdf(_grid_dataset({"rh": var}, lat, lon, {"title": "SYNTHETIC CARDAMOM-like Rh"}), root / relative)
    return relative


def soil_carbon(root: Path, truth: Truth, rng: np.random.Generator, relative: str, north_only: bool) -> str:
    """HWSD-like (global) or NCSCD-like (north of 50° N, NaN elsewhere) soil carbon, kg m-2."""
    lat, lon = reference_grid()
    fields = true_fields(truth, lat, lon)
    csoil = fields["csoil"] * fields["land_fraction"] * (1.0 + 0.08 * rng.standard_normal((lat.size, lon.size)))
    if north_only:
        csoil = np.where(lat[:, None] >= 50.0, csoil, np.nan)
    var = (("lat", "lon"), csoil.astype("float32"), {"units": "kg m-2", "long_name": "Soil Carbon in top 1 m (synthetic)"})
    write_netcdf(_grid_dataset({"soilc": var}, lat, lon, {"title": f"SYNTHETIC {relative}"}), root / relative)
    return relative


def land_fraction(root: Path, truth: Truth, relative: str) -> str:
    """Like fractional_land.0.5-deg.nc: variable ``data`` (time, lat, lon), lat N→S, lon 0–360."""
    lat, lon = reference_grid()
    fraction = truth.land_fraction(lat, lon)
    order = np.argsort(np.where(lon < 0, lon + 360.0, lon))
    lon360 = np.where(lon < 0, lon + 360.0, lon)[order]
    data = fraction[::-1, order][None].astype("float32")
    ds = xr.Dataset(
        {"data": (("time", "lat", "lon"), data, {"long_name": "0-1 land fraction (synthetic)", "units": "1"})},
        coords={"time": ("time", [0.0], {"units": "hours since 2001-01-01"}),
                "lat": ("lat", lat[::-1], {"units": "degrees_north"}), "lon": ("lon", lon360, {"units": "degrees_east"})},
    )
    write_netcdf(ds, root / relative)
    return relative


def koppen_table(root: Path, truth: Truth, relative: str) -> str:
    """Like KoeppenGeiger_0.5deg.csv: ``Latitude, Longitude, ClimateTypes`` for land cells."""
    lat, lon = reference_grid()
    codes = koppen_codes(truth, lat, lon)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    land = truth.land_fraction(lat, lon) > 0
    table = pd.DataFrame({"Latitude": lat2[land], "Longitude": lon2[land], "ClimateTypes": codes[land]})
    write_csv(table, root / relative)
    return relative


_RC_CLIMATE = {"Af": 1, "BWh": 2, "Cfb": 3, "Csa": 4, "Dfb": 6, "ET": 8}


def root_contribution(root: Path, truth: Truth, rng: np.random.Generator, relative: str) -> str:
    """Like global_Rt_contribution_to_Rs2.nc: dims (lon, lat), coordinates in latitude/longitude."""
    lat, lon = reference_grid()
    land = truth.land_fraction(lat, lon) > 0
    rc = np.where(land, ROOT_SHARE + 0.03 * rng.standard_normal(land.shape), np.nan)
    codes = np.vectorize(_RC_CLIMATE.get)(koppen_codes(truth, lat, lon)).astype(float)
    ds = xr.Dataset(
        {"latitude": ("lat", lat.astype("float32")), "longitude": ("lon", lon.astype("float32")),
         "RC": (("lon", "lat"), rc.T.astype("float32")),
         "SD_RC": (("lon", "lat"), np.where(land, 0.1, np.nan).T.astype("float32")),
         "Climate_type": (("lon", "lat"), np.where(land, codes, np.nan).T.astype("float32")),
         # the world's own climate, as the real file carries its gridded MAT and MAP
         "MAT": (("lon", "lat"), np.where(land, truth.temperature(lat, lon), np.nan).T.astype("float32"),
                 {"long_name": "Mean annual temperature", "Unit": "°C"}),
         "MAP": (("lon", "lat"), np.where(land, 2000.0 * truth.wetness(lat, lon), np.nan).T.astype("float32"),
                 {"long_name": "Mean annual precipitation", "Unit": "mm"})},
    )
    ds.attrs["Comment"] = "SYNTHETIC root contribution to soil respiration"
    write_netcdf(ds, root / relative)
    return relative


# -- site records ----------------------------------------------------------------------------------
def _land_sites(truth: Truth, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random sites well inside land: (lat, lon, annual rh at the site, lat index)."""
    lat, lon = reference_grid()
    fields = true_fields(truth, lat, lon)
    i, j = np.nonzero((fields["land_fraction"] > 0.95) & (np.abs(lat)[:, None] < 70))
    pick = rng.choice(i.size, size=n, replace=True)
    jitter = rng.uniform(-0.9, 0.9, size=(2, n))
    return lat[i[pick]] + jitter[0], lon[j[pick]] + jitter[1], fields["rh"][i[pick], j[pick]], i[pick]


def srdb_annual(root: Path, truth: Truth, rng: np.random.Generator, relative: str) -> str:
    """SRDB-like annual records: Rh and Rs (g C m-2 yr-1) with 15 % site noise; a few to be filtered."""
    n = 240
    lat, lon, rh, _ = _land_sites(truth, rng, n)
    rh_obs = rh * np.exp(0.15 * rng.standard_normal(n))
    rs_obs = rh_obs / (1.0 - ROOT_SHARE) * np.exp(0.1 * rng.standard_normal(n))
    has_rh = rng.uniform(size=n) < 0.6  # as in SRDB, Rs is reported more often than Rh
    manipulation = np.where(rng.uniform(size=n) < 0.05, "N fertilization", "None")
    method = np.where(rng.uniform(size=n) < 0.05, "Alkali absorption", "IRGA")
    midyear = rng.integers(YEARS[0], YEARS[1] + 1, size=n)
    # the record's year carries the world's interannual anomaly, as the models' fields do
    year_factor = truth.rh_anomaly_factor(midyear)
    rh_obs, rs_obs = rh_obs * year_factor, rs_obs * year_factor
    table = pd.DataFrame({
        "Record_number": np.arange(1, n + 1),
        "Study_number": 1000 + np.arange(n) // 3,
        "Site_ID": [f"SYN-{k // 3:03d}" for k in range(n)],
        "Latitude": np.round(lat, 3), "Longitude": np.round(lon, 3),
        "Study_midyear": midyear + 0.5,
        "YearsOfData": 1,
        "Manipulation": manipulation, "Meas_method": method,
        "Ecosystem_type": "Forest", "Biome": "Temperate", "Quality_flag": "Q0",
        "Rs_annual": np.round(rs_obs, 1),
        "Rh_annual": np.where(has_rh, np.round(rh_obs, 1), np.nan),
        "Ra_annual": np.where(has_rh, np.round(rs_obs - rh_obs, 1), np.nan),
        # the site climate SRDB reports with each record (the truth's, without drawing from rng)
        "MAT": np.round(np.diag(truth.temperature(lat, lon)), 1),
        "MAP": np.round(200.0 + 2800.0 * np.diag(truth.wetness(lat, lon)), 0),
    })
    write_csv(table, root / relative)
    return relative


def mgrhd_daily(root: Path, truth: Truth, rng: np.random.Generator, relative: str) -> str:
    """MGRhD-like daily Rh (g C m-2 day-1): 40 studies × 12–24 dates each, 10 % noise."""
    rows = []
    lat, lon, rh, _ = _land_sites(truth, rng, 40)
    for study in range(40):
        n_obs = int(rng.integers(12, 25))
        year = int(rng.integers(YEARS[0], YEARS[1] + 1))
        doy = np.sort(rng.choice(np.arange(1, 366), size=n_obs, replace=False))
        month = pd.to_datetime([f"{year}-{d:03d}" for d in doy], format="%Y-%j").month.to_numpy()
        factor = truth.seasonal_factor(np.array([lat[study]]), month - 1)[:, 0]
        daily = rh[study] * factor * truth.rh_anomaly_factor([year])[0] / 365.0 * np.exp(0.1 * rng.standard_normal(n_obs))
        # soil temperature in phase with the seasonal cycle of Rh, about the site's mean temperature
        phase = 2.0 * np.pi * (month + 0.5 - truth.peak_month(np.array([lat[study]]))[0]) / 12.0
        tsoil = float(np.diag(truth.temperature(lat[study:study + 1], lon[study:study + 1]))[0]) + 10.0 * np.cos(phase) \
            + truth.temperature_anomaly([year])[0]
        wetness = float(np.diag(truth.wetness(lat[study:study + 1], lon[study:study + 1]))[0])
        swc = 50.0 * wetness * (1.0 - 0.2 * np.cos(phase))
        for k in range(n_obs):
            rows.append({
                "Study_number": 5000 + study, "Site_ID": f"SYND-{study:03d}",
                "Meas_Year": year, "Meas_Month": int(month[k]), "Meas_DOY": int(doy[k]),
                "Latitude": round(float(lat[study]), 3), "Longitude": round(float(lon[study]), 3),
                "Manipulation": "None", "Meas_method": "IRGA",
                "Rh_Norm": round(float(daily[k]), 4),
                "Rs_Norm": round(float(daily[k] / (1 - ROOT_SHARE)), 4),
                "Ra_Norm": round(float(daily[k] * ROOT_SHARE / (1 - ROOT_SHARE)), 4),
                "Tsoil": round(float(tsoil[k]), 2), "TsDepth": 5,
                # volumetric water content (%): the site's wetness, drier in the warm season
                "SWC": round(float(swc[k]), 1), "SWCType": "VWC",
            })
    write_csv(pd.DataFrame(rows), root / relative)
    return relative


def bl2004_table(root: Path, rng: np.random.Generator, relative: str) -> str:
    """Like 2004_paper_data.csv: 54 sites on ln(Rh) = 1.22 + 0.73 ln(Rs)."""
    rs = np.exp(rng.uniform(np.log(100), np.log(2000), 54))
    rh = np.exp(1.22 + 0.73 * np.log(rs) + 0.15 * rng.standard_normal(54))
    table = pd.DataFrame({
        "Location": "Synthetic", "Biome": "Temperate", "Type": "Forest", "Species": ".", "Soil": ".",
        "Habit": ".", "Stage": ".", "Method": ".", "Author": "soilbench", "Year": 2004,
        "Site": [f"S{k}" for k in range(54)], "Age": ".", "MAT": ".", "MAP": ".", "Lat": ".", "NPP": ".",
        "ANPP": ".", "BNPP": ".", "NPPFR": ".", "Litter": ".", "TotDet": ".",
        "Rh": np.round(rh).astype(int), "Rs": np.round(rs).astype(int), "Ra": np.round(rs - rh).astype(int),
        "RC": [f"{100 * (1 - h / s):.0f}%" for h, s in zip(rh, rs)], "Note": "synthetic",
    })
    write_csv(table, root / relative)
    return relative


# -- global series --------------------------------------------------------------------------------
def digitised_series(root: Path, truth: Truth, rng: np.random.Generator, relative: str, years: tuple[int, int],
                     offset: float) -> str:
    """A DataThief-like ``#DataThief`` + ``year, value`` file around the true global Rh (Pg C yr-1):
    the truth's interannual anomaly (its temperature response) plus digitising noise smaller than it."""
    from soilbench.synthetic.truth import RH_SENSITIVITY_PG_PER_DEGC, RH_TOTAL_PG

    lines = ["#DataThief"]
    for k, year in enumerate(range(years[0], years[1] + 1)):
        anomaly = RH_SENSITIVITY_PG_PER_DEGC * truth.temperature_anomaly([year])[0]
        value = RH_TOTAL_PG + offset + 0.05 * (year - 2005) + anomaly + 0.15 * rng.standard_normal()
        lines.append(f"{year + 0.01 * rng.uniform(-1, 1):.3f}, {value:.4f}")
    atomic.write_text(root / relative, "\n".join(lines) + "\n")
    return relative


def cmip6_global(root: Path, rng: np.random.Generator, relative: str, variable: str) -> str:
    """Like the CMIP6 global-total csv (value in g yr-1) for three invented models."""
    from soilbench.synthetic.truth import NPP_OVER_RH, RH_TOTAL_PG

    base = {"rh": RH_TOTAL_PG, "npp": RH_TOTAL_PG * NPP_OVER_RH, "gpp": RH_TOTAL_PG * NPP_OVER_RH * 2.1}[variable]
    rows = []
    for model, factor in (("SYN-ESM-LOW", 0.8), ("SYN-ESM-MID", 1.0), ("SYN-ESM-HIGH", 1.25)):
        for year in range(1980, 2016):
            value = base * factor * (1 + 0.002 * (year - 1980)) * (1 + 0.01 * rng.standard_normal())
            rows.append({"year": year, "variable": variable, "experiment": "historical", "ensemble": "r1i1p1f1",
                         "model": model, "units": "g yr-1", "value": f"{value * 1e15:.0f}"})
    write_csv(pd.DataFrame(rows), root / relative)
    return relative


# -- models -----------------------------------------------------------------------------------------
def model_file(root: Path, truth: Truth, name: str, relative: str) -> str:
    """A CMOR-like monthly model file (2001–2010, noleap) with the model's known bias."""
    bias = MODELS[name]
    lat, lon = regular_grid(*MODEL_RES)
    fields = true_fields(truth, lat, lon)
    centres, bounds, months = monthly_time()
    season = truth.seasonal_factor(lat, months - 1, shift_months=bias.get("shift_months", 0.0))[:, :, None]
    trend = (1.0 + 0.004 * (np.arange(months.size) / 12.0))[:, None, None]  # a small warming response
    years = YEARS[0] + np.arange(months.size) // 12
    # the year's temperature anomaly drives Rh (every model: their stories differ in level, season
    # and stock, not in the climate); zero mean and no trend over the models' years (Truth)
    anomaly = truth.rh_anomaly_factor(years)[:, None, None]

    def monthly(annual: np.ndarray, seasonal: bool, interannual: bool = False) -> np.ndarray:
        series = annual[None] * (season if seasonal else 1.0) * trend * (anomaly if interannual else 1.0)
        return series.astype("float32")

    # near-surface air temperature (K): the truth's MAT, a seasonal cycle in phase with Rh's (larger
    # towards the poles) and the year's anomaly
    tas_season = 15.0 * (truth.seasonal_factor(lat, months - 1) - 1.0)[:, :, None]
    tas = (truth.temperature(lat, lon)[None] + tas_season
           + truth.temperature_anomaly(years)[:, None, None] + 273.15)
    tas = np.where(np.isfinite(fields["rh"])[None], tas, np.nan)

    per_second = 1.0 / 1000.0 / SECONDS_PER_YEAR  # g m-2 yr-1 -> kg m-2 s-1
    rh = fields["rh"] * bias.get("rh", 1.0)
    csoil = fields["csoil"] * bias.get("csoil", 1.0)
    dims = ("time", "lat", "lon")
    flux = {"units": "kg m-2 s-1"}
    ds = xr.Dataset(
        {
            "rh": (dims, monthly(rh * per_second, True, interannual=True),
                   {**flux, "standard_name": "heterotrophic_respiration_carbon_flux"}),
            "tas": (dims, tas.astype("float32"), {"units": "K", "standard_name": "air_temperature"}),
            "raRoot": (dims, monthly(fields["ra_root"] * per_second, True), flux),
            "npp": (dims, monthly(fields["npp"] * per_second, True), flux),
            "cSoil": (dims, monthly(csoil, False), {"units": "kg m-2"}),
            "cVeg": (dims, monthly(fields["cveg"], False), {"units": "kg m-2"}),
            "sftlf": (("lat", "lon"), (100.0 * fields["land_fraction"]).astype("float32"), {"units": "%"}),
            "areacella": (("lat", "lon"), cell_area(lat, lon), {"units": "m2"}),
            "time_bnds": (("time", "bnds"), bounds),
        },
        coords={
            "time": ("time", centres, {"units": f"days since {YEARS[0]}-01-01", "calendar": "noleap",
                                       "standard_name": "time", "axis": "T", "bounds": "time_bnds"}),
            "lat": ("lat", lat, LAT_ATTRS), "lon": ("lon", lon, LON_ATTRS),
        },
    )
    ds.attrs.update(title=f"SYNTHETIC model '{name}'", source_id=name, comment=f"soilbench synthetic world; bias: {bias or 'none'}")
    write_netcdf(ds, root / relative)
    return relative
