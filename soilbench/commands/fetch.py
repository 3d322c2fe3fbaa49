"""``soilbench fetch``: make registered reference files available locally (verified)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from soilbench import data
from soilbench.errors import SoilbenchError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch",
        help="download and verify registered reference data",
        description="Check that each registered dataset is present with the right sha256, and "
        "download it when it is not. With no ID, every dataset in the registry.",
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="registry ids (default: all)")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="data directory (default: SOILBENCH_DATA_DIR, ../shared/data, the user cache)",
    )
    parser.add_argument("--no-download", action="store_true", help="only check what is present")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ids = args.ids or list(data.registry())
    for dataset_id in ids:
        data.entry(dataset_id)  # unknown ids fail before anything is downloaded
    print(f"data directory: {data.data_dir(args.data_dir)}")
    present = downloaded = 0
    failures: list[str] = []
    for number, dataset_id in enumerate(ids, 1):
        prefix = f"[{number}/{len(ids)}] {dataset_id}"
        try:
            already = data.locate(dataset_id, args.data_dir)
            path = already or data.fetch(
                dataset_id, args.data_dir, allow_download=not args.no_download, progressbar=sys.stderr.isatty()
            )
        except SoilbenchError as err:
            failures.append(err.one_line())
            print(f"{prefix}: FAILED: {err.one_line()}")
            continue
        if already:
            present += 1
            print(f"{prefix}: present, sha256 ok ({path})")
        else:
            downloaded += 1
            print(f"{prefix}: downloaded, sha256 ok ({path})")
    print(f"{present} present, {downloaded} downloaded, {len(failures)} failed")
    return 2 if failures else 0
