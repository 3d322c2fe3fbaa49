"""The report's ``matrix`` table kind and the runner's record of a type's own summary files."""

import pandas as pd
import pytest
import results_fixture as rf

from soilbench.report import plots
from soilbench.report.figure_choice import ModelResult, model_choices
from soilbench.results import ConfrontationResult, scalar_rows

PNG = b"\x89PNG"


def matrix():
    labels = ["A", "B", "hwsd-soilc"]
    values = [[1.0, 0.51, 0.8], [0.51, 1.0, -0.026], [0.8, -0.026, 1.0]]
    return pd.DataFrame({"label": labels, **{label: [row[i] for row in values] for i, label in enumerate(labels)}})


def test_matrix_layout_is_recognised_and_drawn():
    table = matrix()
    assert plots.matrix_labels(table) == ["A", "B", "hwsd-soilc"]
    assert plots.matrix_figure(table, "Correlation of ln SOC", {"vmin": -1, "vmax": 1}).startswith(PNG)
    assert plots.matrix_labels(table.drop(columns="B")) is None  # not square: not a matrix
    assert plots.matrix_labels(table.rename(columns={"label": "field"})) is None
    with pytest.raises(ValueError):
        plots.matrix_figure(table.drop(columns="B"), "x")


def test_a_per_model_matrix_table_is_drawn():
    result = ConfrontationResult(scalar_rows([], model="A", confrontation="c"), tables={"corr": matrix()},
                                 table_meta={"corr": {"plot": "matrix", "title": "ln SOC correlations"}})
    choices = model_choices(ModelResult("A", None, result), {})
    assert [(c.kind, c.name) for c in choices] == [("matrix", "corr")]
    assert choices[0].draw().startswith(PNG)


def test_runner_records_the_summary_files_a_type_reports(tmp_path):
    from soilbench.runner import summaries

    class Summarised:
        name = "soil-carbon-stocks"

        @classmethod
        def summarize_models(cls, out_dir, confrontation_name, task_dirs=None):
            inside = out_dir / summaries.SUMMARY_DIR / confrontation_name / "log_soc_correlations.csv"
            inside.parent.mkdir(parents=True)
            matrix().to_csv(inside, index=False)
            outside = out_dir / "elsewhere.csv"  # not a summary: never recorded
            outside.write_text("x\n")
            return [inside, outside]

    class Other:  # the turnover type returns its tables (written elsewhere): nothing is recorded
        name = "soil-turnover"

        @classmethod
        def summarize_models(cls, out_dir, confrontation_name, task_dirs=None):
            return {"changes": pd.DataFrame()}

    written = summaries.write_summaries(tmp_path, [Summarised(), Other()], [])
    assert written == ["_summary/soil-carbon-stocks/log_soc_correlations.csv"]


def test_the_confrontation_page_draws_a_matrix_summary(tmp_path):
    from soilbench.report import build_report

    results = rf.make_results(tmp_path / "run")
    summary = results / "_summary" / "tau-turnover" / "log_soc_correlations.csv"
    summary.parent.mkdir(parents=True)
    matrix().to_csv(summary, index=False)
    build_report(results, tmp_path / "site", progress=False)
    page = (tmp_path / "site" / "c" / "tau-turnover" / "index.html").read_text(encoding="utf-8")
    assert "Correlation of ln soil carbon between models and products" in page
    assert (tmp_path / "site" / "c" / "tau-turnover" / "summary_log_soc_correlations.png").read_bytes().startswith(PNG)
