"""Site loaders, model linking, per-study classes and the site confrontations on synthetic data.

Every fixture is generated here; none comes from the shared data.
"""

from __future__ import annotations

import calendar as pycalendar

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis import sites as analysis
from soilbench.confrontations import confrontation_class
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.load import sites as loaders
from soilbench.results import SCALAR_COLUMNS, load_result

# ---------------------------------------------------------------------------------------------
# fixture writers

MGRHD_COLUMNS = ["Study_number", "Site_ID", "Meas_Year", "Meas_Month", "Meas_DOY", "Meas_Day", "Latitude",
                 "Longitude", "Manipulation", "Meas_method", "Rh_Norm"]


def mgrhd_row(study, year, doy, rh, lat=45.0, lon=10.0, month="NA", day="NA", manipulation="None",
              method="IRGA", site="S1"):
    return {"Study_number": study, "Site_ID": site, "Meas_Year": year, "Meas_Month": month, "Meas_DOY": doy,
            "Meas_Day": day, "Latitude": lat, "Longitude": lon, "Manipulation": manipulation, "Meas_method": method,
            "Rh_Norm": rh}


def write_csv(rows: list[dict], path, columns, line_end="\n", encoding="utf-8"):
    lines = [",".join(columns)] + [",".join(str(r.get(c, "NA")) for c in columns) for r in rows]
    path.write_bytes((line_end.join(lines) + line_end).encode(encoding))
    return path


SRDB_COLUMNS = ["Record_number", "Study_number", "Site_ID", "Latitude", "Longitude", "Study_midyear", "YearsOfData",
                "Manipulation", "Meas_method", "Rs_annual", "Rh_annual", "Site_name"]


def srdb_row(record, rh, rs="NA", lat=45.0, lon=10.0, midyear=2005, years=1, manipulation="None", method="IRGA",
             study=None):
    return {"Record_number": record, "Study_number": study or record, "Site_ID": f"X-{record}", "Latitude": lat,
            "Longitude": lon, "Study_midyear": midyear, "YearsOfData": years, "Manipulation": manipulation,
            "Meas_method": method, "Rs_annual": rs, "Rh_annual": rh, "Site_name": "Kärnten"}


# ---------------------------------------------------------------------------------------------
# loaders: counted filters and bad input


def test_mgrhd_bad_input_is_counted(tmp_path):
    good = [mgrhd_row(1, 2005, d, 1.0 + d / 100) for d in range(10, 80, 10)]  # 7 good rows, study 1
    bad = [
        mgrhd_row(2, 2005, 50, 1.0, lat="NA"),                 # no coordinates
        mgrhd_row(2, "NA", 50, 1.0),                           # no year
        mgrhd_row(2, 2005, "NA", 1.0),                         # neither DOY nor month
        mgrhd_row(2, 2005, 0, 1.0),                            # DOY 0
        mgrhd_row(2, 2004, 367, 1.0),                          # DOY 367
        mgrhd_row(2, 2005, 366, 1.0),                          # DOY 366 in a common year
        mgrhd_row(2, 2005, "NA", 1.0, month=2, day=30),        # 30 February
        mgrhd_row(2, 2005, "NA", 1.0, month=13),               # month 13
        mgrhd_row(2, 2005, 40, "NA"),                          # no flux
        mgrhd_row(3, 2005, 40, 1.0, manipulation="Warmed"),
        mgrhd_row(3, 2005, 40, 1.0, method="Alkali absorption"),
        mgrhd_row(3, 2005, 40, 1.0, method="KOH trap"),
        mgrhd_row(3, 2005, 40, -0.2),                          # negative flux
    ]
    small = [mgrhd_row(4, 2004, 366, 0.5), mgrhd_row(4, 2004, "NA", 0.7, month=2, day=29),
             mgrhd_row(4, 2006, "NA", 0.9, month=6)]            # a study with 3 valid observations
    path = write_csv(good + bad + small, tmp_path / "mgrhd.csv", MGRHD_COLUMNS)
    result = loaders.load_mgrhd(path)
    counts = result.filter_counts.set_index("step")
    assert counts.loc["read", "remaining"] == 23
    assert counts.loc["has_value", "removed"] == 1
    assert counts.loc["coordinates", "removed"] == 1
    assert counts.loc["date", "removed"] == 2
    assert counts.loc["possible_date", "removed"] == 5
    assert counts.loc["manipulation", "removed"] == 1
    assert counts.loc["method", "removed"] == 2
    assert counts.loc["negative", "removed"] == 1
    assert counts.loc["negative", "remaining"] == 10 == len(result.records)
    assert counts.loc["small_studies", "remaining"] == 1
    assert counts.loc["small_study_observations", "remaining"] == 3
    small_rows = result.records[result.records["study"] == 4].sort_values("year")
    assert small_rows["doy"].tolist() == [366, 60, 166]  # 31 Dec 2004; 29 Feb 2004; mid-June 2006 (15th)
    assert small_rows["date_from"].tolist() == ["doy", "month", "month"]


def test_mgrhd_keeps_the_string_none_latin1_and_cr_line_endings(tmp_path):
    rows = [mgrhd_row(1, 2005, d, 1.0, site="Scienti\xdec") for d in (10, 20, 30)]
    path = write_csv(rows, tmp_path / "mac.csv", MGRHD_COLUMNS, line_end="\r", encoding="latin-1")
    result = loaders.load_mgrhd(path)
    assert len(result.records) == 3  # "None" is the string, not missing, so the manipulation filter keeps them


def test_missing_columns_is_one_line_error_naming_file_and_columns(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("Study_number,Latitude\n1,2\n")
    with pytest.raises(SoilbenchError) as info:
        loaders.load_mgrhd(path)
    message = str(info.value)
    assert "\n" not in message and "broken.csv" in message
    for column in ("Meas_DOY", "Rh_Norm", "Manipulation", "Longitude"):
        assert column in message


def test_srdb_filters_in_order(tmp_path):
    rng = np.random.default_rng(1)
    rows = [srdb_row(i, round(float(v), 1)) for i, v in enumerate(rng.normal(500, 50, 60), start=1)]
    rows += [
        srdb_row(100, 9000.0),                               # beyond 6 SD
        srdb_row(101, -50.0),                                # negative
        srdb_row(102, 400.0, rs=300.0),                      # Rs < Rh
        srdb_row(103, 400.0, rs=900.0),                      # kept: Rs > Rh
        srdb_row(104, 400.0, years=0.5),                     # less than a year
        srdb_row(105, 400.0, manipulation="Fertilized"),
        srdb_row(106, 400.0, method="Alkali absorption"),
        srdb_row(107, 400.0, lat="NA"),
        srdb_row(108, 400.0, midyear="NA"),
        srdb_row(109, "NA", rs=700.0),                       # no Rh
    ]
    path = write_csv(rows, tmp_path / "srdb.csv", SRDB_COLUMNS)
    result = loaders.load_srdb_annual(path, "rh")
    removed = result.filter_counts.set_index("step")["removed"].to_dict()
    assert removed == {"read": 0, "has_value": 1, "coordinates": 1, "year": 1, "years_of_data": 1, "manipulation": 1,
                       "method": 1, "negative": 1, "outliers": 1, "rs_above_rh": 1}
    assert len(result.records) == 61
    one = result.records.set_index("record").loc[103]
    assert (one["year_start"], one["year_end"]) == (2005.0, 2006.0)  # SRDB year 2005 is calendar year 2005

    unfiltered = loaders.load_srdb_annual(path, "rh", min_years_of_data=None, manipulation=None, exclude_methods=[],
                                          drop_negative=False, outlier_sd=None, require_rs_above_rh=False)
    assert len(unfiltered.records) == 67
    rs = loaders.load_srdb_annual(path, "rs")
    assert sorted(rs.records["observed"]) == [700.0, 900.0]


# ---------------------------------------------------------------------------------------------
# where sites are on the grid


def _grid(step=10.0):
    lat = np.arange(-90 + step / 2, 90, step)
    lon = np.arange(-180 + step / 2, 180, step)
    return lat, lon


def test_locate_sites_containing_cell_substitute_and_limit():
    lat, lon = _grid()
    valid = xr.DataArray(np.ones((lat.size, lon.size), bool), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
    valid.loc[dict(lat=45.0, lon=5.0)] = False      # the site's own cell is masked
    valid.loc[dict(lat=-85.0)] = False              # Antarctica masked entirely...
    valid.loc[dict(lat=-75.0)] = False
    sites = analysis.locate_sites(valid, np.array([44.0, 12.0, -89.0, 3.0]), np.array([7.0, 179.0, 0.0, 359.0]),
                                  max_distance_km=1000.0)
    first = sites.iloc[0]
    assert first["relocated"] and first["located"]
    assert abs(first["cell_lat"] - 45.0) <= 10 and first["cell_lon"] in (-5.0, 15.0, 5.0)
    assert first["distance_km"] == pytest.approx(
        analysis.great_circle_km(44.0, 7.0, first["cell_lat"], first["cell_lon"]))
    assert (sites.iloc[1]["cell_lat"], sites.iloc[1]["cell_lon"]) == (15.0, 175.0)
    assert not sites.iloc[2]["located"]              # ≥ 2000 km from the nearest valid cell
    assert (sites.iloc[3]["cell_lat"], sites.iloc[3]["cell_lon"]) == (5.0, -5.0)  # 359°E wraps to −1°


# ---------------------------------------------------------------------------------------------
# model linking in the model's calendar


def seasonal_rate_g_m2_yr(model_doy: np.ndarray) -> np.ndarray:
    """Synthetic Rh with a peak on model day 200: 365 g m-2 yr-1 = 1 g m-2 day-1 on average."""
    return 365.0 * (1.0 + 0.5 * np.cos(2 * np.pi * (np.asarray(model_doy) - 200) / 365.0))


def daily_model(calendar="noleap", years=(2000, 2004), step=10.0, peak_shift=0.0, factor=1.0) -> xr.Dataset:
    """A canonical dataset with a daily time axis (00:00 stamps) in ``calendar``."""
    lat, lon = _grid(step)
    times = []
    t = cftime.datetime(years[0], 1, 1, calendar=calendar)
    end = cftime.datetime(years[1] + 1, 1, 1, calendar=calendar)
    one_day = cftime.datetime(2000, 1, 2, calendar=calendar) - cftime.datetime(2000, 1, 1, calendar=calendar)
    while t < end:
        times.append(t)
        t = t + one_day
    doy = np.array([d.dayofyr for d in times])
    series = factor * seasonal_rate_g_m2_yr(doy - peak_shift).astype(np.float32)
    rh = np.broadcast_to(series[:, None, None], (len(times), lat.size, lon.size)).copy()
    rh[:, lat < -60, :] = np.nan  # a masked region
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rh, {"units": "g m-2 yr-1"}),
         "cell_area": (("lat", "lon"), np.ones((lat.size, lon.size))),
         "land_fraction": (("lat", "lon"), np.where(lat[:, None] < -60, 0.0, 1.0) * np.ones(lon.size))},
        coords={"time": times, "lat": lat, "lon": lon, "step_days": ("time", np.ones(len(times)))},
        attrs={"model": f"daily-{calendar}", "calendar": calendar, "period": f"{years[0]}-{years[1]}"})
    ds["rh"].attrs["calendar"] = calendar
    return ds


def _cells(n: int, ilat: int = 13, ilon: int = 19) -> pd.DataFrame:
    return pd.DataFrame({"ilat": [ilat] * n, "ilon": [ilon] * n, "located": [True] * n})


def test_daily_link_noleap_in_record_and_leap_days():
    ds = daily_model("noleap")
    year = np.array([2001, 2004, 2004, 2004])
    doy = np.array([200, 60, 61, 366])  # 2004: 60 = 29 Feb, 61 = 1 Mar, 366 = 31 Dec
    values, link, sub_annual = analysis.link_daily(ds["rh"], _cells(4), year, doy)
    assert sub_annual and set(link) == {analysis.LINK_IN_RECORD}
    expected_model_doy = np.array([200, 59, 60, 365])  # 29 Feb → 28 Feb; later dates keep month and day
    np.testing.assert_allclose(values, seasonal_rate_g_m2_yr(expected_model_doy) / 365.0, rtol=1e-6)


def test_daily_link_window_and_climatology_outside_record():
    ds = daily_model("noleap")
    values, link, _ = analysis.link_daily(ds["rh"], _cells(2), np.array([2002, 2015]), np.array([100, 100]),
                                          window_days=2)
    assert list(link) == [analysis.LINK_IN_RECORD, analysis.LINK_CLIMATOLOGY]
    assert values[0] == pytest.approx(seasonal_rate_g_m2_yr(np.arange(98, 103)).mean() / 365, rel=1e-6)
    # outside: ±3 days around 10 April, averaged over 2000–2004 (identical years here)
    assert values[1] == pytest.approx(seasonal_rate_g_m2_yr(np.arange(97, 104)).mean() / 365, rel=1e-6)


def test_daily_link_360_day_keeps_the_season():
    ds = daily_model("360_day", years=(2000, 2001))
    month, day = analysis.model_calendar_date(np.array([2001, 2001, 2001]), np.array([365, 1, 184]), "360_day")
    assert (month.tolist(), day.tolist()) == ([12, 1, 7], [30, 1, 1])
    values, link, _ = analysis.link_daily(ds["rh"], _cells(1), np.array([2001]), np.array([365]))
    assert values[0] == pytest.approx(seasonal_rate_g_m2_yr(360) / 365, rel=1e-6)


def test_monthly_and_annual_models():
    lat, lon = _grid()
    months = [cftime.datetime(2000 + m // 12, m % 12 + 1, 15, calendar="standard") for m in range(24)]
    step = np.array([pycalendar.monthrange(t.year, t.month)[1] for t in months], float)
    rh = np.broadcast_to(np.arange(24, dtype=float)[:, None, None] * 365, (24, lat.size, lon.size))
    da = xr.DataArray(rh, coords={"time": months, "lat": lat, "lon": lon, "step_days": ("time", step)},
                      dims=("time", "lat", "lon"), attrs={"calendar": "standard"})
    values, link, sub_annual = analysis.link_daily(da, _cells(2), np.array([2001, 2003]), np.array([45, 45]))
    assert sub_annual and values[0] == pytest.approx(13.0)        # February 2001 = step 13
    assert values[1] == pytest.approx(1 + 12 * 0.5)                 # mid-Feb climatology: (1 + 13) / 2

    years = [cftime.datetime(y, 7, 2, calendar="noleap") for y in range(2000, 2004)]
    annual = xr.DataArray(np.broadcast_to(np.array([1.0, 2, 3, 4])[:, None, None] * 365, (4, lat.size, lon.size)),
                          coords={"time": years, "lat": lat, "lon": lon, "step_days": ("time", np.full(4, 365.0))},
                          dims=("time", "lat", "lon"), attrs={"calendar": "noleap"})
    values, link, sub_annual = analysis.link_daily(annual, _cells(2), np.array([2002, 2010]), np.array([10, 10]))
    assert not sub_annual
    np.testing.assert_allclose(values, [3.0, 2.5])

    climatology = annual.isel(time=0, drop=True)
    values, link, sub_annual = analysis.link_daily(climatology, _cells(1), np.array([2002]), np.array([10]))
    assert not sub_annual and link[0] == analysis.LINK_ANNUAL and values[0] == pytest.approx(1.0)


def test_annual_model_value_over_study_years():
    lat, lon = _grid()
    months = [cftime.datetime(2000 + m // 12, m % 12 + 1, 16, calendar="noleap") for m in range(60)]
    step = np.array([[31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][t.month - 1] for t in months], float)
    yearly = 100.0 * (np.array([t.year for t in months]) - 1999)  # 100, 200, ... 500
    da = xr.DataArray(np.broadcast_to(yearly[:, None, None], (60, lat.size, lon.size)),
                      coords={"time": months, "lat": lat, "lon": lon, "step_days": ("time", step)},
                      dims=("time", "lat", "lon"), attrs={"calendar": "noleap"})
    cells = _cells(3)
    start = np.array([2001.0, 2001.25, 2010.0])
    end = np.array([2003.0, 2002.75, 2011.0])
    values, link = analysis.annual_at_sites(da, cells, start, end)
    np.testing.assert_allclose(values, [250.0, 250.0, 300.0])
    assert list(link) == ["study years", "study years", "record mean"]


# ---------------------------------------------------------------------------------------------
# classes and statistics


def test_over_under_well_counts_exactly_as_designed():
    rows = []
    obs = np.linspace(1.0, 2.0, 10)
    designs = {"over": obs + 0.5, "under": obs - 0.3, "well": obs + np.array([1, -1] * 5) * np.linspace(0.1, 0.5, 10)}
    study = 0
    for label, count in (("over", 3), ("under", 2), ("well", 4)):
        for _ in range(count):
            study += 1
            for o, m in zip(obs, designs[label]):
                rows.append({"study": study, "site": "s", "lat": 40.0, "lon": 5.0, "observed": o, "modelled": m,
                             "expected": label})
    for o in obs[:5]:  # five observations: not tested
        rows.append({"study": 99, "site": "s", "lat": 0.0, "lon": 0.0, "observed": o, "modelled": o + 9,
                     "expected": None})
    frame = pd.DataFrame(rows)
    tests = analysis.study_tests(frame)
    assert len(tests) == 9 and 99 not in tests["study"].tolist()
    assert tests["class"].value_counts().to_dict() == {"well": 4, "over": 3, "under": 2}
    expected = frame.drop_duplicates("study").set_index("study")["expected"]
    assert (tests.set_index("study")["class"] == expected.loc[tests["study"]]).all()
    shares = analysis.class_shares(tests)
    assert shares == pytest.approx({"over": 3 / 9, "under": 2 / 9, "well": 4 / 9})
    assert tests.loc[tests["class"] == "over", "mean_error"].tolist() == pytest.approx([0.5] * 3)


def test_classify_edges():
    assert analysis.classify(0.05, 1.0) == "over"       # p ≤ 0.05 counts as significant
    assert analysis.classify(0.0500001, 1.0) == "well"
    assert analysis.classify(0.01, -1.0) == "under"
    assert analysis.classify(np.nan, 1.0) == "well"


def test_site_statistics_and_regression():
    observed = np.array([100.0, 200.0, 300.0, 400.0])
    modelled = observed * 1.5
    stats = analysis.site_statistics(observed, modelled)
    assert stats["n"] == 4 and stats["bias"] == pytest.approx(125.0)
    assert stats["RMSE"] == pytest.approx(np.sqrt(np.mean((0.5 * observed) ** 2)))
    assert stats["correlation"] == pytest.approx(1.0)
    assert stats["ILAMB bias score"] == pytest.approx(np.exp(-0.5))  # |m − o| / o = 0.5 at every site
    fit = analysis.pooled_regression(observed, modelled)
    assert fit["slope"] == pytest.approx(1.5) and fit["R2"] == pytest.approx(1.0)


def test_site_scores_compare_what_a_cell_can_hold():
    """Records in one cell differ: a model holding each cell's mean must score 1, not ILAMB's 0.76;
    a field without the flux or without site-to-site variation must score near 0, not e⁻¹."""
    ilat = np.array([0, 0, 0, 1, 1, 2, 3, 3])
    observed = np.array([200.0, 400.0, 300.0, 800.0, 1000.0, 150.0, 500.0, 700.0])
    frame = pd.DataFrame({"ilat": ilat, "ilon": 0, "observed": observed})
    cell_mean = frame.groupby("ilat")["observed"].transform("mean").to_numpy()
    cells = analysis.cell_means(frame.assign(modelled=cell_mean))
    assert cells["n"].tolist() == [3, 2, 1, 2]
    assert cells["observed"].tolist() == pytest.approx([300.0, 900.0, 150.0, 600.0])
    assert cells["observed_sd"].iloc[2] == 0.0
    exact = analysis.cell_scores(cells["observed"], cells["modelled"])
    assert exact["bias score"] == pytest.approx(1.0) and exact["spatial distribution score"] == pytest.approx(1.0)
    per_record = analysis.site_statistics(observed, cell_mean)
    assert per_record["ILAMB bias score"] < 0.9  # the old per-record score: the records differ within a cell
    zero = analysis.cell_scores(cells["observed"], np.zeros(4))
    assert zero["bias score"] == 0.0 and zero["spatial distribution score"] == 0.0
    assert analysis.site_statistics(observed, np.zeros(observed.size))["ILAMB bias score"] == pytest.approx(np.exp(-1))
    flat = analysis.cell_scores(cells["observed"], np.full(4, cells["observed"].mean()))
    assert flat["spatial distribution score"] == 0.0 and np.isnan(flat["cell correlation"])
    assert analysis.site_statistics(observed, np.full(observed.size, 400.0))["ILAMB RMSE score"] == pytest.approx(np.exp(-1))
    ladder = [analysis.cell_scores(cells["observed"], f * cells["observed"]) for f in (1.1, 1.3, 2.0)]
    for key in ("bias score", "spatial distribution score"):
        values = [s[key] for s in ladder]
        assert values == sorted(values, reverse=True) and len(set(values)) == 3
    assert ladder[2]["bias score"] == pytest.approx(0.5)
    # records the model cannot reach count as 0: scored on a quarter of the records, at most 0.25
    covered = analysis.cell_scores(cells["observed"], cells["observed"], share_compared=0.25)
    assert covered["bias score"] == pytest.approx(0.25) and covered["spatial distribution score"] == pytest.approx(0.25)
    # a pattern needs three cells
    assert np.isnan(analysis.cell_scores(np.array([1.0, 2.0]), np.array([1.0, 2.0]))["spatial distribution score"])


def test_bootstrap_is_reproducible():
    rng = np.random.default_rng(3)
    obs, mod = rng.gamma(2, 1, 50), rng.gamma(2, 1, 50)
    a = analysis.bootstrap_means(obs, mod, 300, seed=11)
    b = analysis.bootstrap_means(obs, mod, 300, seed=11)
    c = analysis.bootstrap_means(obs, mod, 300, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["observed"], c["observed"])
    assert abs(a["observed"].mean() - obs.mean()) < 3 * obs.std() / np.sqrt(50)


def test_seasonal_cycle_peak_shift_score():
    doy = np.tile(np.arange(5, 365, 10), 3)
    observed = 1 + 0.5 * np.cos(2 * np.pi * (doy - 200) / 365.25)
    modelled = 1 + 0.5 * np.cos(2 * np.pi * (doy - 230) / 365.25)
    month = ((doy - 1) // 31 + 1).clip(1, 12)
    frame = pd.DataFrame({"group": "koppen_D", "doy": doy, "month": month, "observed": observed, "modelled": modelled})
    cycle, group_stats = analysis.seasonal_cycles(frame)
    row = group_stats.iloc[0]
    assert row["peak_shift_days"] == pytest.approx(30.0, abs=0.01)
    assert row["cycle_score"] == pytest.approx((1 + np.cos(2 * np.pi * 30 / 365)) / 2, abs=1e-3)
    assert len(cycle) == 36 and (cycle["n"] == 3).all()
    assert (cycle["observed_lower"] <= cycle["observed"]).all()


def test_seasonal_cycle_score_needs_the_amplitude_a_flat_model_scores_low():
    """Timing alone gave a flat, near-zero model 0.98: its tiny wiggle peaked at the right time."""
    doy = np.tile(np.arange(5, 365, 10), 3)
    month = ((doy - 1) // 31 + 1).clip(1, 12)
    observed = 1 + 0.5 * np.cos(2 * np.pi * (doy - 200) / 365.25)
    flat = 1e-3 * (1 + 0.01 * np.cos(2 * np.pi * (doy - 205) / 365.25))
    half = 1 + 0.25 * np.cos(2 * np.pi * (doy - 200) / 365.25)
    rows = []
    for name, modelled in (("flat", flat), ("half", half), ("same", observed)):
        frame = pd.DataFrame({"group": name, "doy": doy, "month": month, "observed": observed, "modelled": modelled})
        rows.append(analysis.seasonal_cycles(frame)[1].iloc[0])
    stats = pd.DataFrame(rows).set_index("group")
    assert stats.loc["flat", "timing_score"] > 0.95  # the timing is right...
    assert stats.loc["flat", "cycle_score"] < 0.05  # ...but there is no cycle to speak of
    assert stats.loc["half", "amplitude_score"] == pytest.approx(0.5, abs=1e-6)
    assert stats.loc["half", "cycle_score"] == pytest.approx(0.5, abs=1e-3)
    assert stats.loc["same", "cycle_score"] == pytest.approx(1.0)
    assert stats.loc["flat", "observed_amplitude"] == pytest.approx(0.5, abs=1e-6)
    # an exactly constant model has no peak at all: still scored (0), not dropped as NaN
    frame = pd.DataFrame({"group": "constant", "doy": doy, "month": month, "observed": observed, "modelled": 1.0})
    assert analysis.seasonal_cycles(frame)[1].iloc[0]["cycle_score"] == pytest.approx(0.0, abs=1e-9)


def test_study_rmse_score_skips_studies_where_the_model_is_constant():
    """A model constant over a study's dates has centred RMSE = the observations' SD: e⁻¹ for any model."""
    rng = np.random.default_rng(3)
    observed = rng.normal(2.0, 0.5, 40)
    frame = pd.DataFrame({"study": np.repeat([1, 2], 20), "site": "s", "observed": observed,
                          "modelled": np.r_[np.full(20, 1.7), observed[20:] * 1.1]})
    out = analysis.study_scores(frame)
    assert out["n units without model variation"] == 1 and out["n units with RMSE score"] == 1
    crmse = np.std(observed[20:] * 1.1 - observed[20:])
    assert out["RMSE score"] == pytest.approx(np.exp(-crmse / np.std(observed[20:])))
    constant = analysis.study_scores(frame.assign(modelled=1.7))
    assert np.isnan(constant["RMSE score"]) and np.isfinite(constant["bias score"])


# ---------------------------------------------------------------------------------------------
# the confrontations end to end on synthetic files


@pytest.fixture
def site_files(tmp_path, monkeypatch):
    rows = []
    # study 1 (temperate, 45°N): the model's own cycle ± symmetric noise → well estimated
    for year in (2001, 2003):
        for k, doy in enumerate(range(15, 365, 30)):
            noise = (-1) ** k * 0.02 * (k % 3 + 1)
            rows.append(mgrhd_row(1, year, doy, round(float(seasonal_rate_g_m2_yr(doy)[()] / 365) + noise, 6)))
    # study 2 (boreal, 62.5°N): observed half the model → over-estimated
    for doy in range(20, 360, 25):
        rows.append(mgrhd_row(2, 2002, doy, round(float(seasonal_rate_g_m2_yr(doy)[()] / 730), 6), lat=62.0, lon=25.0))
    # study 3: observed double the model, out of the record (2012) → under-estimated via climatology
    for doy in range(20, 360, 40):
        rows.append(mgrhd_row(3, 2012, doy, round(float(seasonal_rate_g_m2_yr(doy)[()] / 182.5), 6), lat=41.0, lon=-3.0))
    rows.append(mgrhd_row(4, 2002, 100, 1.0, lat=-45.0, lon=170.0))  # a lone observation, not tested
    mgrhd = write_csv(rows, tmp_path / "mgrhd.csv", MGRHD_COLUMNS)
    places = [(45.1, 10.1), (62.0, 25.0), (41.0, -3.0), (20.0, 80.0), (-30.0, -60.0)]  # Cfb, Dfc, BSk, none, none
    srdb_rows = [srdb_row(i, 365.0 * f, lat=la, lon=lo, midyear=2002) for i, (f, (la, lo)) in
                 enumerate(zip([0.5, 1.0, 2.0, 1.0, 1.0], places), start=1)]
    srdb = write_csv(srdb_rows, tmp_path / "srdb.csv", SRDB_COLUMNS)
    koppen_rows = [{"Latitude": la, "Longitude": lo, "ClimateTypes": c} for la, lo, c in
                   [(45.25, 10.25, "Cfb"), (61.75, 25.25, "Dfc"), (41.25, -2.75, "BSk"), (-45.25, 170.25, "Cfb")]]
    koppen = write_csv(koppen_rows, tmp_path / "koppen.csv", ["Latitude", "Longitude", "ClimateTypes"])
    files = {"mgrhd": mgrhd, "srdb-v5-data": srdb, "koppen": koppen}
    monkeypatch.setattr("soilbench.confrontations.sites._fetch", lambda dataset_id, data_dir: files[dataset_id])
    return files


def test_daily_confrontation_end_to_end(site_files, tmp_path):
    conf = confrontation_class("daily_rh")("rh-daily", ["mgrhd"], {"bootstrap_samples": 200, "min_cycle_months": 3})
    result = conf.confront(daily_model("noleap"))
    scalars = result.scalars
    assert list(scalars.columns) == SCALAR_COLUMNS
    value = scalars[(scalars["region"] == "global") & (scalars["analysis"] != "scores")].set_index("name")["value"]
    assert value.index.is_unique
    assert value["n studies tested"] == 3
    assert (value["n over-estimated"], value["n under-estimated"], value["n well estimated"]) == (1, 1, 1)
    assert value["n observations on climatology"] == 9
    assert value["share well estimated"] == pytest.approx(1 / 3)
    assert 0 <= value["overall score"] <= 1
    classes = result.tables["studies"].set_index("study")["class"].to_dict()
    assert classes == {1: "well", 2: "over", 3: "under"}
    cycle = result.tables["seasonal_cycle"]
    assert set(cycle["group"]) == {"Temperate (Cf, Cw)", "Boreal (Df, Ds, Dw)", "Arid (B)"}
    temperate = scalars[(scalars["region"] == "koppen_Cfw") & (scalars["name"] == "seasonal R2")]["value"]
    assert float(temperate.iloc[0]) > 0.95
    saved = result.save(tmp_path / "out", {"model": "daily-noleap", "confrontation": conf.name, "kind": conf.kind})
    meta, loaded = load_result(saved)
    assert meta["tables"]["study_classes"]["plot"] == "site_map"
    assert meta["tables"]["seasonal_cycle"]["plot"] == "seasonal_cycle"
    assert {"lat", "lon", "category"} <= set(loaded.tables["study_classes"].columns)
    assert {"group", "doy", "observed", "observed_lower", "observed_upper", "modelled", "R2", "RMSE"} <= set(
        loaded.tables["seasonal_cycle"].columns)
    # each group's fit beside its curves: the same R² as its scalar
    fit = loaded.tables["seasonal_cycle"].groupby("group")["R2"].first()
    assert fit["Temperate (Cf, Cw)"] == pytest.approx(float(temperate.iloc[0]))
    # 200 bootstrap means per series: a histogram (one column per series), never a page-long table
    assert meta["tables"]["bootstrap_samples"]["plot"] == "histogram"
    assert meta["tables"]["bootstrap_samples"]["columns"] == ["observed", "modelled"]
    assert len(loaded.tables["bootstrap_samples"]) == 200
    assert loaded.tables["filter_counts"]["step"].iloc[0] == "read"


def test_daily_confrontation_with_a_period_mean_model(site_files):
    model = daily_model("noleap").mean("time").drop_vars("step_days", errors="ignore")
    model.attrs.update(climatology=1)
    conf = confrontation_class("daily_rh")("rh-daily", ["mgrhd"], {"bootstrap_samples": 50})
    result = conf.confront(model)
    assert "seasonal_cycle" not in result.tables
    assert any("seasonal cycle not applicable" in note for note in result.notes)
    value = result.scalars[result.scalars["analysis"].isin(["scores", "overall"])].set_index("name")["value"]
    assert np.isnan(value["seasonal cycle score"]) and np.isfinite(value["overall score"])
    # no time variation: the RMSE score would be e^-1 in every study, a third of the overall for nothing
    assert np.isnan(value["RMSE score"])
    # the level and pattern per cell apply; the Wilcoxon share is a classification, not a component
    assert value["overall score"] == pytest.approx((value["bias score"] + value["spatial distribution score"]) / 2)
    completeness = result.scalars[result.scalars["analysis"] == "completeness"].set_index("name")["value"]
    assert completeness["components not applicable"] == 2 and completeness["missing components"] == 0
    assert any("RMSE score not applicable" in note for note in result.notes)
    (incomplete,) = [f for f in result.flags if f.code == "overall_incomplete"]
    assert "RMSE score" in incomplete.message and "seasonal cycle score" in incomplete.message
    period = result.comparison["period"]
    assert period["model"] == [2000, 2004] and period["compared"] == [2000, 2004]
    assert period["references"] == {"mgrhd": [2001, 2012]} and "no sub-annual time axis" in period["fallback"]
    assert result.comparison["quantity"] == "rh" and result.comparison["units"] == "g m-2 day-1"


def test_overall_leaves_out_what_does_not_apply_and_counts_missing_as_zero():
    from soilbench.confrontations.sites import SUB_ANNUAL_COMPONENTS, _overall_score

    parts = {"share well estimated": 0.6, "bias score": 0.8, "RMSE score": np.nan, "seasonal cycle score": np.nan}
    assert _overall_score(parts, SUB_ANNUAL_COMPONENTS) == (pytest.approx(0.7), [])
    # a sub-annual model is expected to have every component: a missing one cannot raise its overall
    overall, missing = _overall_score({**parts, "RMSE score": 0.5})
    assert overall == pytest.approx((0.6 + 0.8 + 0.5 + 0.0) / 4) and missing == ["seasonal cycle score"]


def test_srdb_overall_counts_a_missing_component_as_zero(site_files):
    """One site with a model value: no spatial score (needs three cells); the overall must not be the
    bias score alone."""
    model = daily_model("noleap")
    conf = confrontation_class("srdb_annual")("rh-srdb", ["srdb-v5-data"], {"climate_map": None})
    conf.stage_data()
    conf.site_records.records = conf.site_records.records.iloc[:1]
    conf.site_groups = conf.site_groups[:1]
    result = conf.confront(model)
    value = result.scalars[result.scalars["region"] == "global"].set_index(["analysis", "name"])["value"]
    assert np.isnan(value[("site statistics", "spatial distribution score")])
    assert value[("overall", "overall score")] == pytest.approx(value[("site statistics", "bias score")] / 2)
    assert value[("completeness", "missing components")] == 1
    assert [f.code for f in result.flags if f.code == "overall_incomplete"] == ["overall_incomplete"]


def test_annual_confrontation_end_to_end(site_files):
    model = daily_model("noleap")
    conf = confrontation_class("srdb_annual")("rh-srdb", ["srdb-v5-data"], {})
    result = conf.confront(model)
    value = result.scalars.set_index(["region", "name"])["value"]
    assert value[("global", "n sites")] == 5
    # model annual mean is 365 at every site; observed 182.5, 365, 730, 365, 365
    assert value[("global", "bias")] == pytest.approx(365 - np.mean([182.5, 365, 730, 365, 365]), rel=1e-5)
    assert value[("koppen_Cfw", "n sites")] == value[("koppen_D", "n sites")] == value[("koppen_B", "n sites")] == 1
    assert value[("koppen_A", "n sites")] == 0
    assert result.table_meta["sites"]["plot"] == "site_map"
    assert set(result.tables["sites"]["model_value"]) == {"study years"}
    with pytest.raises(SoilbenchError, match="provides no rs"):
        confrontation_class("srdb_annual")("rs-srdb", ["srdb-v5-data"], {"quantity": "rs"}).confront(model)


def test_annual_rs_of_an_rh_only_model_through_the_root_contribution(site_files, tmp_path, monkeypatch):
    from soilbench.runner.core import data_ids

    # Rs records at three sites; the model has only Rh (annual mean 365 g m-2 yr-1 everywhere)
    rows = [srdb_row(i, "NA", rs=rs, lat=la, lon=lo, midyear=2002) for i, (rs, (la, lo)) in
            enumerate(zip([500.0, 800.0, 1000.0, 400.0], [(45.1, 10.1), (62.0, 25.0), (41.0, -3.0), (-30.0, -60.0)]),
                      start=1)]
    files = {**site_files, "srdb-v5-data": write_csv(rows, tmp_path / "srdb-rs.csv", SRDB_COLUMNS)}
    monkeypatch.setattr("soilbench.confrontations.sites._fetch", lambda dataset_id, data_dir: files[dataset_id])
    lat, lon = _grid(5.0)  # RC 0.5 north of the equator, 0.2 south of it, on a finer grid than the model
    rc = np.where(lat[:, None] > 0, 0.5, 0.2) * np.ones(lon.size)
    rc_map = xr.Dataset({"rc": (("lat", "lon"), rc), "cell_area": (("lat", "lon"), np.ones(rc.shape)),
                         "land_fraction": (("lat", "lon"), np.ones(rc.shape))}, coords={"lat": lat, "lon": lon})
    monkeypatch.setattr("soilbench.load.load_reference", lambda ident, data_dir=None: rc_map)
    model = daily_model("noleap")
    conf = confrontation_class("srdb_annual")("rs-srdb", ["srdb-v5-data"],
                                              {"quantity": "rs", "rs_from_rh": "root_contribution"})
    assert conf.auxiliary_data == ["root-contribution"] and "root-contribution" in data_ids(conf)
    result = conf.confront(model)
    sites = result.tables["sites"].set_index("record")
    # Rs = Rh / (1 − RC): 365 / 0.5 at the northern sites, 365 / 0.8 at the southern one, from the
    # model's daily series (the time axis is kept: the records' own years are used)
    np.testing.assert_allclose(sites.loc[[1, 2, 3, 4], "modelled"], [730.0, 730.0, 730.0, 456.25], rtol=1e-5)
    assert set(sites["model_value"]) == {"study years"}
    value = result.scalars.set_index(["region", "name"])["value"]
    assert value[("global", "n sites")] == 4
    assert value[("global", "bias")] == pytest.approx((3 * 730.0 + 456.25 - 2700.0) / 4, rel=1e-5)
    assert any("Rs = Rh / (1 − RC)" in note for note in result.notes)
    # without the option the same model has no rs to compare
    with pytest.raises(SoilbenchError, match="provides no rs"):
        confrontation_class("srdb_annual")("rs-srdb", ["srdb-v5-data"], {"quantity": "rs"}).confront(model)
    with pytest.raises(ConfigError, match="rs_from_rh"):
        confrontation_class("srdb_annual")("x", ["srdb-v5-data"], {"quantity": "rs", "rs_from_rh": "yes"})


def test_options_are_validated():
    with pytest.raises(ConfigError, match="quantity"):
        confrontation_class("srdb_annual")("x", ["srdb-v5-data"], {"quantity": "npp"})
    with pytest.raises(ConfigError, match="unknown option"):
        confrontation_class("daily_rh")("x", ["mgrhd"], {"window": 3})
    with pytest.raises(ConfigError, match="test_method"):
        confrontation_class("daily_rh")("x", ["mgrhd"], {"test_method": "t-test"})
    assert confrontation_class("srdb_annual")("x", ["srdb-v5-data"], {"quantity": "rs"}).group == "SR"


def test_srdb_site_scores_count_records_out_of_reach_as_zero(site_files):
    """A model without land north of 30° N reaches 2 of the 5 SRDB records: it must not be scored
    as if those two were all the sites (its scores used to be those of the two alone)."""
    model = daily_model("noleap")
    north = model["lat"] > 30
    model["rh"] = model["rh"].where(~north)
    model["land_fraction"] = model["land_fraction"].where(~north, 0.0)
    conf = confrontation_class("srdb_annual")("rh-srdb", ["srdb-v5-data"], {"climate_map": None})
    result = conf.confront(model)
    value = result.scalars[result.scalars["region"] == "global"].set_index(["analysis", "name"])["value"]
    assert value[("site statistics", "share of records compared")] == pytest.approx(2 / 5)
    sites = result.tables["sites"]
    compared = sites[np.isfinite(sites["modelled"])]
    assert len(compared) == 2
    alone = np.mean(np.minimum(compared["modelled"], compared["observed"])
                    / np.maximum(compared["modelled"], compared["observed"]))
    assert value[("site statistics", "bias score")] == pytest.approx(2 / 5 * alone)
