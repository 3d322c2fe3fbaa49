"""``soilbench compare``: score changes per model and confrontation between two saved runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare the scores of two saved runs",
        description="Write a page and a CSV with the overall score of every model and confrontation in "
        "two runs, the change, and whether it improved or got worse.",
    )
    parser.add_argument("old", type=Path, metavar="OLD", help="results directory of the earlier run")
    parser.add_argument("new", type=Path, metavar="NEW", help="results directory of the later run")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to write compare.html/.csv")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from soilbench.atomic import writable_directory
    from soilbench.report import compare_runs

    writable_directory(args.out, "--out")
    page = compare_runs(args.old, args.new, args.out, progress=not args.no_progress)
    print(page)
    return 0
