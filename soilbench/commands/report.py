"""``soilbench report``: rebuild the HTML scorecard from a run's saved results."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="build the HTML scorecard of a saved run",
        description="Build the offline HTML scorecard (scoreboard, one page per confrontation, data and "
        "provenance) from the results a run saved. Nothing is recomputed.",
    )
    parser.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="directory written by 'soilbench run'")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="where to write the site (default: RESULTS_DIR/_report)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from soilbench.atomic import writable_directory
    from soilbench.report import build_report  # matplotlib/cartopy only when the command runs

    if args.out is not None:
        writable_directory(args.out, "--out")
    index = build_report(args.results_dir, args.out, progress=not args.no_progress)
    print(index)
    return 0
