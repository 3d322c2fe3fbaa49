"""The ``soilbench`` command.

Each sub-command lives in :mod:`soilbench.commands` as a module with ``register(subparsers)``
that adds its parser and sets ``func(args) -> int``. User-fixable problems
(:class:`~soilbench.errors.SoilbenchError`, and operating-system errors such as an output file
that cannot be replaced) print one line and exit 2; anything else is a soilbench bug and prints
one line and exits 3. No traceback is shown without ``--debug``, which shows it instead.
Everything printed goes through :mod:`soilbench.terminal` (no raw escape sequences).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from soilbench import __version__
from soilbench.errors import SoilbenchError
from soilbench.terminal import sanitised_output

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
    with sanitised_output():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
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
    except OSError as err:  # a file or directory the command cannot read or write
        if args.debug:
            raise
        print(f"soilbench: error: {os_error_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # a bug: still no traceback on the terminal unless asked for
        if args.debug:
            raise
        text = " ".join(str(err).split())[:500]
        print(f"soilbench: internal error: {type(err).__name__}: {text} (run 'soilbench --debug "
              f"{args.command} ...' for the traceback)", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("soilbench: interrupted", file=sys.stderr)
        return 130


def os_error_line(err: OSError) -> str:
    """``path: reason`` for an operating-system error, on one line."""
    reason = err.strerror or " ".join(str(err).split()) or type(err).__name__
    paths = [str(p) for p in (err.filename, err.filename2) if p is not None]
    where = " -> ".join(paths)
    return SoilbenchError(where or None, f"{reason} ({type(err).__name__})").one_line()
