"""What runs on a worker: one (model, confrontation) task, with per-process caches.

A task never raises: a bad model file or an analysis error becomes an :class:`Outcome` with
``status="error"`` and a one-line message, so one failure never takes the other tasks with it.
A model without the quantities a confrontation compares gives ``status="not_applicable"`` with
the reason (:meth:`Confrontation.applicable`), checked on the loaded model before confronting:
the variable names come with the load every task of that model shares, so nothing is read twice.

Each worker process keeps the model it loaded last (lazy, chunked by about a year of steps, with
the quantities several confrontations read held in memory) and the staged confrontations, so a
model is read once per worker (not once per confrontation) and a confrontation's references are
staged once per worker. The runner hands a worker all tasks of one model together
(:func:`run_tasks`), so each model is opened once per run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import dask
import numpy as np
import xarray as xr

from soilbench.confrontations.base import Confrontation
from soilbench.errors import SoilbenchError
from soilbench.quantities import QUANTITIES
from soilbench.results import NOT_APPLICABLE, ConfrontationResult
from soilbench.runner.models import ModelSpec

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
    #: quantities read by several confrontations: held in memory once loaded, the others stay lazy
    in_memory: tuple[str, ...] = ()

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
                quantities: tuple[str, ...] | None = None, in_memory: tuple[str, ...] = ()) -> tuple[xr.Dataset, bool]:
    """The model's canonical dataset, loaded once per process; ``(dataset, was_cached)``.

    Only ``quantities`` are kept (all when None); see :func:`prepare_model` for what is read
    into memory. A model that failed to load is remembered too, so its other confrontations
    fail fast with the same message instead of re-reading a bad file.
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
        dataset = prepare_model(spec.load(data_dir, quantities=quantities), in_memory)
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


def prepare_model(model: xr.Dataset, in_memory: tuple[str, ...] = ()) -> xr.Dataset:
    """Chunk the time axis by about one year and hold ``in_memory`` quantities in memory.

    The dataset stays dask-backed: analyses reduce it chunk by chunk, so their temporaries are
    a year of data, not the whole record (a fully loaded numpy array would make every
    ``field * weights`` a full-length float64 copy). Quantities several confrontations read are
    persisted (read and decompressed once, kept as in-memory chunks); a quantity only one
    confrontation reads is left on disk and read by that confrontation, which costs the same
    read without holding it.
    """
    if "time" in model.dims and model.sizes["time"] > 1:
        model = model.chunk({"time": steps_per_year(model)})
    keep = [q for q in in_memory if q in model.data_vars]
    if keep:
        persisted = dask.persist(*[model[q] for q in keep])
        model = model.assign(dict(zip(keep, persisted)))
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
    """Run the tasks of one model one after the other (one dask task per model: one read)."""
    return [run_task(task, scheduler) for task in tasks]


def run_task(task: Task, scheduler: str = "synchronous") -> Outcome:
    """Run one task; never raises for problems of the data or the analysis.

    ``scheduler`` is dask's scheduler for the task's own computations: ``"synchronous"`` on a
    single-threaded dask worker (nested scheduling there only costs), ``"threads"`` when the
    run is in this process, so decompression and reductions use the machine's cores.
    """
    outcome = Outcome(key=task.key, status="ok", worker=f"{socket.gethostname()}:{os.getpid()}")
    started = time.perf_counter()
    step = "staging references"
    try:
        with _registry_context(task.registry), dask.config.set(scheduler=scheduler):
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
                                                task.quantities, task.in_memory)
                outcome.timings["load_s"] = 0.0 if was_cached else time.perf_counter() - mark
                step = "checking the model's quantities"
                outcome.available = available_quantities(model)
                reason = confrontation.applicable(set(outcome.available))
                if reason:
                    outcome.status, outcome.reason = NOT_APPLICABLE, " ".join(str(reason).split())
                    outcome.timings["total_s"] = time.perf_counter() - started
                    return outcome
                step = "confronting"
                mark = time.perf_counter()
                result = confrontation.confront(model)
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
