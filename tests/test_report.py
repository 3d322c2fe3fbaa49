"""The HTML scorecard built from saved results (no browser; see test_browser_report.py)."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
from pathlib import Path

import markupsafe
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import results_fixture as rf
from soilbench.cli import main
from soilbench.report import build_report, compare_runs, plots
from soilbench.report.collect import load_run
from soilbench.report.compare import score_changes
from soilbench.report.scoreboard import weighted_overall, z_class, z_scores
from soilbench.report.site import CSP
from soilbench.results import model_slug


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(workspace, results dir, index.html) of one report built from the fixture run."""
    work = tmp_path_factory.mktemp("report")
    results = rf.make_results(work / "run")
    index = build_report(results, work / "site", progress=False)
    return work, results, index


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_site_has_every_page(built):
    work, _, index = built
    site = work / "site"
    assert index == site / "index.html"
    names = {p.relative_to(site).as_posix() for p in _pages(site)}
    assert {"index.html", "data.html"} <= names
    for conf in rf.CONFRONTATIONS:
        assert f"c/{conf}/index.html" in names
        assert (site / "c" / conf / "scalars.csv").is_file()
    assert not list(site.rglob("*.part")), "atomic writes leave no temporary files"


def test_hostile_names_are_escaped_and_write_nothing_outside(built):
    work, _, _ = built
    assert sorted(p.name for p in work.iterdir()) == ["run", "site"]
    for page in _pages(work / "site"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in html, page
        assert "<i>test</i>" not in html and "Study 0 <b>" not in html, page
    index = (work / "site" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "../../x" in index
    for path in (work / "site").rglob("*"):
        assert path.resolve().is_relative_to((work / "site").resolve())
        assert "<" not in path.name and ".." not in path.name


def test_pages_are_self_contained_with_csp(built):
    work, _, _ = built
    for page in _pages(work / "site"):
        html = page.read_text(encoding="utf-8")
        assert f'content="{markupsafe.escape(CSP)}"' in html
        assert not re.search(r'(src|href)="(https?:)?//', html), page
        assert "<style" not in html and " style=" not in html and "<script>" not in html.replace(
            "&lt;script&gt;", ""), "inline code or style would be blocked by the CSP"
        for target in re.findall(r'(?:src|href)="([^"#]+)', html):
            assert (page.parent / target).resolve().is_file(), f"{page}: broken link {target}"


def test_scoreboard_numbers_come_from_saved_overall_rows(built):
    work, results, _ = built
    scalars = pd.read_csv(results / "scalars.csv")
    overall = scalars[scalars["analysis"] == "overall"].set_index(["model", "confrontation"])["value"]
    board = pd.read_csv(work / "site" / "scoreboard.csv", keep_default_na=False, na_values=[""])
    for row in board.itertuples():
        if row.status == "ok":
            assert row.overall_score == pytest.approx(overall[(row.model, row.confrontation)])
    failed = board[board["status"] == "error"]
    assert list(zip(failed["confrontation"], failed["model"])) == [rf.FAILED[:2]]
    # CLM5's overall on the page: weighted mean with rh-global-totals counting twice
    clm = overall.xs("CLM5", level="model")
    weights = {c: s["weight"] for c, s in rf.CONFRONTATIONS.items()}
    expected = sum(clm[c] * weights[c] for c in clm.index) / sum(weights[c] for c in clm.index)
    index = (work / "site" / "index.html").read_text(encoding="utf-8")
    assert f'data-v="{expected}"' in index or f"{expected:.2f}" in index
    assert rf.FAILED[2].replace("'", "&#39;") in index
    assert "Synthetic run." in index


def test_periods_and_plausibility_flags_are_shown_from_meta_json(built):
    """Each model's period is on every page that scores it and a flag warns on its scoreboard cell
    and its page; both come from meta.json (``period``, ``flags``), never from the notes."""
    work, results, _ = built
    conf, model, flag = rf.FLAGGED
    index = (work / "site" / "index.html").read_text(encoding="utf-8")
    escaped = str(markupsafe.escape(flag.message))
    cells = re.findall(r'<td class="num score [^"]*flagged"[^>]*><a href="([^"]+)" title="([^"]*)"', index)
    assert [(href.split("#")[0], title) for href, title in cells] == [(f"c/{conf}/index.html", escaped)]
    assert model_slug(model) in cells[0][0] and "<b>" not in cells[0][1]
    page = (work / "site" / "c" / conf / "index.html").read_text(encoding="utf-8")
    assert page.count("Check before trusting this score") == 1 and f"{flag.code}</code> {escaped}" in page
    for name in rf.CONFRONTATIONS:
        page = (work / "site" / "c" / name / "index.html").read_text(encoding="utf-8")
        ok = [m for m in rf.MODELS if (name, m) != rf.FAILED[:2]]
        assert page.count("<dt>model period</dt>") == len(ok), name
        assert "<dd>1995–2014</dd>" in page and "<dd>2001–2010</dd>" in page
        assert "<dd>1981–1990</dd>" in page and "shares no year with 2001-2010" in page  # CLM5's fallback
        assert page.count("(fallback)</span>") == 1  # in the score table, beside CLM5's compared period
    daily = (work / "site" / "c" / "rh-daily-sites" / "index.html").read_text(encoding="utf-8")
    scores_table = daily.split('id="scores"', 1)[1].split("</table>", 1)[0]
    assert ">RMSE score</th>" in scores_table  # a component without a value keeps its column
    meta = json.loads((results / conf / model_slug(model) / "meta.json").read_text())
    assert meta["flags"] == [flag.as_dict()] and meta["period"] == rf.PERIOD and meta["quantity"] == "rh"


def test_confrontation_pages_draw_every_plot_convention(built):
    work, _, _ = built
    site = work / "site" / "c"
    gridded = {p.name for p in (site / "rh-global-totals").glob("*.png")}
    assert {"table_taylor.png", "table_totals.png"} <= gridded
    assert any(n.startswith("zonal_") for n in gridded) and any(n.startswith("series_") for n in gridded)
    assert any(n.endswith("_rh_difference.png") for n in gridded)
    turnover = {p.name for p in (site / "tau-turnover").glob("*.png")}
    assert any(n.endswith("_tau_attribution.png") for n in turnover)
    assert "table_twobox.png" in turnover
    daily = {p.name for p in (site / "rh-daily-sites").glob("*.png")}
    assert {"sites", "scatter", "seasonal"} <= {n.rsplit("_", 1)[-1][:-4] for n in daily}
    srdb = (site / "sr-srdb-sites" / "index.html").read_text(encoding="utf-8")
    assert "Study 0 &lt;b&gt;" in srdb and "60 sites with at least 3 years" in srdb
    turnover_page = (site / "tau-turnover" / "index.html").read_text(encoding="utf-8")
    assert "This task failed" in turnover_page and "cSoil" in turnover_page


def test_histogram_tables_are_drawn_with_a_csv_link_never_inline(built):
    """`plot: histogram` (one column per series): one figure per model, the rows as CSV only."""
    work, _, _ = built
    page_dir = work / "site" / "c" / "rh-daily-sites"
    page = (page_dir / "index.html").read_text(encoding="utf-8")
    pngs = sorted(page_dir.glob("*_bootstrap.png"))
    assert len(pngs) == len(rf.MODELS) and all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    for png in pngs:
        csv_name = png.name.replace(".png", ".csv")
        assert (page_dir / csv_name).is_file() and f'href="{csv_name}" download' in page
        assert len(pd.read_csv(page_dir / csv_name)) == 500  # the CSV has every sample
    # no 500-row table on the page: only the 60-row table and the per-model figures
    assert page.count("<tr>") < 100 * len(rf.MODELS)


def test_long_tables_start_collapsed_short_ones_open(built):
    """Plain tables over COLLAPSE_ROWS rows sit in a closed <details> with their row count and CSV."""
    from soilbench.report.confrontation_page import COLLAPSE_ROWS

    work, _, _ = built
    daily = (work / "site" / "c" / "rh-daily-sites" / "index.html").read_text(encoding="utf-8")
    assert COLLAPSE_ROWS < 60
    assert re.search(r'<details class="long-table">\s*<summary><h3>Per site</h3> <span class="hint">60 rows', daily)
    srdb = (work / "site" / "c" / "sr-srdb-sites" / "index.html").read_text(encoding="utf-8")
    assert "<h3>Per study</h3>" in srdb and '<details class="long-table">' not in srdb  # 8 rows: shown open


def test_missing_text_cells_are_empty_not_nan(built):
    work, _, _ = built
    daily = (work / "site" / "c" / "rh-daily-sites" / "index.html").read_text(encoding="utf-8")
    assert "<td>site 0</td><td></td>" in daily and ">nan<" not in daily.lower()


def test_display_units_for_people():
    from soilbench.report.units import display_units, with_units

    assert display_units("Pg yr-1") == "Pg C yr⁻¹"
    assert display_units("g m-2 yr-1") == "g C m⁻² yr⁻¹"
    assert display_units("kg m-2") == "kg C m⁻²"
    assert display_units("g m-2 day-1") == "g C m⁻² d⁻¹"
    assert display_units("g C m-2 yr-1") == "g C m⁻² yr⁻¹"  # carbon already said: not twice
    assert display_units("1") == display_units(None) == display_units(float("nan")) == ""
    assert display_units("yr") == "yr" and display_units("K @ 2m") == "K @ 2m"  # unknown tokens kept
    assert with_units("τ", "yr") == "τ [yr]" and with_units("ratio", "1") == "ratio"


def test_units_are_displayed_but_saved_pint_parsable(built):
    work, results, _ = built
    page = (work / "site" / "c" / "rh-global-totals" / "index.html").read_text(encoding="utf-8")
    assert "<td>Pg C yr⁻¹</td>" in page and "<td>Pg yr-1</td>" not in page
    saved = pd.read_csv(work / "site" / "c" / "rh-global-totals" / "scalars.csv")
    assert "Pg C yr⁻¹" not in set(saved["units"].dropna())


def test_histogram_and_seasonal_figures_draw_from_saved_tables():
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"sample": range(200), "observed": rng.normal(1, 0.1, 200),
                          "modelled": rng.normal(1.2, 0.1, 200)})
    assert plots.histogram_columns(table) == ["observed", "modelled"]
    png = plots.histogram_figure(table, "Bootstrap", {"units": "g m-2 day-1", "x_label": "mean"}, "#d95f02")
    assert png.startswith(b"\x89PNG")
    with pytest.raises(ValueError):
        plots.histogram_figure(table[["sample"]].astype(str), "none", {}, "#000000")
    cycle = pd.DataFrame([{"group": g, "doy": d, "observed": 1.0, "observed_lower": 0.8, "observed_upper": 1.2,
                           "modelled": 1.1, "R2": 0.9, "RMSE": 0.1} for g in "ABCDE" for d in range(1, 366, 30)])
    assert plots._panel_title(cycle[cycle["group"] == "A"], "A", {}) == "A  (R² 0.90, RMSE 0.10)"
    assert plots.seasonal_figure(cycle, "Seasonal", {"units": "g m-2 day-1"}, "#1b6ca8").startswith(b"\x89PNG")


def test_climatology_models_are_period_means_on_the_series_figure():
    """A model without a series is drawn from its bars row over its period, from what was saved."""
    from soilbench.report import figure_choice as fc
    from soilbench.results import ConfrontationResult

    year = xr.DataArray([50.0, 52.0, 51.0], dims="year", coords={"year": [2000, 2001, 2002]},
                        attrs={"plot": "series", "role": "reference", "units": "Pg yr-1", "long_name": "product"})
    bars = pd.DataFrame({"label": ["M", "product (2000-2002)"], "role": ["model", "reference"],
                         "value": [55.0, 51.0], "units": "Pg yr-1"})
    result = ConfrontationResult(pd.DataFrame({"model": ["M"]}), xr.Dataset({"total_product": year}),
                                 {"totals": bars}, {"totals": {"plot": "bars", "units": "Pg yr-1"}})
    period = {"model": [2000, 2002], "references": {"product": [2000, 2002]}, "requested": None,
              "compared": [2000, 2002], "fallback": None}
    item = fc.ModelResult("M", "#ff0000", result, {"options": {"quantity": "rh"}, "period": period})
    (series,) = [c for c in fc.profile_choices([item]) if c.kind == "series"]
    assert series.title == "Global Rh, annual totals"
    (mean,) = fc.period_means([item], "Pg yr-1")
    assert mean["value"] == 55.0 and mean["period"] == (2000, 2002) and mean["color"] == "#ff0000"
    saved = {"period": {**period, "model": [1990, 1999], "compared": [1990, 1999]}}
    assert fc.model_period(fc.ModelResult("M", None, result, saved)) == (1990, 1999)
    # the period is read from meta.json only: never parsed out of notes or reference labels
    noted = ConfrontationResult(result.scalars, result.fields, result.tables, result.table_meta,
                                ["a 1990-1999 climatology; product (2000-2002) does not overlap"])
    assert fc.model_period(fc.ModelResult("M", None, noted, {}), bars) is None
    assert series.draw().startswith(b"\x89PNG")


def test_zonal_profiles_over_lat_band_with_each_models_own_reference(tmp_path, monkeypatch):
    """Zonal curves are drawn over `lat_band`; a reference curve that differs per model (taken on
    the cells valid in both) is drawn for every model in its colour, one that does not only once."""
    results = rf.make_results(tmp_path / "run")
    drawn = {}
    real = plots.profile_figure

    def spy(curves, x_dim, title):
        drawn[title] = (list(curves), x_dim)
        return real(curves, x_dim, title)

    monkeypatch.setattr(plots, "profile_figure", spy)
    build_report(results, tmp_path / "site", progress=False)
    ok_models = rf.MODELS  # every model's rh-global-totals task succeeded
    zonal = {title: value for title, value in drawn.items() if title.startswith("Zonal")}
    assert zonal and all(x_dim == "lat_band" for _, x_dim in zonal.values())
    by_units = {title.rsplit("[", 1)[-1]: value for title, value in zonal.items()}  # titles end in display units
    rh_curves, _ = by_units["g C m⁻² yr⁻¹]"]
    rh_refs = [c for c in rh_curves if c["role"] == "reference"]
    assert len(rh_refs) == len(ok_models) and all(c["per_model"] for c in rh_refs)
    assert len({c["color"] for c in rh_refs}) == len(ok_models)  # each in its model's colour
    # the curves differ: each model's own reference, not the first model's repeated
    assert len({tuple(np.nan_to_num(c["data"].values)) for c in rh_refs}) == len(ok_models)
    assert all(c["lower"] is not None for c in rh_refs)
    tau_curves, _ = by_units["yr]"]
    tau_refs = [c for c in tau_curves if c["role"] == "reference"]
    assert len(tau_refs) == 1 and not tau_refs[0]["per_model"] and tau_refs[0]["color"] is None
    for curves, _ in zonal.values():
        assert all(c["data"].dims == ("lat_band",) for c in curves)


def test_data_page_lists_registry_and_provenance(built):
    from soilbench.data import registry

    work, _, _ = built
    html = (work / "site" / "data.html").read_text(encoding="utf-8")
    entries = registry()
    assert entries, "the project registry is not empty"
    for key, entry in entries.items():
        assert key in html and entry["sha256"] in html
    assert "soilbench-default &lt;i&gt;test&lt;/i&gt;" in html
    assert "0.1.0" in html and "built into soilbench" in html


def test_z_scores_and_weighted_overall():
    matrix = pd.DataFrame({"a": [0.2, 0.5, 0.8], "b": [0.5, 0.5, np.nan]}, index=["m1", "m2", "m3"])
    z = z_scores(matrix)
    assert z.loc["m1", "a"] == pytest.approx(-1.2247, abs=1e-3) and z.loc["m2", "a"] == pytest.approx(0)
    assert z.loc["m1", "b"] == 0 and np.isnan(z.loc["m3", "b"]), "equal scores are neutral, missing stays missing"
    assert [z_class(v) for v in (-2, -1.2, -0.7, 0.1, 0.7, 1.2, 2, np.nan)] == [
        "z-3", "z-2", "z-1", "z0", "z+1", "z+2", "z+3", "missing"]
    overall = weighted_overall(matrix, {"a": 3.0, "b": 1.0})
    assert overall["m1"] == pytest.approx((0.2 * 3 + 0.5) / 4)
    assert overall["m3"] == pytest.approx(0.8), "a missing confrontation is left out, weights renormalised"


def test_coastlines_are_drawn_with_network_off(monkeypatch):
    import cartopy.io

    def no_network(*args, **kwargs):
        raise AssertionError("the report tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(cartopy.io.Downloader, "acquire_resource", no_network)
    lat, lon = np.arange(-89, 90, 2.0), np.arange(-179, 180, 2.0)
    empty = xr.DataArray(np.full((lat.size, lon.size), np.nan), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                         attrs={"plot": "map", "colormap": "sequential", "units": "yr", "vmin": 0, "vmax": 1})
    with_coast = plots.map_figure(empty, "t")
    from soilbench.report import projection

    monkeypatch.setattr(projection, "coastline_segments", lambda name: ())
    without = plots.map_figure(empty, "t")
    from matplotlib.image import imread

    a, b = imread(io.BytesIO(with_coast)), imread(io.BytesIO(without))
    changed = np.abs(a - b).sum(axis=-1) > 0.3
    assert changed.sum() > 2000, "coastlines must be visible on the map"


def test_shipped_coastlines_cover_the_continents():
    from soilbench.report.coastlines import coastlines

    lines = coastlines()
    assert len(lines.geoms) > 100
    xmin, ymin, xmax, ymax = lines.bounds
    assert xmin <= -179 and xmax >= 179 and ymin < -80 and ymax > 80
    import shapely

    # a point on the coast of West Africa (Dakar) is within 1° of a coastline
    assert shapely.distance(lines, shapely.Point(-17.4, 14.7)) < 1.0


def test_compare_marks_improved_and_worse(tmp_path):
    old = rf.make_results(tmp_path / "old", seed=0)
    new = rf.make_results(tmp_path / "new", seed=1)
    table = score_changes(load_run(old), load_run(new))
    assert set(table["verdict"]) >= {"improved", "worse"}
    row = table[(table["model"] == "CLM5") & (table["confrontation"] == "rh-global-totals")].iloc[0]
    assert row["change"] == pytest.approx(row["new"] - row["old"])
    assert row["verdict"] == ("improved" if row["change"] > 0.005 else "worse" if row["change"] < -0.005 else "unchanged")
    failed = table[(table["model"] == rf.FAILED[1]) & (table["confrontation"] == rf.FAILED[0])]
    assert failed["verdict"].iloc[0] == "failed in new run"
    page = compare_runs(old, new, tmp_path / "cmp", progress=False)
    html = page.read_text(encoding="utf-8")
    assert 'class="improved"' in html and 'class="worse"' in html and "&lt;script&gt;" in html
    rows = list(csv.DictReader((tmp_path / "cmp" / "compare.csv").open(encoding="utf-8")))
    assert len(rows) == len(rf.MODELS) * len(rf.CONFRONTATIONS)


def test_compare_shows_not_applicable_as_na_with_its_reason_apart_from_failures(tmp_path):
    old = rf.make_results(tmp_path / "old", seed=0)
    new = rf.make_results(tmp_path / "new", seed=1)
    reason = "the model provides no rs (it provides: <b>csoil</b>, rh)"
    for run in (old, new):  # not applicable in both runs ...
        rf.make_not_applicable(run, "sr-srdb-sites", "CLM5", reason)
    rf.make_not_applicable(new, "rh-global-totals", "CLM5", reason)  # ... and only in the new one
    table = score_changes(load_run(old), load_run(new)).set_index(["model", "confrontation"])
    both = table.loc[("CLM5", "sr-srdb-sites")]
    assert both["verdict"] == "n/a" and both["new_status"] == both["old_status"] == "not_applicable"
    assert both["new_note"] == reason and pd.isna(both["new"])
    new_only = table.loc[("CLM5", "rh-global-totals")]
    assert new_only["verdict"] == "n/a in new run" and new_only["old_status"] == "ok" and new_only["old_note"] == ""
    failed = table.loc[(rf.FAILED[1], rf.FAILED[0])]
    assert failed["verdict"] == "failed in new run" and failed["new_status"] == "error"

    page = compare_runs(old, new, tmp_path / "cmp", progress=False)
    html = page.read_text(encoding="utf-8")
    escaped = "the model provides no rs (it provides: &lt;b&gt;csoil&lt;/b&gt;, rh)"
    assert html.count(f'title="not applicable: {escaped}">n/a</td>') == 3  # old + new cell, new-only cell
    assert "2 not applicable" in html and ">failed</td>" in html
    rows = {(r["model"], r["confrontation"]): r
            for r in csv.DictReader((tmp_path / "cmp" / "compare.csv").open(encoding="utf-8"))}
    assert rows[("CLM5", "sr-srdb-sites")]["verdict"] == "n/a"
    assert rows[("CLM5", "sr-srdb-sites")]["new_note"] == reason
    assert rows[(rf.FAILED[1], rf.FAILED[0])]["new_status"] == "error"


def test_cli_default_output_dir_and_unknown_table_kind(tmp_path, capsys):
    import json

    results = rf.make_results(tmp_path / "run", synthetic=False)
    meta_path = results / "sr-srdb-sites" / rf.model_slug("CLM5") / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["tables"]["studies"]["plot"] = "some-future-kind"  # still readable as a table
    meta_path.write_text(json.dumps(meta))
    assert main(["report", str(results)]) == 0
    captured = capsys.readouterr()
    index = results / "_report" / "index.html"
    assert captured.out.strip() == str(index)
    assert "report" in captured.err, "progress is shown on stderr"
    assert "Synthetic run." not in index.read_text(encoding="utf-8")
    page = (results / "_report" / "c" / "sr-srdb-sites" / "index.html").read_text(encoding="utf-8")
    assert page.count("Study 0 &lt;b&gt;") == 4
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "results directory does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    "value, shown",
    [(5000, "5000"), (1982.0, "1982"), (4379833.4, "4,379,833"), (0.5, "0.5"), (2.65e7, "2.65×10⁷"),
     (float("nan"), ""), ("CASA", "CASA")],
)
def test_numbers_for_humans_ids_and_years_without_separators(value, shown):
    from soilbench.report.site import format_number

    assert format_number(value) == shown
