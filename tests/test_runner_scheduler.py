"""`--scheduler tcp://…`: a campaign sent to an existing dask cluster, as on a real cluster."""

from __future__ import annotations

import pandas as pd
from distributed import Client, LocalCluster, get_task_stream
from test_runner import options, scalars_of, setup  # noqa: F401  (the fixture is used by name)

from soilbench.runner import run_benchmark


def test_existing_scheduler_runs_the_tasks_and_matches_in_process(setup):  # noqa: F811
    bench, models, tmp = setup
    serial = run_benchmark(bench, models, options(tmp / "serial"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as observer:
        with get_task_stream(observer) as stream:
            remote = run_benchmark(bench, models, options(tmp / "remote", scheduler=cluster.scheduler_address))
        workers_used = {task["worker"] for task in stream.data}
        cluster_workers = set(observer.scheduler_info()["workers"])
    # the cluster's own workers did the work: nothing ran in this process
    assert workers_used and workers_used <= cluster_workers
    pd.testing.assert_frame_equal(scalars_of(tmp / "serial"), scalars_of(tmp / "remote"))
    assert remote.computed == serial.computed and len(remote.failures) == len(serial.failures) == 3


def test_existing_scheduler_draws_the_scorecard_on_its_workers(setup):  # noqa: F811
    bench, models, tmp = setup
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as observer:
        with get_task_stream(observer) as stream:
            summary = run_benchmark(bench, models, options(tmp / "remote", scheduler=cluster.scheduler_address,
                                                           report=True))
        drawn = [task for task in stream.data if str(task["key"]).startswith("_draw")]
    assert summary.report is not None and summary.report.is_file()
    figures = sorted((tmp / "remote" / "_report").rglob("*.png"))
    # every figure of the scorecard was drawn by the cluster's workers, none in this process
    assert figures and len(drawn) == len({p.read_bytes() for p in figures})
