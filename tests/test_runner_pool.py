"""Local workers forked after staging: references staged once per run, the workers really used,
a worker that dies fails its own model only, the scorecard drawn by the same processes."""

from __future__ import annotations

import os
import textwrap

import pandas as pd
import pytest

import runner_support  # noqa: F401  (registers the test types)
from runner_support import CanonicalFile, canonical_model
from soilbench.config import load_benchmark
from soilbench.runner import RunOptions, run_benchmark
from soilbench.runner import pool as local_pool

pytestmark = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                                reason="no fork on this platform")

BENCH = """
name: pool-test
confrontations:
  - name: counted-a
    type: test_counts_staging
    references: [test-target]
    options: {{staging_log: "{log}"}}
  - name: counted-b
    type: test_counts_staging
    references: [test-target]
    options: {{staging_log: "{log}", target: 600}}
"""


@pytest.fixture
def campaign(tmp_path, monkeypatch):
    # earlier tests in this pytest process may leave threads that make forking unsafe; the
    # choice itself is tested on given thread lists below
    monkeypatch.setattr(local_pool, "fork_safe", lambda: True)
    log = tmp_path / "staged.txt"
    (tmp_path / "bench.yaml").write_text(textwrap.dedent(BENCH.format(log=log)))
    models = [CanonicalFile(f"m{i}", (canonical_model(tmp_path / f"m{i}.nc", 1.0 + i / 10, seed=i),))
              for i in range(6)]
    return load_benchmark(tmp_path / "bench.yaml"), models, log, tmp_path


def _scalars(out):
    table = pd.read_csv(out / "scalars.csv", keep_default_na=False, na_values=[""])
    return table.sort_values(["confrontation", "model", "name"]).reset_index(drop=True)


def test_references_are_staged_once_per_run_not_once_per_worker(campaign):
    bench, models, log, tmp = campaign
    summary = run_benchmark(bench, models, RunOptions(out=tmp / "out", workers=2, progress=False, report=False))
    assert summary.ok and summary.computed == 2 * (len(models) + 1)
    staged = log.read_text().split()
    # two confrontations, each staged once, in the run's own process; the workers inherit them
    assert staged == [str(os.getpid())] * 2
    table = _scalars(tmp / "out")
    workers = set(table.loc[table["name"] == "worker pid", "value"].astype(int))
    assert len(workers) == 2 and os.getpid() not in workers, "the models ran on both forked workers"

    log.unlink()
    serial = run_benchmark(bench, models, RunOptions(out=tmp / "serial", workers=1, progress=False, report=False))
    assert serial.ok and log.read_text().split() == [str(os.getpid())] * 2
    ours, theirs = table[table["name"] != "worker pid"], _scalars(tmp / "serial")
    theirs = theirs[theirs["name"] != "worker pid"]
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs.reset_index(drop=True))


def test_a_worker_that_dies_fails_its_own_model_only(campaign):
    bench, models, log, tmp = campaign
    dead = CanonicalFile("dies", (canonical_model(tmp / "dies.nc", 1.0, seed=9),))
    summary = run_benchmark(bench, [*models[:3], dead, *models[3:]],
                            RunOptions(out=tmp / "out", workers=2, progress=False, report=False))
    failed = {(row["confrontation"], row["model"]) for row in summary.failures}
    assert failed == {("counted-a", "dies"), ("counted-b", "dies")}
    assert all("worker failed" in row["error"] for row in summary.failures)
    status = pd.read_csv(tmp / "out" / "status.csv", keep_default_na=False)
    assert (status.loc[status["model"] != "dies", "status"] == "ok").all() and len(status) == 2 * 8


def test_forking_only_beside_idle_threads(monkeypatch):
    import threading

    main = threading.main_thread()
    idle = [threading.Thread(target=lambda: None, name=name) for name in ("tqdm_monitor", "ThreadPoolExecutor-0_1")]
    busy = threading.Thread(target=lambda: None, name="some-other-work")
    monkeypatch.setattr(local_pool.threading, "enumerate", lambda: [main, *idle])
    assert local_pool.fork_safe()
    monkeypatch.setattr(local_pool.threading, "enumerate", lambda: [main, *idle, busy])
    assert not local_pool.fork_safe()
