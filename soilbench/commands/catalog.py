"""``soilbench catalog``: list and show catalog entries, add a model to a user catalog."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from soilbench import catalogs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="list, show and add catalog entries (observations, models)",
        description="Browse soilbench's catalogs (catalogs/*.yaml and SOILBENCH_CATALOGS) and add models.",
    )
    actions = parser.add_subparsers(dest="catalog_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="table of entries: id, kind, description")
    _catalog_option(listing)
    listing.add_argument("--kind", choices=catalogs.KINDS, help="only entries of this kind")
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", help="every field of one entry, with its local file status")
    show.add_argument("id", help="entry id (see `soilbench catalog list`)")
    _catalog_option(show)
    _data_dir_option(show)
    show.set_defaults(func=run_show)

    add = actions.add_parser(
        "add-model",
        help="add a model (TRENDY directory, CMIP6 files) to a user catalog",
        description="Write an entry for model NAME into a user catalog, atomically. PATHs are NetCDF "
        "files, globs or directories (meaning their *.nc files); they must lie inside the data "
        "directory or the catalog's directory.",
    )
    add.add_argument("name", help="model name; becomes the entry id")
    add.add_argument("paths", nargs="+", metavar="PATH", help="NetCDF file, glob or directory")
    add.add_argument(
        "--catalog", type=Path, default=None,
        help=f"catalog file to write (default {catalogs.LOCAL_MODELS})",
    )
    add.add_argument("--format", choices=("trendy", "cmip6", "testbed", "files"), help="how the output is laid out (recorded in the entry)")
    add.add_argument("--description", help="one-line description")
    add.add_argument("--period", help="period covered, YYYY-YYYY")
    _data_dir_option(add)
    add.set_defaults(func=run_add_model)


def _catalog_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog", type=Path, action="append", default=None, metavar="FILE",
        help="use this catalog file instead of the default catalogs (repeatable)",
    )


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="data directory (default: SOILBENCH_DATA_DIR, ../shared/data, the user cache)",
    )


def _selected(args: argparse.Namespace) -> list[catalogs.SafeCatalog]:
    if args.catalog:
        return [catalogs.open_catalog(path) for path in args.catalog]
    return catalogs.default_catalogs()


def run_list(args: argparse.Namespace) -> int:
    entries = [e for e in catalogs.all_entries(_selected(args)).values() if not args.kind or e.kind == args.kind]
    if not entries:
        print("no catalog entries")
        return 0
    rows = [(e.id, e.kind, e.description, e.catalog.name) for e in entries]
    headers = ("id", "kind", "description", "catalog")
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) for i in range(3)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  " + headers[3])
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)) + "  " + row[3])
    return 0


def run_show(args: argparse.Namespace) -> int:
    entry = catalogs.find_entry(args.id, _selected(args))
    for key, value in entry.describe(args.data_dir).items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        print(f"{key + ':':<18} {text}")
    return 0


def run_add_model(args: argparse.Namespace) -> int:
    entry = catalogs.add_model(
        args.name, args.paths, args.catalog, args.data_dir,
        description=args.description, format=args.format, period=args.period,
    )
    files = entry.paths(args.data_dir)
    print(f"added model '{entry.id}' ({len(files)} file{'s' if len(files) != 1 else ''}) to {entry.catalog}")
    return 0
