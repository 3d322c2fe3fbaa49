"""Run benchmarks: (model, confrontation) tasks on dask.distributed, with caching and resume.

See ``docs/running.md``. The pieces: :mod:`~soilbench.runner.models` (what ``--models`` names),
:mod:`~soilbench.runner.tasks` (what runs on a worker), :mod:`~soilbench.runner.outputs` (the
files of a run), :mod:`~soilbench.runner.summaries` (cross-model summaries after the tasks) and
:mod:`~soilbench.runner.core` (planning, skipping and execution).
"""

from soilbench.runner.core import RunOptions, RunSummary, default_workers, dumps_summary, run_benchmark
from soilbench.runner.models import ModelSpec, resolve_models

__all__ = ["ModelSpec", "RunOptions", "RunSummary", "default_workers", "dumps_summary", "resolve_models", "run_benchmark"]
