"""What runs on a worker: one (model, confrontation) task, with per-process caches.

A task never raises: a bad model file or an analysis error becomes an :class:`Outcome` with
``status="error"`` and a one-line message, so one failure never takes the other tasks with it.
A model without the quantities a confrontation compares gives ``status="not_applicable"`` with
the reason (:meth:`Confrontation.applicable_to`), checked on the loaded model before confronting:
the variable names come with the load every task of that model shares, so nothing is read twice.

Each worker process keeps the model it loaded last (lazy, chunked by about a year of steps) and
the staged confrontations, so a confrontation's references are staged once per worker. The runner
hands a worker all tasks of one model together (:func:`run_tasks`), which first gathers every
confrontation's :meth:`~soilbench.confrontations.base.Confrontation.model_reductions`, drops
duplicate keys and computes them in ONE ``dask.compute`` (:func:`shared_reductions`): the model's
fields are read once per run and never held whole in memory; each confrontation then reads the
computed reductions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dask
import numpy as np
import xarray as xr

from soilbench.confrontations.base import NUMPY_ERRORS, Confrontation
from soilbench.errors import SoilbenchError
from soilbench.quantities import QUANTITIES
from soilbench.results import NOT_APPLICABLE, ConfrontationResult
from soilbench.runner.models import ModelSpec

log = logging.getLogger("soilbench.runner")

#: loaded models kept per worker: tasks arrive model by model, so one is enough, and a canonical
#: dataset of a real model can be large
MODEL_CACHE_SIZE = 1

_models: OrderedDict[str, xr.Dataset | BaseException] = OrderedDict()
_confrontations: dict[str, Confrontation] = {}


@dataclass(frozen=True)
class Task:
    """One unit of work: a confrontation against one model (or its references, ``model=None``)."""

    confrontation: Confrontation
    confrontation_fingerprint: str
    model: ModelSpec | None
    model_fingerprint: str | None
    fingerprint: str
    directory: str  # relative to the output directory: "<confrontation>/<model_slug>"
    data_dir: str | None = None
    registry: str | None = None  # a synthetic world's registry (soilbench.data.use_registry)
    #: canonical quantities the run's confrontations read (None: all); the loader keeps only these
    quantities: tuple[str, ...] | None = None

    @property
    def key(self) -> str:
        return self.directory

    @property
    def model_name(self) -> str:
        return self.model.name if self.model else "references"


@dataclass
class Outcome:
    """What a task produced; ``result`` is None on error (and for references when not meaningful)."""

    key: str
    status: str  # "ok", "error", "not_applicable" or "none" (confront_references had nothing to compare)
    result: ConfrontationResult | None = None
    error: str = ""
    reason: str = ""  # why the task is not applicable
    available: list[str] = field(default_factory=list)  # canonical quantities the model provides
    traceback: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    worker: str = ""


def one_line(err: BaseException) -> str:
    """The message a user sees for a failed task."""
    if isinstance(err, SoilbenchError):
        return err.one_line()
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _registry_context(path: str | None):
    if not path:
        return contextlib.nullcontext()
    from soilbench.data import use_registry

    return use_registry(path)


def load_cached(spec: ModelSpec, fingerprint: str, data_dir: str | None,
                quantities: tuple[str, ...] | None = None) -> tuple[xr.Dataset, bool]:
    """The model's canonical dataset, opened once per process (lazy); ``(dataset, was_cached)``.

    Only ``quantities`` are kept (all when None); see :func:`prepare_model`. A model that failed
    to load is remembered too, so its other confrontations fail fast with the same message
    instead of re-reading a bad file.
    """
    key = f"{fingerprint}:{','.join(sorted(quantities)) if quantities is not None else '*'}"
    if key in _models:
        _models.move_to_end(key)
        cached = _models[key]
        if isinstance(cached, BaseException):
            raise cached
        return cached, True
    while len(_models) >= MODEL_CACHE_SIZE:  # free the previous model before reading the next
        _models.popitem(last=False)
    try:
        dataset = prepare_model(spec.load(data_dir, quantities=quantities))
    except Exception as err:
        _remember(key, err)
        raise
    _remember(key, dataset)
    return dataset, False


def _remember(key: str, value: xr.Dataset | BaseException) -> None:
    _models[key] = value
    while len(_models) > MODEL_CACHE_SIZE:
        _models.popitem(last=False)


def steps_per_year(model: xr.Dataset) -> int:
    """Time steps in about a year (12 for monthly data), from the median step length."""
    median = float(np.median(model["step_days"].values)) if "step_days" in model.coords else 365.0
    return max(1, int(round(365.0 / max(median, 1e-9))))


def prepare_model(model: xr.Dataset) -> xr.Dataset:
    """Chunk the time axis by about one year; only the 2-D maps are read.

    The dataset stays dask-backed and nothing of it is held in memory: the confrontations'
    reductions (:func:`shared_reductions`) stream through it a year at a time, so temporaries
    are one chunk, not the whole record (a fully loaded numpy array would make every
    ``field * weights`` a full-length float64 copy).
    """
    if "time" in model.dims and model.sizes["time"] > 1:
        model = model.chunk({"time": steps_per_year(model)})
    # the 2-D maps (cell_area, land_fraction; a few MB) in memory: every confrontation multiplies
    # by them, and lazily each product would re-read the small files and pay dask's overhead
    static = [name for name in model.data_vars if "time" not in model[name].dims]
    if static:
        model = model.assign({name: model[name].load() for name in static})
    return model


def staged(task: Task) -> tuple[Confrontation, bool]:
    """The task's confrontation with its references staged, once per process."""
    key = f"{type(task.confrontation).__module__}.{type(task.confrontation).__qualname__}:" \
          f"{task.confrontation_fingerprint}:{task.data_dir}:{task.registry}"
    if key in _confrontations:
        return _confrontations[key], True
    confrontation = task.confrontation
    confrontation.stage_data()
    _confrontations[key] = confrontation
    return confrontation, False


def clear_caches() -> None:
    """Forget loaded models and staged confrontations (in-process runs call this at the end)."""
    _models.clear()
    _confrontations.clear()


def available_quantities(model: xr.Dataset) -> list[str]:
    """The canonical quantities (:data:`soilbench.quantities.QUANTITIES`) a loaded model provides.

    Includes those the loader found but did not keep (``attrs["quantities_available"]``), so a
    reason for "not applicable" lists everything the model has.
    """
    listed = set(str(model.attrs.get("quantities_available", "")).split())
    return [name for name in QUANTITIES if name in model.data_vars or name in listed]


def run_tasks(tasks: list[Task], scheduler: str = "synchronous") -> list[Outcome]:
    """Run the tasks of one model (one dask task per model): see :func:`iter_tasks`."""
    return list(iter_tasks(tasks, scheduler))


def iter_tasks(tasks: list[Task], scheduler: str = "synchronous") -> Iterator[Outcome]:
    """Run tasks that share one model (or references alone), yielding each outcome when done.

    With a model: its reductions for every task first, in one pass (:func:`shared_reductions`),
    then each confrontation with them. The pass's time is in the first outcome's
    ``timings["reduce_s"]``.
    """
    if not tasks or tasks[0].model is None:
        for task in tasks:
            yield run_task(task, scheduler)
        return
    mark = time.perf_counter()
    shared = shared_reductions(tasks, scheduler)
    seconds = time.perf_counter() - mark
    for position, task in enumerate(tasks):
        outcome = run_task(task, scheduler, shared)
        if position == 0:
            outcome.timings["reduce_s"] = seconds
        yield outcome


def shared_reductions(tasks: list[Task], scheduler: str = "synchronous") -> dict[Any, Any]:
    """Every reduction the tasks' confrontations read from their (common) model, computed in ONE
    ``dask.compute``: duplicate keys are computed once, and the model's fields are read once.

    Never raises: a task whose model, references or reductions cannot be built is left out (it
    fails with its own message when it runs); when the shared computation fails, nothing is
    shared and each confrontation computes its own, so an error is reported by the tasks it
    concerns rather than by every task of the model.
    """
    task = tasks[0]
    lazy: dict[Any, Any] = {}
    try:
        with _registry_context(task.registry), dask.config.set(scheduler=scheduler):
            model, _ = load_cached(task.model, task.model_fingerprint or "", task.data_dir, task.quantities)
            available = set(available_quantities(model))
            for each in tasks:
                try:
                    confrontation, _ = staged(each)
                    if confrontation.applicable_to(model, available):
                        continue
                    for key, value in confrontation.model_reductions(model).items():
                        lazy.setdefault(key, value)
                except Exception:  # reported by run_task for this task alone
                    continue
            if not lazy:
                return {}
            values = dask.compute(*lazy.values())  # the one pass over the model
    except Exception as err:
        log.info("%s: shared reductions failed (%s); each confrontation computes its own", task.model_name, one_line(err))
        return {}
    return dict(zip(lazy, values))


def run_task(task: Task, scheduler: str = "synchronous", reductions: dict[Any, Any] | None = None) -> Outcome:
    """Run one task; never raises for problems of the data or the analysis.

    ``scheduler`` is dask's scheduler for the task's own computations: ``"synchronous"`` on a
    single-threaded dask worker (nested scheduling there only costs), ``"threads"`` when the
    run is in this process, so decompression and reductions use the machine's cores.
    ``reductions`` are the model's computed reductions (:func:`shared_reductions`), passed to
    every confrontation (each takes the keys it declared).
    """
    outcome = Outcome(key=task.key, status="ok", worker=f"{socket.gethostname()}:{os.getpid()}")
    started = time.perf_counter()
    step = "staging references"
    try:
        with (_registry_context(task.registry), dask.config.set(scheduler=scheduler),
              np.errstate(**NUMPY_ERRORS)):
            confrontation, was_staged = staged(task)
            outcome.timings["stage_s"] = 0.0 if was_staged else time.perf_counter() - started
            if task.model is None:
                step = "comparing references"
                mark = time.perf_counter()
                result = confrontation.confront_references()
                outcome.timings["confront_s"] = time.perf_counter() - mark
                if result is None:
                    outcome.status = "none"
            else:
                step = "loading the model"
                mark = time.perf_counter()
                model, was_cached = load_cached(task.model, task.model_fingerprint or "", task.data_dir,
                                                task.quantities)
                outcome.timings["load_s"] = 0.0 if was_cached else time.perf_counter() - mark
                step = "checking the model's quantities"
                outcome.available = available_quantities(model)
                reason = confrontation.applicable_to(model, set(outcome.available))
                if reason:
                    outcome.status, outcome.reason = NOT_APPLICABLE, " ".join(str(reason).split())
                    outcome.timings["total_s"] = time.perf_counter() - started
                    return outcome
                step = "confronting"
                mark = time.perf_counter()
                result = confrontation.confront(model, reductions=reductions or None)
                outcome.timings["confront_s"] = time.perf_counter() - mark
            if result is not None and not isinstance(result, ConfrontationResult):
                raise TypeError(f"{type(confrontation).__name__} returned {type(result).__name__}, not a ConfrontationResult")
            outcome.result = result
    except Exception as err:  # every failure is recorded, never propagated: other tasks go on
        outcome.status = "error"
        outcome.error = one_line(err) if isinstance(err, SoilbenchError) else f"{step}: {one_line(err)}"
        outcome.traceback = "".join(traceback.format_exception(err))[-4000:]
    outcome.timings["total_s"] = time.perf_counter() - started
    return outcome
