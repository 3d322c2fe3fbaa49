"""``soilbench run``: run a benchmark definition against models, in parallel, with resume.

Exit status: 0 when every task succeeded or was not applicable, 1 when any task failed (its error is in
``OUT/status.csv`` and on its page; every other result and the scorecard are still written),
2 for a problem with the command line, the definition or the data (one line, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from soilbench.errors import SoilbenchError

log = logging.getLogger("soilbench.run")


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``demo``: where tasks run and where data comes from."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="worker processes of a local dask cluster (default: one per core, at most 4); 0 or 1 runs in this process",
    )
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a running dask scheduler, e.g. tcp://127.0.0.1:8786")
    parser.add_argument("--data-dir", metavar="DIR", help="data directory with the reference files")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@contextlib.contextmanager
def quiet_loaders(debug: bool) -> Iterator[None]:
    """The loaders log every filter step at INFO; on the terminal the progress lines say enough.

    Scoped to the ``with`` block: the previous levels come back afterwards, because the command
    may run inside a longer-lived process (``cli.main([...])`` from tests or a notebook) whose
    later logging must not change because a run happened.
    """
    if debug:
        yield
        return
    import distributed  # noqa: F401  (configures its loggers; override them after)

    names = ["soilbench.load", "soilbench.analysis", "soilbench.confrontations"]
    names += [n for n in logging.root.manager.loggerDict if n.startswith("distributed")]
    loggers = [logging.getLogger(name) for name in names]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, previous):
            logger.setLevel(level)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a benchmark definition against models",
        description="Confront every model with every confrontation of a benchmark definition; results go to "
        "OUT/<confrontation>/<model>/, OUT/scalars.csv, OUT/status.csv, OUT/run.json and the HTML scorecard. "
        "Unchanged results of an earlier run are reused. Exits 1 if any task failed.",
    )
    parser.add_argument(
        "--config", default=None, metavar="FILE",
        help="benchmark definition (a file, or the name of one in confrontations/; default: default)",
    )
    parser.add_argument(
        "--models", nargs="+", required=True, metavar="MODEL",
        help="model files or directories (the files given together are one model), catalog files, "
        "ESM collections (intake-esm JSON), catalog entry ids, registered model ids, or CSV files of annual "
        "global Rh totals (a model per file, or an ensemble table in the CMIP6 layout: docs/running.md)",
    )
    parser.add_argument(
        "--select", nargs="+", metavar="FACET=VALUE",
        help="datasets of an ESM collection given to --models, by facet (source_id=CESM2,MIROC-ES2L "
        "experiment_id=historical); several values of one facet: any of them",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--period", metavar="YYYY-YYYY", help="period of the model output to use")
    parser.add_argument("--force", action="store_true", help="recompute results even when unchanged")
    parser.add_argument("--no-report", action="store_true", help="do not build the HTML scorecard")
    add_execution_arguments(parser)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    with quiet_loaders(getattr(args, "debug", False)):
        return _run(args)


def load_benchmark(path: Path):
    """:func:`soilbench.config.load_benchmark`, imported when the command runs (not for ``--help``)."""
    from soilbench.config import load_benchmark as load

    return load(path)


def _run(args: argparse.Namespace) -> int:
    from soilbench.runner import RunOptions, dumps_summary, resolve_models, run_benchmark

    if args.workers is not None and args.workers < 0:
        raise SoilbenchError("--workers", "must be 0 or more")
    from soilbench.atomic import writable_directory

    writable_directory(args.out, "--out")
    benchmark = load_benchmark(config_path(args.config))
    models = resolve_models(args.models, data_dir=args.data_dir, period=parse_period(args.period),
                            select=getattr(args, "select", None))
    options = RunOptions(
        out=Path(args.out), scheduler=args.scheduler, force=args.force, data_dir=args.data_dir,
        progress=not args.quiet, report=not args.no_report,
    )
    if args.workers is not None:
        options.workers = args.workers
    _label_synthetic(options)
    summary = run_benchmark(benchmark, models, options)
    print(dumps_summary(summary))
    if summary.report is not None:
        print(f"scorecard: {summary.report}")
    return 0 if summary.ok else 1


def config_path(name_or_path: str | None) -> Path:
    """The ``--config`` file, the project's default benchmark when none is given (resolved here, not
    when the parser is built, so that ``--help`` does not import the confrontations)."""
    from soilbench.config import DEFAULT_CONFIG, resolve_config

    return DEFAULT_CONFIG if name_or_path is None else resolve_config(name_or_path)


def parse_period(text: str | None) -> tuple[int, int] | None:
    """``"2001-2010"`` → ``(2001, 2010)``."""
    if not text:
        return None
    first, sep, last = text.partition("-")
    if not (sep and first.isdigit() and last.isdigit() and int(first) <= int(last)):
        raise SoilbenchError("--period", f"expected YYYY-YYYY with the first year not after the last, got {text!r}")
    return int(first), int(last)


def _label_synthetic(options) -> None:
    """A run whose registry is a synthetic world's is labelled synthetic, however it was started."""
    from soilbench.data import synthetic_registry

    selected = synthetic_registry()
    if selected is not None:
        options.registry = str(selected)
        options.synthetic = True
