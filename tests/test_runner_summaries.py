"""The runner: not-applicable tasks, the current run's task set (stale directories ignored),
and the cross-model spread summary (CSV = independent CV; report page = CSV)."""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap

import numpy as np
import pandas as pd
import pytest

from runner_support import PRODUCT_TOTALS, CanonicalFile, RsOrConvertedRh, RsWithAnUnusedOption, canonical_model
from soilbench.config import load_benchmark
from soilbench.report import build_report
from soilbench.report.collect import load_run
from soilbench.results import load_result, model_slug
from soilbench.runner import RunOptions, run_benchmark
from soilbench.runner.summaries import SPREAD_FILE, SUMMARY_DIR

BENCH = """
name: summaries-test
confrontations:
  - name: totals
    type: test_regional_totals
    references: [test-target]
    weight: 2
  - name: soil-carbon
    type: test_needs_csoil
    references: [test-target]
  - name: listed
    type: test_lists_models
    references: [test-target]
"""


def options(out, **kw):
    return RunOptions(out=out, workers=0, progress=False, report=False, **kw)


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "bench.yaml").write_text(textwrap.dedent(BENCH))
    models = [CanonicalFile(name, (canonical_model(tmp_path / f"{name}.nc", scale, seed=seed),))
              for name, scale, seed in (("low", 0.9, 0), ("mid", 1.0, 1), ("high", 1.3, 2))]
    return load_benchmark(tmp_path / "bench.yaml"), models, tmp_path


def test_applicable_default_rule():
    conf = RsOrConvertedRh("x", ["test-target"])
    assert conf.applicable({"rs", "csoil"}) is None
    assert conf.applicable({"rh", "ra_root"}) is None, "rs = rh + ra_root counts"
    reason = conf.applicable({"rh", "csoil"})
    assert reason == "the model provides no rs (it provides: csoil, rh)"
    converting = RsOrConvertedRh("x", ["test-target"], {"rs_from_rh": "bl2004"})
    assert converting.applicable({"rh"}) is None, "rs_from_rh lets rh stand in for rs"
    assert "no rs" in converting.applicable({"csoil"})


def test_the_base_class_knows_no_subclass_option():
    # the rs_from_rh rule belongs to the types that have the option, not to Confrontation
    base_rule = RsWithAnUnusedOption("x", ["test-target"], {"rs_from_rh": "bl2004"})
    assert base_rule.applicable({"rh"}) == "the model provides no rs (it provides: rh)"


def test_not_applicable_is_recorded_reused_and_not_a_failure(setup):
    bench, models, tmp = setup
    out = tmp / "out"
    summary = run_benchmark(bench, models, options(out))
    assert summary.ok and not summary.failures, "a missing quantity is not a failure"
    assert {r["model"] for r in summary.not_applicable} == {"low", "mid", "high"}
    status = pd.read_csv(out / "status.csv", keep_default_na=False)
    na = status[status["confrontation"] == "soil-carbon"].set_index("model")
    assert set(na.loc[["low", "mid", "high"], "status"]) == {"not_applicable"}
    assert na.loc["low", "error"] == "the model provides no csoil (it provides: rh)"
    meta, result = load_result(out / "soil-carbon" / model_slug("low"))
    assert result is None and meta["status"] == "not_applicable" and meta["model_quantities"] == ["rh"]
    assert "no csoil" in meta["reason"]
    run = json.loads((out / "run.json").read_text())
    assert run["failures"] == [] and len(run["not_applicable"]) == 3
    scalars = pd.read_csv(out / "scalars.csv")
    assert "soil-carbon" not in set(scalars["confrontation"]) or \
        set(scalars.loc[scalars["confrontation"] == "soil-carbon", "model"]) == {"references"}

    again = run_benchmark(bench, models, options(out))
    assert again.computed == 0, "not-applicable tasks are as current as ok ones"


def test_cli_exit_0_with_only_not_applicable_and_1_with_a_failure(setup, monkeypatch):
    from soilbench import cli
    from soilbench.commands import run as run_command

    bench, models, tmp = setup
    by_name = {m.name: m for m in models}
    broken = tmp / "broken.nc"
    broken.write_text("not netcdf")
    by_name["broken"] = CanonicalFile("broken", (str(broken),))
    monkeypatch.setattr(run_command, "load_benchmark", lambda path: bench)
    monkeypatch.setattr("soilbench.runner.resolve_models", lambda names, **kw: [by_name[n] for n in names])
    base = ["run", "--out", str(tmp / "cli"), "--workers", "0", "--no-report", "--quiet", "--models"]
    assert cli.main(base + ["low", "mid"]) == 0
    assert cli.main(base + ["low", "broken"]) == 1


def test_cli_run_quiets_loaders_only_while_it_runs(setup, monkeypatch):
    """``cli.main(["run", ...])`` in a longer-lived process leaves its logging as it found it."""
    import logging

    import distributed  # noqa: F401  (its loggers exist before the run, as in any process that ran one)

    from soilbench import cli, runner
    from soilbench.commands import run as run_command

    bench, models, tmp = setup
    names = ["soilbench.load", "soilbench.analysis", "distributed.scheduler"]
    chosen = {"soilbench.load": logging.DEBUG, "soilbench.analysis": logging.NOTSET, "distributed.scheduler": logging.INFO}
    before = {name: logging.getLogger(name).level for name in names}
    during = {}
    real_run = runner.run_benchmark

    def spy(*args, **kwargs):
        during.update({name: logging.getLogger(name).level for name in names})
        return real_run(*args, **kwargs)

    monkeypatch.setattr(run_command, "load_benchmark", lambda path: bench)
    monkeypatch.setattr("soilbench.runner.resolve_models", lambda names_, **kw: models[:1])
    monkeypatch.setattr("soilbench.runner.run_benchmark", spy)
    try:
        for name, level in chosen.items():
            logging.getLogger(name).setLevel(level)
        assert cli.main(["run", "--out", str(tmp / "cli"), "--workers", "0", "--no-report", "--quiet",
                         "--models", "low"]) == 0
        assert during == dict.fromkeys(names, logging.WARNING)
        assert {name: logging.getLogger(name).level for name in names} == chosen
        # restored when the command fails too
        with pytest.raises(RuntimeError), run_command.quiet_loaders(debug=False):
            raise RuntimeError("task crashed")
        assert {name: logging.getLogger(name).level for name in names} == chosen
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)


def _spread_by_hand(out, confrontation, models):
    """CV across models and products per region, straight from the saved tables (ddof=1)."""
    frames = [pd.read_csv(out / confrontation / model_slug(m) / "tables" / "regional_totals.csv") for m in models]
    table = pd.concat(frames)
    expected = {}
    for region in ["global", "lat_-90_0", "lat_0_90"]:
        mods = table[(table["role"] == "model") & (table["region"] == region)]["value"].to_numpy()
        prods = np.array([PRODUCT_TOTALS[p][region] for p in PRODUCT_TOTALS])
        expected[region] = (np.std(mods, ddof=1) / abs(np.mean(mods)), np.std(prods, ddof=1) / abs(np.mean(prods)),
                            len(mods))
    return expected


def test_spread_summary_matches_an_independent_cv_and_the_report_page(setup):
    bench, models, tmp = setup
    out = tmp / "out"
    run_benchmark(bench, models, options(out))
    path = out / SUMMARY_DIR / "totals" / SPREAD_FILE
    saved = pd.read_csv(path).set_index("region")
    for region, (cv_models, cv_products, n) in _spread_by_hand(out, "totals", ["low", "mid", "high"]).items():
        assert saved.loc[region, "cv_models"] == pytest.approx(cv_models, rel=1e-12)
        assert saved.loc[region, "cv_products"] == pytest.approx(cv_products, rel=1e-12)
        assert saved.loc[region, "n_models"] == n == 3 and saved.loc[region, "n_products"] == 2
        assert saved.loc[region, "cv_ratio"] == pytest.approx(cv_models / cv_products)
    assert cv_models > 0.05, "the test models differ: a real spread"
    run = json.loads((out / "run.json").read_text())
    assert run["summaries"] == [f"{SUMMARY_DIR}/totals/{SPREAD_FILE}"]
    assert not (out / SUMMARY_DIR / "listed").exists(), "only types with regional totals get a spread"

    index = build_report(out, tmp / "site", progress=False)
    page = (index.parent / "c" / "totals" / "index.html").read_text(encoding="utf-8")
    section = page[page.index('id="summary-regional_spread"'):]
    section = section[:section.index("</section>")]
    body = section[section.index("<tbody>"):section.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    assert len(rows) == len(saved)
    columns = re.findall(r'data-col="\d+"[^>]*>([^<]+)</th>', section)
    assert columns == list(pd.read_csv(path).columns)
    for row in rows:
        cells = re.findall(r"<td([^>]*)>([^<]*)</td>", row)
        region = cells[0][1]
        for column, (attrs, text) in zip(columns[1:], cells[1:]):
            value = float(re.search(r'data-v="([^"]*)"', attrs).group(1))  # full precision
            expected = float(saved.loc[region, column])
            assert value == pytest.approx(expected, rel=1e-12), (region, column)
            assert text == f"{expected:.3g}", "shown with three significant digits"
    assert (index.parent / "c" / "totals" / "summary_regional_spread.png").is_file()
    assert (index.parent / "c" / "totals" / "summary_regional_spread.csv").read_text() == path.read_text()


def test_report_and_summaries_ignore_directories_of_an_earlier_run(setup):
    bench, models, tmp = setup
    out = tmp / "out"
    run_benchmark(bench, models, options(out))  # low, mid, high
    stale = out / "totals" / model_slug("high")
    assert (stale / "meta.json").is_file()

    summary = run_benchmark(bench, models[:2], options(out))  # high dropped
    assert summary.computed == 0 and (stale / "meta.json").is_file(), "kept on disk for a later reuse"
    assert (out / "listed" / "models.txt").read_text() == "low\nmid", "the type's summary got this run's models"
    saved = pd.read_csv(out / SUMMARY_DIR / "totals" / SPREAD_FILE).set_index("region")
    expected = _spread_by_hand(out, "totals", ["low", "mid"])
    assert saved.loc["global", "cv_models"] == pytest.approx(expected["global"][0], rel=1e-12)
    assert set(saved["n_models"]) == {2}

    run = load_run(out)
    assert run.models == ["low", "mid"]
    assert all(set(conf.tasks) == {"low", "mid"} for conf in run.confrontations.values())
    assert set(run.scalars["model"]) == {"low", "mid"}
    index = build_report(out, tmp / "site", progress=False)
    board = pd.read_csv(index.parent / "scoreboard.csv")
    assert set(board["model"]) == {"low", "mid"}
    assert "high" not in index.read_text(encoding="utf-8").replace("higher", "")

    # a confrontation dropped from the definition is ignored as well
    lean = dataclasses.replace(bench, confrontations=tuple(c for c in bench.confrontations if c.name == "totals"))
    run_benchmark(lean, models[:2], options(out))
    assert list(load_run(out).confrontations) == ["totals"]
    assert (out / "soil-carbon").is_dir()

    # one model left: no spread across models, and the earlier file is not shown as if current
    run_benchmark(lean, models[:1], options(out))
    assert not (out / SUMMARY_DIR / "totals" / SPREAD_FILE).exists()
    assert load_run(out).summaries == {}
