"""HTML scorecard built from a run's saved results (never recomputes analyses).

:func:`build_report` writes the site; :func:`compare_runs` writes the score changes between
two runs. See ``docs/report.md``.
"""

from __future__ import annotations

from soilbench.report.build import build_report
from soilbench.report.compare import compare_runs

__all__ = ["build_report", "compare_runs"]
