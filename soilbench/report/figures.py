"""Drawing the report's figures: once per content, in parallel, never again while unchanged.

Pages first say which figures they show (:meth:`FigureBook.add`: where the PNG goes and how to
draw it, a picklable callable such as ``functools.partial(plots.map_figure, field, title)``);
then :meth:`FigureBook.draw` draws them all and the pages are written with the figures that
could be drawn.

- **Content key.** Each figure's key is the sha256 of its drawing call pickled (the function and
  every input it reads: the saved fields and tables, titles, the colour limits shared across
  models) and of the plotting code (:func:`code_version`: the report's drawing modules, the
  coastlines, the matplotlib and cartopy versions). ``figures.json`` in the site records each
  PNG's key and sha256; a figure whose key and file are unchanged is not drawn again, so
  re-running the report on unchanged results redraws nothing.
- **Once per content.** Figures with the same key in one build (the same reference map shown for
  several models) are drawn once and written to every place that shows them.
- **In parallel.** The figures left to draw go to a pool of worker processes (``workers > 1``):
  forked when this process runs no other thread (idle ones aside, :data:`IDLE_THREADS`), else
  from a fork server that has imported the drawing modules once. A figure that cannot be drawn is logged and left off its page.
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


@dataclass
class FigureJob:
    """One figure a page shows: its site-relative PNG path and how to draw it.

    ``ok`` is None until :meth:`FigureBook.draw` ran, then whether the PNG is in place.
    """

    path: str
    draw: Callable[[], bytes]
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
    """The figures of one report build (see the module docstring)."""

    def __init__(self, site: Any):
        self.site = site
        self.jobs: list[FigureJob] = []

    def add(self, path: str, draw: Callable[[], bytes], description: str) -> FigureJob:
        job = FigureJob(path, draw, description)
        self.jobs.append(job)
        return job

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

    def _current(self, job: FigureJob, manifest: dict[str, dict[str, str]]) -> bool:
        entry = manifest.get(job.path)
        if job.key is None or entry is None or entry["key"] != job.key:
            return False
        return _sha256(self.site.path(job.path)) == entry["sha256"]

    # -- drawing ------------------------------------------------------------------------------------
    def draw(self, workers: int = 1, on_figure: Callable[[str], None] | None = None) -> DrawStats:
        """Draw every figure not current on disk, ``workers`` processes at a time; write the PNGs
        and ``figures.json``. Each job's ``ok`` says whether its page may show it."""
        stats = DrawStats(figures=len(self.jobs))
        manifest = self._read_manifest()
        kept: dict[str, dict[str, str]] = {}
        pending: dict[str, list[FigureJob]] = {}  # key (or the path, when unkeyed) → jobs showing it
        for job in self.jobs:
            job.key = figure_key(job.draw)
            if self._current(job, manifest):
                job.ok = True
                kept[job.path] = manifest[job.path]
                stats.reused += 1
                if on_figure:
                    on_figure(job.description)
                continue
            pending.setdefault(job.key or f"unkeyed:{job.path}", []).append(job)
        stats.shared = sum(len(jobs) - 1 for jobs in pending.values())

        def finish(jobs: list[FigureJob], png: bytes | None, error: BaseException | None) -> None:
            for job in jobs:
                if png is None:
                    job.ok = False
                    log.warning("report: cannot draw %s: %s", job.description, " ".join(str(error).split()))
                else:
                    self.site.write_bytes(job.path, png)
                    job.ok = True
                    if job.key is not None:
                        kept[job.path] = {"key": job.key, "sha256": hashlib.sha256(png).hexdigest()}
                if on_figure:
                    on_figure(job.description)
            if png is None:
                stats.failed += len(jobs)
            else:
                stats.drawn += 1

        # a drawing call that cannot be pickled cannot go to another process either
        portable = [jobs for jobs in pending.values() if jobs[0].key is not None]
        here = [jobs for jobs in pending.values() if jobs[0].key is None]
        if workers > 1 and len(portable) > 1:
            self._draw_in_pool(portable, workers, finish)
        else:
            here = portable + here
        for jobs in here:
            try:
                png = jobs[0].draw()
            except Exception as err:  # noqa: BLE001 - one bad table must not lose the whole report
                finish(jobs, None, err)
            else:
                finish(jobs, png, None)
        atomic.write_text(self.site.path(MANIFEST),
                          json.dumps({"code_version": code_version(), "figures": dict(sorted(kept.items()))},
                                     indent=1))
        log.info("report: %d figures: %d drawn (%d shown more than once), %d unchanged, %d failed",
                 stats.figures, stats.drawn, stats.shared, stats.reused, stats.failed)
        return stats

    @staticmethod
    def _draw_in_pool(groups: list[list[FigureJob]], workers: int,
                      finish: Callable[[list[FigureJob], bytes | None, BaseException | None], None]) -> None:
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(groups)),
                                                    mp_context=_context()) as pool:
            futures = {}
            for jobs in groups:
                try:
                    futures[pool.submit(_draw, jobs[0].draw)] = jobs
                except Exception as err:  # noqa: BLE001 - e.g. a broken pool: say which figure
                    finish(jobs, None, err)
            for future in concurrent.futures.as_completed(futures):
                error = future.exception()
                finish(futures[future], None if error else future.result(), error)


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
