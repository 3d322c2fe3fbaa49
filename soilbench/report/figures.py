"""Drawing the report's figures: once per content, in parallel, never again while unchanged.

Pages say which figures they show (:meth:`FigureBook.add`: where the PNG goes and how to draw it,
a picklable callable such as ``functools.partial(plots.map_figure, field, title)``); each is
drawn as it is added, and a page is written once its figures are in place (:meth:`FigureBook.wait`),
with the figures that could be drawn.

- **Content key.** Each figure's key is the sha256 of its drawing call pickled (the function and
  every input it reads: the saved fields and tables, titles, the colour limits shared across
  models) and of the plotting code (:func:`code_version`: the report's drawing modules, the
  coastlines, the matplotlib and cartopy versions). ``figures.json`` in the site records each
  PNG's key and sha256; a figure whose key and file are unchanged is not drawn again, so
  re-running the report on unchanged results redraws nothing.
- **Once per content.** Figures with the same key in one build (the same reference map shown for
  several models) are drawn once and written to every place that shows them.
- **In parallel.** The figures left to draw go to the run's own worker processes when the run
  forked them (:mod:`soilbench.runner.pool`), else to a pool of processes (``workers > 1``):
  forked when this process runs no other thread (idle ones aside, :data:`IDLE_THREADS`), else
  from a fork server that has imported the drawing modules once. A figure that cannot be drawn
  is logged and left off its page.
- **Streamed.** Only a few figures per drawing process wait at a time (:data:`IN_FLIGHT`), and a
  figure's data is let go once it is drawn: the report's memory does not grow with the number
  of models.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import json
import logging
import multiprocessing
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soilbench import atomic

log = logging.getLogger(__name__)

MANIFEST = "figures.json"
PACKAGE_DIR = Path(__file__).resolve().parent
#: what a figure's pixels depend on besides its inputs
CODE_FILES = ("plots.py", "projection.py", "summary_figures.py", "coastlines.py", "units.py",
              "resources/coastlines_110m.json")
#: modules the fork server imports once, so that each drawing process starts ready
PRELOAD = ("soilbench.report.plots", "soilbench.report.projection", "soilbench.report.summary_figures",
           "cartopy.crs")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """sha256 of the drawing code and the libraries' versions: a change redraws every figure."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    for name in CODE_FILES:
        digest.update(name.encode() + b"\0" + (PACKAGE_DIR / name).read_bytes() + b"\0")
    for package in ("matplotlib", "cartopy", "numpy"):
        try:
            digest.update(f"{package}={version(package)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{package}=?\0".encode())
    return digest.hexdigest()


def figure_key(draw: Callable[[], bytes]) -> str | None:
    """The content key of a drawing call; None when it cannot be pickled (then it is always drawn)."""
    try:
        payload = pickle.dumps(draw, protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    return hashlib.sha256(code_version().encode() + b"\0" + payload).hexdigest()


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _draw(draw: Callable[[], bytes]) -> bytes:
    """Run in a drawing process: the PNG's bytes."""
    return draw()


#: figures waiting for a drawing process, per process: enough to keep each busy, few enough that
#: the report holds the data of a few figures only
IN_FLIGHT = 3


@dataclass
class FigureJob:
    """One figure a page shows: its site-relative PNG path and how to draw it.

    ``ok`` is None until :meth:`FigureBook.draw` ran, then whether the PNG is in place.
    """

    path: str
    draw: Callable[[], bytes] | None
    description: str
    key: str | None = None
    ok: bool | None = None


@dataclass
class DrawStats:
    """What :meth:`FigureBook.draw` did (for the log and the tests)."""

    figures: int = 0
    drawn: int = 0
    reused: int = 0
    shared: int = 0
    failed: int = 0


class FigureBook:
    """The figures of one report build (see the module docstring).

    Figures are drawn as they are added (:meth:`add`): in this process with ``workers=1``, else
    by ``executor`` (the run's own worker processes) or a pool of ``workers`` processes started
    at the first figure to draw. At most :data:`IN_FLIGHT` figures per process are waiting, and a
    job lets go of its drawing call (its data) once drawn, so the report holds the figures of a
    few models at a time whatever the number of models. :meth:`wait` waits for every figure
    added so far (a page is written once its figures are in place); :meth:`finish` writes
    ``figures.json`` and stops the pool this book started.
    """

    def __init__(self, site: Any, workers: int = 1, executor: concurrent.futures.Executor | None = None,
                 on_figure: Callable[[str], None] | None = None):
        self.site = site
        self.workers = max(1, workers)
        self.on_figure = on_figure
        self._executor = executor
        self._own_executor: concurrent.futures.Executor | None = None
        self._manifest = self._read_manifest()
        self._kept: dict[str, dict[str, str]] = {}
        self._drawn: dict[str, str] = {}  # key → path of the PNG written in this build
        self._waiting: dict[str, list[FigureJob]] = {}  # key → jobs showing the figure being drawn
        self._futures: dict[concurrent.futures.Future, str] = {}
        self.stats = DrawStats()

    # -- the manifest of the PNGs in place ----------------------------------------------------------
    def _read_manifest(self) -> dict[str, dict[str, str]]:
        path = self.site.path(MANIFEST)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        figures = document.get("figures") if isinstance(document, dict) else None
        if not isinstance(figures, dict):
            return {}
        return {str(k): v for k, v in figures.items()
                if isinstance(v, dict) and isinstance(v.get("key"), str) and isinstance(v.get("sha256"), str)}

    def _current(self, job: FigureJob) -> bool:
        entry = self._manifest.get(job.path)
        if job.key is None or entry is None or entry["key"] != job.key:
            return False
        return _sha256(self.site.path(job.path)) == entry["sha256"]

    # -- drawing ------------------------------------------------------------------------------------
    def add(self, path: str, draw: Callable[[], bytes], description: str) -> FigureJob:
        """A figure a page shows: reused when current on disk, copied when the same content was
        drawn in this build, else drawn (now, or by a drawing process). ``job.ok`` is set once it
        is in place (or could not be drawn); after :meth:`wait` it is set for every job."""
        job = FigureJob(path, draw, description, key=figure_key(draw))
        self.stats.figures += 1
        if self._current(job):
            self._kept[job.path] = self._manifest[job.path]
            self.stats.reused += 1
            self._done(job, True)
            return job
        if job.key is not None and job.key in self._waiting:
            self._waiting[job.key].append(job)
            self.stats.shared += 1
            return job
        if job.key is not None and job.key in self._drawn:
            self.stats.shared += 1
            self._copy(self._drawn[job.key], job)
            return job
        executor = self._pool() if job.key is not None else None  # an unkeyed call may not pickle
        if executor is None:
            try:
                png = job.draw()
            except Exception as err:  # noqa: BLE001 - one bad table must not lose the whole report
                self._finish([job], None, err)
            else:
                self._finish([job], png, None)
            return job
        while len(self._futures) >= IN_FLIGHT * self.workers:
            self._collect(concurrent.futures.FIRST_COMPLETED)
        try:
            future = executor.submit(_draw, job.draw)
        except Exception as err:  # noqa: BLE001 - e.g. a broken pool: say which figure
            self._finish([job], None, err)
            return job
        self._waiting[job.key] = [job]
        self._futures[future] = job.key
        return job

    def wait(self) -> DrawStats:
        """Wait until every figure added so far is in place (or failed)."""
        while self._futures:
            self._collect(concurrent.futures.ALL_COMPLETED)
        return self.stats

    def finish(self) -> DrawStats:
        """Wait for every figure, write ``figures.json``, stop a pool started by this book."""
        self.wait()
        if self._own_executor is not None:
            self._own_executor.shutdown(wait=True)
            self._own_executor = None
        atomic.write_text(self.site.path(MANIFEST),
                          json.dumps({"code_version": code_version(), "figures": dict(sorted(self._kept.items()))},
                                     indent=1))
        stats = self.stats
        log.info("report: %d figures: %d drawn (%d shown more than once), %d unchanged, %d failed",
                 stats.figures, stats.drawn, stats.shared, stats.reused, stats.failed)
        return stats

    def _pool(self) -> concurrent.futures.Executor | None:
        if self._executor is not None:
            return self._executor
        if self.workers <= 1:
            return None
        if self._own_executor is None:
            self._own_executor = concurrent.futures.ProcessPoolExecutor(max_workers=self.workers,
                                                                        mp_context=_context())
        return self._own_executor

    def _collect(self, return_when: str) -> None:
        done, _ = concurrent.futures.wait(list(self._futures), return_when=return_when)
        for future in done:
            key = self._futures.pop(future)
            jobs = self._waiting.pop(key)
            error = future.exception()
            self._finish(jobs, None if error else future.result(), error)

    def _finish(self, jobs: list[FigureJob], png: bytes | None, error: BaseException | None) -> None:
        for job in jobs:
            if png is None:
                log.warning("report: cannot draw %s: %s", job.description, " ".join(str(error).split()))
                self._done(job, False)
                continue
            self.site.write_bytes(job.path, png)
            if job.key is not None:
                self._kept[job.path] = {"key": job.key, "sha256": hashlib.sha256(png).hexdigest()}
                self._drawn.setdefault(job.key, job.path)
            self._done(job, True)
        if png is None:
            self.stats.failed += len(jobs)
        else:
            self.stats.drawn += 1

    def _copy(self, source: str, job: FigureJob) -> None:
        png = self.site.path(source).read_bytes()
        self.site.write_bytes(job.path, png)
        self._kept[job.path] = {"key": job.key, "sha256": hashlib.sha256(png).hexdigest()}
        self._done(job, True)

    def _done(self, job: FigureJob, ok: bool) -> None:
        job.ok = ok
        job.draw = None  # its data: no longer needed
        if self.on_figure:
            self.on_figure(job.description)


#: threads that only sleep and touch nothing the drawing code uses: forking beside them is safe
#: (tqdm starts its monitor for every progress bar, shown or not)
IDLE_THREADS = ("tqdm_monitor",)


def _context() -> multiprocessing.context.BaseContext:
    """Fork when this process runs no other thread (cheapest: the drawing modules are loaded);
    else a fork server, since forking a process with threads can copy a held lock."""
    methods = multiprocessing.get_all_start_methods()
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and t.name not in IDLE_THREADS]
    if "fork" in methods and not others:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:  # Windows: every drawing process imports the modules itself
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context
