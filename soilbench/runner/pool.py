"""Local worker processes forked after the references are staged, kept for the scorecard's figures.

A ``--workers N`` run on one machine starts its workers by forking this process once its
confrontations are staged (:func:`soilbench.runner.tasks.staged`): every worker starts with the
libraries imported and every reference in memory, shared copy-on-write, so the references are
read once per run rather than once per worker, and no worker imports anything. The tasks never
travel to the workers either: they are in the forked memory and each worker is sent only the
position of a model's group. When the scorecard follows, the drawing modules are imported
before the fork too and the same processes draw its figures (:attr:`LocalPool.executor`).

Forking is safe only while no other thread might hold a lock; :func:`fork_safe` says when (the
idle threads of :data:`IDLE_THREADS` aside). Otherwise, and where processes cannot be forked, the
runner starts a dask ``LocalCluster`` instead (:mod:`soilbench.runner.core`).

A worker that dies (killed for memory, a crash in compiled code) breaks the pool: the models it
might have been running are run again one at a time in a fresh process, so only the model that
kills its process fails ("worker failed"), like a dask worker lost with its task.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import dask
import numpy as np

from soilbench.confrontations.base import NUMPY_ERRORS
from soilbench.runner.tasks import Outcome, Task, _registry_context, run_tasks, staged

log = logging.getLogger("soilbench.runner")

#: threads that only wait on their own queue or sleep (tqdm's monitor, idle thread pools such as
#: dask's): a fork beside them copies no lock they hold
IDLE_THREADS = ("tqdm_monitor", "ThreadPoolExecutor-", "Dask-Offload")

#: the groups of the run being executed, inherited by the forked workers (sent by position only)
_GROUPS: list[list[Task]] = []


def fork_safe() -> bool:
    """Whether worker processes can be forked from this process now."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    return all(t.name.startswith(IDLE_THREADS) for t in others)


def _run_group(position: int) -> list[Outcome]:
    """In a worker: the tasks of one model (or one reference task), from the forked memory."""
    return run_tasks(_GROUPS[position])


def stage_all(tasks: list[Task]) -> int:
    """Stage every confrontation of ``tasks`` in this process (once each); the number staged.

    A confrontation that cannot be staged is left to its tasks, which fail with its message.
    Synchronous dask: no thread pool is left running before the fork.
    """
    count = 0
    seen: set[int] = set()
    for task in tasks:
        if id(task.confrontation) in seen:
            continue
        seen.add(id(task.confrontation))
        try:
            with _registry_context(task.registry), dask.config.set(scheduler="synchronous"), \
                    np.errstate(**NUMPY_ERRORS):
                _, was_staged = staged(task)
        except Exception as err:  # noqa: BLE001 - reported by the confrontation's own tasks
            log.info("%s: staging failed in the run's process (%s); its tasks report it",
                     task.confrontation.name, " ".join(str(err).split()))
            continue
        count += not was_staged
    return count


class LocalPool:
    """``workers`` processes forked from this one (see the module docstring); a context manager.

    :meth:`run` stages, forks and runs the groups; afterwards :attr:`executor` (the same
    processes) takes other work, e.g. the scorecard's figures. ``preload`` are modules imported
    before the fork (the drawing modules when a scorecard follows).
    """

    def __init__(self, workers: int, preload: tuple[str, ...] = ()):
        self.workers = max(1, workers)
        self.preload = preload
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        _GROUPS.clear()

    def _start(self, workers: int) -> concurrent.futures.ProcessPoolExecutor:
        executor = concurrent.futures.ProcessPoolExecutor(max_workers=workers,
                                                          mp_context=multiprocessing.get_context("fork"))
        # fork every worker now, while this process runs no thread of the pool's own
        executor.submit(int).result()
        return executor

    def run(self, groups: list[list[Task]]) -> Iterator[tuple[list[Task], list[Outcome]]]:
        """Each group with its outcomes, as they finish."""
        stage_all([task for group in groups for task in group])
        for name in self.preload:
            try:
                importlib.import_module(name)
            except ImportError as err:  # the workers import it themselves when they need it
                log.debug("cannot preload %s: %s", name, err)
        _GROUPS[:] = groups
        self.executor = self._start(min(self.workers, max(1, len(groups))))
        futures = {self.executor.submit(_run_group, position): position for position in range(len(groups))}
        broken: list[int] = []
        for future in concurrent.futures.as_completed(futures):
            position = futures[future]
            try:
                outcomes = future.result()
            except BrokenProcessPool:
                broken.append(position)
                continue
            except Exception as err:  # noqa: BLE001 - e.g. an outcome that cannot be pickled
                outcomes = _failed(groups[position], err)
            yield groups[position], outcomes
        if broken:
            yield from self._rerun_alone(groups, sorted(broken))

    def _rerun_alone(self, groups: list[list[Task]],
                     positions: list[int]) -> Iterator[tuple[list[Task], list[Outcome]]]:
        """After a worker died: each group it might have been running, alone in a fresh process."""
        log.warning("a worker process died; running %d model(s) again one at a time", len(positions))
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = None
        for position in positions:
            executor = self._start(1)
            try:
                outcomes = executor.submit(_run_group, position).result()
            except Exception as err:  # noqa: BLE001 - this group kills its process: it alone fails
                outcomes = _failed(groups[position], err)
            finally:
                executor.shutdown(wait=True, cancel_futures=True)
            yield groups[position], outcomes
        self.executor = self._start(self.workers)


def _failed(group: list[Task], err: BaseException) -> list[Outcome]:
    text = " ".join(str(err).split()) or type(err).__name__
    return [Outcome(key=task.key, status="error", error=f"worker failed: {text}") for task in group]
