"""The ``soilbench`` command.

Each sub-command lives in :mod:`soilbench.commands` as a module with ``register(subparsers)``
that adds its parser and sets ``func(args) -> int``. User-fixable problems
(:class:`~soilbench.errors.SoilbenchError`) print one line and exit 2; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from soilbench import __version__
from soilbench.errors import SoilbenchError

COMMANDS = ("demo", "run", "report", "compare", "inspect", "catalog", "fetch", "ilamb")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soilbench",
        description="Benchmark soil carbon cycle models (Rh, soil respiration, turnover time) against observations.",
    )
    parser.add_argument("--version", action="version", version=f"soilbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module_name = f"soilbench.commands.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue  # command not built yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(message)s" if not args.debug else "%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except SoilbenchError as err:
        if args.debug:
            raise
        print(f"soilbench: error: {err.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("soilbench: interrupted", file=sys.stderr)
        return 130
