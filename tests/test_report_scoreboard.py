"""Scoreboard rules: colour tolerance for near-equal scores, and not-applicable cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import results_fixture as rf
from soilbench.report import build_report
from soilbench.errors import SoilbenchError
from soilbench.report.scoreboard import STD_FLOOR, overall_scores, z_class, z_scores


def test_near_equal_scores_are_neutral_but_real_differences_are_coloured():
    matrix = pd.DataFrame({"close": [0.311, 0.309, 0.310], "apart": [0.2, 0.8, 0.5], "alone": [0.7, np.nan, np.nan]},
                          index=["a", "b", "c"])
    z = z_scores(matrix)
    # a plain z-score would be ±1.22 here: one red, one blue over a 0.002 difference
    assert [z_class(v) for v in z["close"]] == ["z0", "z0", "z0"]
    assert [z_class(v) for v in z["apart"]] == ["z-2", "z+2", "z0"], "std 0.245 is above the floor: ±1.22σ"
    assert z.at["a", "alone"] == 0 and np.isnan(z.at["b", "alone"])
    # the documented band: within ±0.01 (= floor / 2) of the mean is neutral, just beyond is not
    edge = pd.DataFrame({"c": [0.5 + 0.0099, 0.5 - 0.0099, 0.5, 0.5]})
    assert set(z_class(v) for v in z_scores(edge)["c"]) == {"z0"}
    beyond = pd.DataFrame({"c": [0.5 + 0.011, 0.5 - 0.011]})
    assert [z_class(v) for v in z_scores(beyond)["c"]] == ["z+1", "z-1"]
    assert STD_FLOOR == pytest.approx(0.02)


@pytest.fixture(scope="module")
def with_na(tmp_path_factory):
    """The fixture run with one task turned into 'not applicable'."""
    work = tmp_path_factory.mktemp("na")
    results = rf.make_results(work / "run")
    rf.make_not_applicable(results, "sr-srdb-sites", "CLM5", "the model provides no rs (it provides: <b>csoil</b>, rh)")
    index = build_report(results, work / "site", progress=False)
    return results, index


def test_not_applicable_cell_is_neutral_explained_and_not_counted(with_na):
    results, index = with_na
    html = index.read_text(encoding="utf-8")
    assert 'class="score na"' in html and ">n/a</a>" in html
    assert 'title="not applicable: the model provides no rs (it provides: &lt;b&gt;csoil&lt;/b&gt;, rh)"' in html
    failures = html[html.index('<section class="failures">'):]
    assert "1 failed, 1 not applicable" in failures and "not applicable" in failures and rf.FAILED[0] in failures
    board = pd.read_csv(index.parent / "scoreboard.csv", keep_default_na=False, na_values=[""])
    cell = board[(board["model"] == "CLM5") & (board["confrontation"] == "sr-srdb-sites")].iloc[0]
    assert cell["status"] == "not_applicable" and np.isnan(cell["overall_score"]) and "no rs" in cell["reason"]
    # CLM5's overall: the weighted mean over the other three confrontations only
    scalars = pd.concat([pd.read_csv(p) for p in results.glob("*/*/scalars.csv")])
    overall = scalars[(scalars["analysis"] == "overall") & (scalars["model"] == "CLM5")].set_index("confrontation")["value"]
    weights = {c: s["weight"] for c, s in rf.CONFRONTATIONS.items()}
    expected = sum(overall[c] * weights[c] for c in overall.index) / sum(weights[c] for c in overall.index)
    assert "sr-srdb-sites" not in overall.index
    assert f'data-v="{expected}"' in html
    page = (index.parent / "c" / "sr-srdb-sites" / "index.html").read_text(encoding="utf-8")
    assert "Not applicable to this model: the model provides no rs" in page and "This task failed" not in page


def _overall_rows(partials: dict[str, float], overall: float, model: str = "m", confrontation: str = "c"):
    rows = [{"model": model, "confrontation": confrontation, "reference": "", "region": "global",
             "analysis": "overall", "name": name, "type": "score", "units": "1", "value": value}
            for name, value in partials.items()]
    rows.append({"model": model, "confrontation": confrontation, "reference": "", "region": "global",
                 "analysis": "overall", "name": "overall score", "type": "score", "units": "1", "value": overall})
    rows.append({"model": model, "confrontation": confrontation, "reference": "", "region": "koppen_A",
                 "analysis": "overall", "name": "overall score", "type": "score", "units": "1", "value": 0.01})
    return rows


def test_the_scoreboard_number_is_the_documented_overall_score_row():
    # partial scores of the overall analysis whose mean is not the overall score (weights 1 and 3)
    scalars = pd.DataFrame(_overall_rows({"global total score": 0.2, "trend score": 0.6}, overall=0.5))
    matrix = overall_scores(scalars)
    assert matrix.at["m", "c"] == pytest.approx(0.5)  # not the mean of the three rows (0.433...)


def test_two_overall_score_rows_for_one_task_are_refused():
    rows = _overall_rows({}, overall=0.5) + _overall_rows({}, overall=0.7)
    with pytest.raises(SoilbenchError, match="2 'overall score' rows"):
        overall_scores(pd.DataFrame(rows))
