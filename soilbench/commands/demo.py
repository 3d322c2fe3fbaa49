"""``soilbench demo``: every confrontation on the default data, a complete scorecard, offline.

Default data: the real files when the data directory has every one the default benchmark and
the testbed models (CASA-CNP, MIMICS) need (verified by sha256, never downloaded here); else, or
with ``--synthetic``, the built-in synthetic world (:mod:`soilbench.synthetic`), generated into
``DIR/synthetic-data`` and labelled synthetic on every page.

Layout of ``DIR`` (``./soilbench-demo`` by default): the scorecard at ``DIR/index.html`` (opened
directly), the run's results under ``DIR/results/`` (the ``OUT/`` of ``soilbench run``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path

from soilbench.commands.run import add_execution_arguments, config_path, quiet_loaders
from soilbench.errors import SoilbenchError

log = logging.getLogger("soilbench.demo")

DEFAULT_OUT = "soilbench-demo"
DEMO_MODELS = ("testbed-casacnp", "testbed-mimics")
SYNTHETIC_DIR = "synthetic-data"
RESULTS_DIR = "results"  # the run's OUT/; the scorecard itself is written at the top of the demo directory


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run every confrontation on the default data and write a scorecard",
        description="Run the default benchmark on the testbed models and the registered references when the data "
        "directory has them, otherwise (or with --synthetic) on a small built-in synthetic world. Works offline.",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"demo directory: scorecard DIR/index.html, results DIR/{RESULTS_DIR}/ (default ./{DEFAULT_OUT})")
    parser.add_argument("--synthetic", action="store_true", help="use the built-in synthetic world even if real data exist")
    parser.add_argument("--config", default=None, metavar="FILE", help="benchmark definition (default: default)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the synthetic world")
    parser.add_argument("--force", action="store_true", help="recompute results even when unchanged")
    parser.add_argument("--no-report", action="store_true", help="do not build the HTML scorecard")
    add_execution_arguments(parser)
    parser.set_defaults(func=main)


def missing_real_data(config: Path, data_dir: str | None) -> list[str]:
    """Registry ids the real demo needs that are not verified in the data directory (no network)."""
    from soilbench.config import load_benchmark
    from soilbench.data import registry, status
    from soilbench.runner.core import data_ids

    benchmark = load_benchmark(config)
    needed = {i for c in benchmark.build(data_dir) for i in data_ids(c)} | set(DEMO_MODELS)
    known = registry()
    return sorted(i for i in needed if i in known and status(i, data_dir)[0] != "verified")


def main(args: argparse.Namespace) -> int:
    with quiet_loaders(getattr(args, "debug", False)):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from soilbench import data
    from soilbench.config import load_benchmark
    from soilbench.runner import ModelSpec, RunOptions, dumps_summary, resolve_models, run_benchmark
    from soilbench.synthetic import DEFAULT_SEED, generate_world

    if data.synthetic_registry() is not None:
        raise SoilbenchError(data.SYNTHETIC_REGISTRY_ENV, "is set; unset it (the demo selects the synthetic world itself)")
    from soilbench.atomic import writable_directory

    out = writable_directory(args.out, "--out")
    config = config_path(args.config)
    options = RunOptions(out=out / RESULTS_DIR, scheduler=args.scheduler, force=args.force, progress=not args.quiet,
                         report=not args.no_report, report_dir=out)
    if args.workers is not None:
        options.workers = args.workers

    synthetic = args.synthetic
    if not synthetic:
        missing = missing_real_data(config, args.data_dir)
        if missing:
            log.warning("real data not found in %s (%s); running on the built-in SYNTHETIC world instead",
                        data.data_dir(args.data_dir), ", ".join(missing))
            synthetic = True

    context: contextlib.AbstractContextManager = contextlib.nullcontext()
    if synthetic:
        world = generate_world(out / SYNTHETIC_DIR, seed=DEFAULT_SEED if args.seed is None else args.seed)
        options.data_dir, options.registry, options.synthetic = str(world.root), str(world.registry), True
        context = data.use_registry(world.registry)
    else:
        options.data_dir = args.data_dir

    with context:  # the synthetic registry for this process and the workers started inside
        benchmark = load_benchmark(config)
        if synthetic:
            models = [ModelSpec(name=name, paths=(str(path),)) for name, path in world.models.items()]
        else:
            models = resolve_models(DEMO_MODELS, data_dir=args.data_dir)
        summary = run_benchmark(benchmark, models, options)
    print(dumps_summary(summary))
    if synthetic:
        print("note: SYNTHETIC data (generated, not observations): the scores only show that soilbench works")
    if summary.report is not None:
        print(f"scorecard: {summary.report}")
    return 0 if summary.ok else 1
