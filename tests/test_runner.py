"""The runner: parallel == in-process, failures isolated, resume/skip, --force, interruption."""

from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from runner_support import CanonicalFile, canonical_model
from soilbench.config import load_benchmark
from soilbench.results import load_result, model_slug
from soilbench.runner import RunOptions, run_benchmark

BENCH = """
name: runner-test
confrontations:
  - name: mean-a
    type: test_mean_rh
    references: [test-target]
    weight: 2
    options: {target: 450, fail_model: exploding}
  - name: mean-b
    type: test_no_references
    references: [test-target]
"""


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "bench.yaml").write_text(textwrap.dedent(BENCH))
    bench = load_benchmark(tmp_path / "bench.yaml")
    models = [
        CanonicalFile("perfect", (canonical_model(tmp_path / "perfect.nc", 1.0),)),
        CanonicalFile("high", (canonical_model(tmp_path / "high.nc", 1.2, seed=1),)),
        CanonicalFile("exploding", (canonical_model(tmp_path / "exploding.nc", 1.0, seed=2),)),
    ]
    broken = tmp_path / "broken.nc"
    broken.write_bytes(b"not a netcdf file")
    models.append(CanonicalFile("broken", (str(broken),)))
    return bench, models, tmp_path


def options(out, workers=0, **kw):
    return RunOptions(out=out, workers=workers, progress=False, **{"report": False, **kw})


def scalars_of(out):
    table = pd.read_csv(out / "scalars.csv", keep_default_na=False, na_values=[""])
    return table.sort_values(["confrontation", "model", "name"]).reset_index(drop=True)


def test_cluster_matches_in_process_and_isolates_failures(setup):
    bench, models, tmp = setup
    serial = run_benchmark(bench, models, options(tmp / "serial"))
    parallel = run_benchmark(bench, models, options(tmp / "parallel", workers=2))
    pd.testing.assert_frame_equal(scalars_of(tmp / "serial"), scalars_of(tmp / "parallel"))

    for summary, out in ((serial, tmp / "serial"), (parallel, tmp / "parallel")):
        status = pd.read_csv(out / "status.csv", keep_default_na=False)
        failed = status[status.status == "error"].set_index(["confrontation", "model"])["error"]
        # the unreadable file fails both confrontations; the analysis error only its own
        assert sorted(failed.index) == [("mean-a", "broken"), ("mean-a", "exploding"), ("mean-b", "broken")]
        assert "cannot read model" in failed[("mean-a", "broken")]
        assert "ZeroDivisionError: analysis blew up" in failed[("mean-a", "exploding")]
        assert not summary.ok and len(summary.failures) == 3
        # references of mean-a saved; mean-b has none and writes no directory
        assert (out / "mean-a" / "_references" / "meta.json").exists()
        assert not (out / "mean-b" / "_references").exists()
        meta, result = load_result(out / "mean-a" / model_slug("high"))
        assert meta["weight"] == 2.0 and meta["kind"] == "test_mean_rh" and meta["group"] == "Rh"
        assert result.scalars.query("name == 'rh mean'")["value"].item() == pytest.approx(600, rel=0.05)
        run = json.loads((out / "run.json").read_text())
        assert run["synthetic"] is False and len(run["failures"]) == 3
        assert run["config"]["confrontations"][0]["options"]["target"] == 450
        assert {m["name"] for m in run["models"]} == {"perfect", "high", "exploding", "broken"}


def test_rerun_skips_unchanged_and_redoes_failed_changed_and_forced(setup):
    bench, models, tmp = setup
    out = tmp / "out"
    first = run_benchmark(bench, models, options(out))
    assert first.computed == 1 + 1 + 4 * 2  # references of both + every (model, confrontation)

    again = run_benchmark(bench, models, options(out))
    assert again.computed == 3  # only the failures are retried
    assert again.reused == 7

    canonical_model(tmp / "high.nc", 1.3, seed=1)  # the model's file changes
    changed = run_benchmark(bench, models, options(out))
    recomputed = {row["model"] for row in changed.rows if not row["reused"]}
    assert recomputed == {"high", "broken", "exploding"} and changed.computed == 5

    forced = run_benchmark(bench, models, options(out, force=True))
    assert forced.computed == first.computed


def test_changed_configuration_recomputes_only_that_confrontation(setup):
    bench, models, tmp = setup
    out = tmp / "out"
    run_benchmark(bench, models[:2], options(out))
    (tmp / "bench.yaml").write_text(textwrap.dedent(BENCH).replace("target: 450", "target: 460"))
    summary = run_benchmark(load_benchmark(tmp / "bench.yaml"), models[:2], options(out))
    assert {row["confrontation"] for row in summary.rows if not row["reused"]} == {"mean-a"}
    assert summary.computed == 3


class Interrupt(KeyboardInterrupt):
    pass


@pytest.mark.parametrize("workers", [0, 2])
def test_interruption_keeps_finished_results_and_redoes_partial_ones(setup, workers):
    bench, models, tmp = setup
    out = tmp / "out"
    models = models[:2]
    seen, nothing_to_save = [], []

    def stop_after_two(task, outcome):
        # references with nothing to compare (mean-b) leave only a marker, no result directory
        (nothing_to_save if outcome.status == "none" else seen).append(task.key)
        if len(seen) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_benchmark(bench, models, options(out, workers=workers), on_outcome=stop_after_two)
    complete = {p.parent.relative_to(out).as_posix() for p in out.glob("*/*/meta.json")}
    assert complete == set(seen)
    # a task directory half written by the interrupted run (no meta.json) is redone
    partial = out / "mean-b" / model_slug("high")
    partial.mkdir(parents=True, exist_ok=True)
    (partial / "scalars.csv").write_text("garbage")
    (partial / "tables").mkdir(exist_ok=True)
    (partial / "tables" / "stale.csv").write_text("x\n1\n")

    resumed = run_benchmark(bench, models, options(out))
    assert resumed.ok and resumed.computed == 6 - len(seen) - len(nothing_to_save)
    assert not (partial / "tables" / "stale.csv").exists()
    meta, result = load_result(partial)
    assert meta["status"] == "ok" and list(result.tables) == ["means"]
