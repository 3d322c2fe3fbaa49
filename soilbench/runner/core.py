"""Run a benchmark: plan (model, confrontation) tasks, skip current ones, run the rest, summarise.

With ``workers >= 2`` tasks run on worker processes forked from this one once it has staged
the references (:mod:`soilbench.runner.pool`; they draw the scorecard's figures afterwards),
or, where forking is not safe, on a dask :class:`~distributed.LocalCluster`; with
``scheduler="tcp://host:port"`` on an existing dask cluster. With ``workers <= 1`` and no
scheduler they run in this process, one after the other, which is what a debugger wants.
Results are saved by this (the client) process as each task finishes, so workers need no access
to the output directory and an interruption keeps everything finished.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soilbench import __version__
from soilbench.config import Benchmark
from soilbench.confrontations.base import Confrontation
from soilbench.errors import SoilbenchError
from soilbench.results import ERROR, NOT_APPLICABLE, REFERENCES_SLUG, model_slug
from soilbench.runner import outputs, summaries
from soilbench.runner.models import ModelSpec
from soilbench.runner.tasks import Outcome, Task, clear_caches, iter_tasks, run_tasks

log = logging.getLogger("soilbench.runner")



def default_workers() -> int:
    """One worker process per core, at most 4 (the tasks are small; more only costs memory)."""
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass
class RunOptions:
    """How to run (everything except *what*: the benchmark and the models).

    Attributes
    ----------
    out
        Output directory (``OUT/``).
    workers
        Worker processes of the local cluster; ``<= 1`` runs in this process.
    scheduler
        Address of an existing dask scheduler (``tcp://host:port``); overrides ``workers``.
    force
        Recompute every task even when its saved result is current.
    data_dir
        Data directory for references (``--data-dir``).
    registry
        A synthetic world's registry (see :mod:`soilbench.synthetic`); None for the real registry.
    synthetic
        Label the run as synthetic (``run.json``, report banner).
    progress
        Show a progress bar.
    report
        Build the HTML report afterwards.
    report_dir
        Where the report goes; ``OUT/_report`` when None.
    """

    out: Path
    workers: int = field(default_factory=default_workers)
    scheduler: str | None = None
    force: bool = False
    data_dir: str | None = None
    registry: str | None = None
    synthetic: bool = False
    progress: bool = True
    report: bool = True
    report_dir: Path | None = None


@dataclass
class RunSummary:
    """What a run did."""

    out: Path
    rows: list[dict[str, Any]]
    computed: int
    reused: int
    report: Path | None = None

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] == ERROR]

    @property
    def not_applicable(self) -> list[dict[str, Any]]:
        """Tasks whose model lacks what the confrontation compares (not failures)."""
        return [row for row in self.rows if row["status"] == NOT_APPLICABLE]

    @property
    def ok(self) -> bool:
        """No task failed (tasks that were not applicable are fine)."""
        return not self.failures


# -- fingerprints and provenance --------------------------------------------------------------------
def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def data_ids(confrontation: Confrontation) -> list[str]:
    """Dataset ids a confrontation depends on: references, declared auxiliary data, and option
    values that are registry ids (``climate_map: koppen``, ``regions: [koppen]``)."""
    from soilbench.data import registry

    ids = []
    for reference in confrontation.references:
        ids.extend(_registered_parts(reference))
    ids.extend(str(item) for item in confrontation.auxiliary_data)
    entries = registry()
    for value in confrontation.options.values():
        ids.extend(item for item in _strings(value) if item in entries)
    return list(dict.fromkeys(ids))


def _registered_parts(reference_id: str) -> list[str]:
    """The registered datasets a reference is read from: its catalog entry's ``combines`` (a
    reference merged from several files, e.g. ``hwsd-ncscd-soilc``), else the id itself."""
    from soilbench.load.reference import reference_entries

    entry = reference_entries().get(reference_id)
    parts = entry.metadata.get("combines") if entry is not None else None
    return [str(part) for part in parts] if parts else [reference_id]


def _builtin_hash(dataset_id: str) -> str | None:
    """sha256 of a reference shipped with soilbench: a catalog entry without a registry id whose
    file is in the project (``literature-rh`` → ``reference_data/literature_rh.csv``)."""
    from soilbench.data import sha256_of
    from soilbench.load.reference import reference_entries

    entry = reference_entries().get(dataset_id)
    if entry is None or entry.registry_id:
        return None
    try:
        paths = entry.paths(allow_download=False)
    except SoilbenchError:
        return None
    return sha256_of(paths[0]) if len(paths) == 1 else None


def reference_hashes(confrontation: Confrontation) -> dict[str, str]:
    """sha256 of each dataset the confrontation reads (registry entries: fetch guarantees the match)."""
    from soilbench.catalogs import entry_sha256
    from soilbench.data import registry

    entries = registry()
    hashes = {}
    for i in data_ids(confrontation):
        digest = entries[i]["sha256"] if i in entries else _builtin_hash(i) or entry_sha256(i, confrontation.data_dir)
        if digest:
            hashes[i] = digest
    return hashes


def _combine(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _inputs(confrontations: list[Confrontation]) -> list[dict[str, Any]]:
    from soilbench.catalogs import all_entries, entry_sha256
    from soilbench.data import registry

    entries = registry()
    ids = sorted({i for c in confrontations for i in data_ids(c)})
    catalog_entries = {i: e for i, e in all_entries().items() if i in ids and i not in entries}
    inputs = []
    for i in ids:
        if i in entries:
            inputs.append({"id": i, "file": entries[i]["file"], "sha256": entries[i]["sha256"],
                           "citation": entries[i].get("citation", "")})
        elif i in catalog_entries:  # a user's table registered in a catalog
            data_dir = next((c.data_dir for c in confrontations if i in data_ids(c)), None)
            inputs.append({"id": i, "catalog": str(catalog_entries[i].catalog), "sha256": entry_sha256(i, data_dir)})
        else:
            inputs.append({"id": i, "builtin": True, "sha256": _builtin_hash(i)})
    return inputs


# -- planning -------------------------------------------------------------------------------------
@dataclass
class Planned:
    task: Task
    meta: dict[str, Any]
    reuse: bool


def quantity_plan(confrontations: list[Confrontation]) -> tuple[str, ...]:
    """The quantities any confrontation reads from a model (the loader keeps only these)."""
    return tuple(sorted({q for confrontation in confrontations for q in confrontation.model_quantities()}))


def plan(confrontations: list[Confrontation], models: list[ModelSpec], options: RunOptions) -> list[Planned]:
    """Every task of the run, each marked as reusable or to be computed.

    Order: every confrontation's references first, then model by model (each model's
    confrontations in definition order), so that a worker reads each model once.
    """
    model_prints = {spec.name: spec.input_fingerprint() for spec in models}
    needed = quantity_plan(confrontations)
    planned: list[Planned] = []
    for confrontation in confrontations:
        conf_print = confrontation.fingerprint(reference_hashes(confrontation))
        base_meta = {
            "confrontation": confrontation.name, "kind": confrontation.kind, "group": confrontation.group,
            "weight": confrontation.weight, "references": list(confrontation.references),
            "options": confrontation.options, "confrontation_fingerprint": conf_print,
            "synthetic": options.synthetic, "soilbench": __version__,
        }
        targets: list[ModelSpec | None] = [None, *models]
        for spec in targets:
            slug = REFERENCES_SLUG if spec is None else model_slug(spec.name)
            model_print = None if spec is None else model_prints[spec.name]
            fingerprint = conf_print if spec is None else _combine(conf_print, model_print)
            task = Task(
                confrontation=confrontation, confrontation_fingerprint=conf_print, model=spec,
                model_fingerprint=model_print, fingerprint=fingerprint,
                directory=f"{confrontation.name}/{slug}", data_dir=options.data_dir, registry=options.registry,
                quantities=needed,
            )
            meta = {**base_meta, "model": task.model_name, "model_slug": slug, "fingerprint": fingerprint,
                    "model_fingerprint": model_print}
            if spec is None:
                reuse = outputs.is_current(options.out / task.directory, fingerprint) or \
                    outputs.no_references_current(options.out / confrontation.name, fingerprint)
            else:
                reuse = outputs.is_current(options.out / task.directory, fingerprint)
            planned.append(Planned(task, meta, reuse and not options.force))
    position = {spec.name: i for i, spec in enumerate(models)}
    # stable: within references and within one model, the definition's order is kept
    return sorted(planned, key=lambda p: -1 if p.task.model is None else position[p.task.model.name])


# -- execution ------------------------------------------------------------------------------------
def _memory_limit(workers: int) -> int:
    """Bytes per worker: 60 % of the machine shared out, the rest for the client and other work."""
    import psutil

    return max(1 << 30, int(psutil.virtual_memory().total * 0.6 / max(workers, 1)))


@contextmanager
def _client(options: RunOptions) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if options.scheduler:
        try:
            client = Client(options.scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as err:
            raise SoilbenchError(options.scheduler, f"cannot connect to the dask scheduler ({err})", "--scheduler") from None
        with client:
            yield client
        return
    with LocalCluster(
        n_workers=options.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, memory_limit=_memory_limit(options.workers), silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:
        yield client


def _execute_in_process(tasks: list[Task]) -> Iterator[Outcome]:
    """Model by model, as on a cluster (one pass over each model for all its confrontations)."""
    try:
        for group in _model_groups(tasks):
            # threads: this process is the only worker, so decompression may use every core
            yield from iter_tasks(group, scheduler="threads")
    finally:
        clear_caches()


def _model_groups(tasks: list[Task]) -> list[list[Task]]:
    """References one by one, then all tasks of each model together (in the planned order)."""
    groups: list[list[Task]] = []
    by_model: dict[str, list[Task]] = {}
    for task in tasks:
        if task.model is None:
            groups.append([task])
        elif task.model_fingerprint in by_model:
            by_model[task.model_fingerprint].append(task)
        else:
            by_model[task.model_fingerprint] = [task]
            groups.append(by_model[task.model_fingerprint])
    return groups


def _execute_forked(tasks: list[Task], pool: Any) -> Iterator[Outcome]:
    """One group per model, as on a cluster, on :class:`~soilbench.runner.pool.LocalPool`'s
    processes forked after the references are staged here (once for all workers)."""
    try:
        for _, outcomes in pool.run(_model_groups(tasks)):
            yield from outcomes
    finally:
        clear_caches()


def _local_pool(options: RunOptions) -> Any:
    """Forked local workers (:mod:`soilbench.runner.pool`) when this run may use them: no
    scheduler, more than one worker, and a process that can be forked safely; else None."""
    if options.scheduler or options.workers <= 1:
        return None
    from soilbench.runner.pool import LocalPool, fork_safe

    if not fork_safe():
        return None
    preload: tuple[str, ...] = ()
    if options.report:
        try:
            from soilbench.report.figures import PRELOAD as preload
        except ImportError:  # an installation without the report: nothing to preload
            pass
    return LocalPool(options.workers, preload=preload)


class ClusterDrawing:
    """The scorecard's figures drawn by a dask cluster's workers, as a
    :class:`concurrent.futures.Executor` for :class:`~soilbench.report.figures.FigureBook` (each
    dask future is let go once its PNG is back, so the cluster keeps no figure)."""

    def __init__(self, client: Any):
        self.client = client
        self.threads = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        import concurrent.futures

        done: concurrent.futures.Future = concurrent.futures.Future()

        def settle(future: Any) -> None:
            try:
                done.set_result(future.result())
            except BaseException as err:  # noqa: BLE001 - the figure's own failure, reported by the book
                done.set_exception(err)

        self.client.submit(fn, *args, pure=False).add_done_callback(settle)
        return done


def _execute_distributed(tasks: list[Task], client: Any) -> Iterator[Outcome]:
    """One dask task per model (its reductions in one pass, then its confrontations one after the
    other on one worker, so the model is read once per run); each (model, confrontation) still
    has its own outcome."""
    from distributed import as_completed

    groups = _model_groups(tasks)
    futures = []
    groups_by_key: dict[str, list[Task]] = {}
    for position, group in enumerate(groups):
        future = client.submit(run_tasks, group, key=f"soilbench-tasks-{position}-{group[0].fingerprint[:12]}",
                               pure=False, priority=len(groups) - position)
        futures.append(future)
        groups_by_key[future.key] = group
    for future in as_completed(futures):
        group = groups_by_key[future.key]
        try:
            outcomes = future.result()
        except Exception as err:  # the worker itself died (memory, segfault): only this model's tasks
            message = f"worker failed: {' '.join(str(err).split())}"
            outcomes = [Outcome(key=task.key, status="error", error=message) for task in group]
        yield from outcomes


def run_benchmark(
    benchmark: Benchmark,
    models: list[ModelSpec],
    options: RunOptions,
    on_outcome: Callable[[Task, Outcome], None] | None = None,
) -> RunSummary:
    """Run every (model, confrontation) task of ``benchmark`` and write ``options.out``.

    Returns a :class:`RunSummary`; tasks that failed are in ``summary.failures`` (and in
    ``status.csv``) while every other result is kept.
    """
    started = time.time()
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    options.out = out
    confrontations = benchmark.build(options.data_dir)
    planned = plan(confrontations, models, options)
    by_key = {p.task.key: p for p in planned}
    pending = [p.task for p in planned if not p.reuse]
    log.info("%d task(s): %d to compute, %d unchanged since the last run (in %s)",
             len(planned), len(pending), len(planned) - len(pending), out)

    results: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack:
        # the processes that run the tasks draw the scorecard's figures too
        pool = _local_pool(options) if pending else None
        client = None
        if pool is not None:
            stack.enter_context(pool)
        elif pending and (options.scheduler is not None or options.workers > 1):
            client = stack.enter_context(_client(options))
        if pending:
            _run_pending(pending, options, pool, client, by_key, results, out, on_outcome)
        rows = _status_rows(out, planned, results)
        directories = [out / p.task.directory for p in planned]
        outputs.write_scalars(out, directories)
        outputs.write_status(out, rows)
        summary = RunSummary(out=out, rows=rows, computed=len(results), reused=len(planned) - len(results))
        written = summaries.write_summaries(out, confrontations, rows)
        outputs.write_run_json(out, _provenance(benchmark, confrontations, models, options, summary, started, written))
        if options.report:
            executor, workers = None, _report_workers(options)
            if pool is not None:
                executor = pool.executor
            elif client is not None:
                executor = ClusterDrawing(client)
                workers = executor.threads
            summary.report = _build_report(out, options.progress, options.report_dir, workers, executor)
    outputs.write_cmec(out, summary.report)
    return summary


def _run_pending(pending: list[Task], options: RunOptions, pool: Any, client: Any, by_key: dict[str, Planned],
                 results: dict[str, dict[str, Any]], out: Path,
                 on_outcome: Callable[[Task, Outcome], None] | None) -> None:
    """Run the tasks to compute, saving each outcome as it arrives."""
    from tqdm import tqdm

    if pool is not None:
        outcomes = _execute_forked(pending, pool)
    elif client is not None:
        outcomes = _execute_distributed(pending, client)
    else:
        outcomes = _execute_in_process(pending)
    # closing(): an interruption shuts the cluster down at once, not when garbage is collected
    with closing(outcomes), tqdm(
        total=len(pending), unit="task", desc="soilbench", disable=not options.progress,
    ) as bar:
        for outcome in outcomes:
            item = by_key[outcome.key]
            line = _record(out, item, outcome)
            if line and options.progress:
                bar.write(line, file=sys.stderr)  # above the bar, not through it
            elif line:
                (log.warning if outcome.status == ERROR else log.info)(line)
            results[outcome.key] = {"status": outcome.status, "error": outcome.error or outcome.reason,
                                    "seconds": round(outcome.timings.get("total_s", 0.0), 3)}
            if on_outcome is not None:
                on_outcome(item.task, outcome)
            bar.update(1)


def _record(out: Path, item: Planned, outcome: Outcome) -> str:
    """Save one outcome; the one-line log of it (empty when there is nothing to report)."""
    task = item.task
    seconds = outcome.timings.get("total_s", 0.0)
    if outcome.status == "none":  # references not meaningful for this type: remember, save nothing
        outputs.mark_no_references(out / task.confrontation.name, task.fingerprint)
        return ""
    outputs.save_outcome(out / task.directory, item.meta, outcome)
    if outcome.status == "ok":
        return f"ok     {task.confrontation.name:<24} {task.model_name:<24} {seconds:6.1f} s"
    if outcome.status == NOT_APPLICABLE:
        return f"n/a    {task.confrontation.name:<24} {task.model_name:<24} {outcome.reason}"
    return f"FAILED {task.confrontation.name:<24} {task.model_name:<24} {outcome.error}"


def _status_rows(out: Path, planned: list[Planned], results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in planned:
        task = item.task
        fresh = results.get(task.key)
        if fresh is not None and fresh["status"] == "none":
            continue
        meta = outputs.read_meta(out / task.directory) if fresh is None else None
        if fresh is None and meta is None:
            continue  # references with nothing to compare, reused from the marker
        status = fresh["status"] if fresh else meta.get("status", ERROR)
        error = fresh["error"] if fresh else (meta.get("error") or meta.get("reason") or "")
        seconds = fresh["seconds"] if fresh else (meta.get("timings") or {}).get("total_s", "")
        rows.append({
            "confrontation": task.confrontation.name, "model": task.model_name, "status": status, "error": error,
            "kind": task.confrontation.kind, "group": task.confrontation.group, "weight": task.confrontation.weight,
            "directory": task.directory, "reused": fresh is None, "seconds": seconds,
        })
    return rows


def _provenance(benchmark: Benchmark, confrontations: list[Confrontation], models: list[ModelSpec],
                options: RunOptions, summary: RunSummary, started: float, written: list[str]) -> dict[str, Any]:
    """``run.json``. ``results`` is the exact task set of this run: the report and the summaries
    read those directories only, never others left in ``OUT/`` by earlier runs."""
    return {
        "soilbench": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 2),
        "python": platform.python_version(),
        "synthetic": options.synthetic,
        "registry": options.registry,
        "data_dir": options.data_dir,
        "config": benchmark.as_dict(),
        "inputs": _inputs(confrontations),
        "models": [spec.describe() for spec in models],
        "execution": {"workers": options.workers, "scheduler": options.scheduler, "force": options.force},
        "tasks": {"total": len(summary.rows), "computed": summary.computed, "reused": summary.reused},
        "failures": [{k: row[k] for k in ("confrontation", "model", "error")} for row in summary.failures],
        "not_applicable": [{"confrontation": row["confrontation"], "model": row["model"], "reason": row["error"]}
                           for row in summary.not_applicable],
        "results": [{k: row[k] for k in ("confrontation", "model", "directory", "status")} for row in summary.rows],
        "summaries": written,
    }


def _report_workers(options: RunOptions) -> int | None:
    """Processes drawing the scorecard's figures when the run's own workers do not (all its tasks
    were reused): as many as the run's local workers (one, in this process, for a run in this
    process); with a scheduler, on this machine, one process per core (None)."""
    return None if options.scheduler else max(1, options.workers)


def _build_report(out: Path, progress: bool, report_dir: Path | None = None, workers: int | None = None,
                  executor: Any = None) -> Path | None:
    try:
        from soilbench.report import build_report
    except ModuleNotFoundError as err:
        if not (err.name or "").startswith("soilbench.report"):
            raise
        log.info("no report module in this installation; results are in %s", out)
        return None
    except ImportError as err:
        log.warning("the report could not be imported (%s); results are in %s", err, out)
        return None
    return build_report(out, report_dir, progress=progress, workers=workers, executor=executor)


def dumps_summary(summary: RunSummary) -> str:
    """One paragraph for the terminal."""
    failed = len(summary.failures)
    text = f"{len(summary.rows)} result(s) in {summary.out}: {summary.computed} computed, {summary.reused} reused"
    if summary.not_applicable:
        text += f", {len(summary.not_applicable)} not applicable"
    if failed:
        text += f", {failed} FAILED (see {summary.out / 'status.csv'})"
    return text
