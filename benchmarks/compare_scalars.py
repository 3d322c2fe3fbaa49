"""Compare two ``scalars.csv`` files row by row, to a tolerance.

A redesign that must not move any number (a refactor, a new registration path) is checked by
running the same benchmark before and after and comparing the two ``OUT/scalars.csv``::

    python benchmarks/compare_scalars.py before/scalars.csv after/scalars.csv --tolerance 1e-9

Rows are matched on the key columns (model, confrontation, reference, region, analysis, name,
type, units). A row present on one side only, a value that differs by more than the tolerance
(absolute, or relative to the larger magnitude), or a NaN on one side only is a difference.
Prints each difference on one line and exits 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

KEY_COLUMNS = ["model", "confrontation", "reference", "region", "analysis", "name", "type", "units"]


def read_scalars(path: Path) -> pd.DataFrame:
    """The scalar table keyed by :data:`KEY_COLUMNS` (missing keys read as empty strings)."""
    frame = pd.read_csv(path, keep_default_na=False, na_values={"value": ["", "nan", "NaN"]})
    missing = [c for c in [*KEY_COLUMNS, "value"] if c not in frame.columns]
    if missing:
        raise SystemExit(f"{path}: not a scalars.csv, missing columns {missing}")
    frame["value"] = frame["value"].astype(float)
    duplicated = frame.duplicated(KEY_COLUMNS, keep=False)
    if duplicated.any():
        # Duplicate keys cannot be matched one to one; number them in file order so each
        # occurrence is compared with the same occurrence on the other side.
        frame["occurrence"] = frame.groupby(KEY_COLUMNS).cumcount()
    else:
        frame["occurrence"] = 0
    return frame.set_index([*KEY_COLUMNS, "occurrence"])["value"]


def values_differ(before: float, after: float, tolerance: float) -> bool:
    """Whether two values differ beyond ``tolerance`` (absolute or relative); NaN equals NaN."""
    if math.isnan(before) or math.isnan(after):
        return math.isnan(before) != math.isnan(after)
    scale = max(1.0, abs(before), abs(after))
    return abs(before - after) > tolerance * scale


def differences(before: pd.Series, after: pd.Series, tolerance: float) -> list[str]:
    """One line per key present on one side only or whose values differ beyond the tolerance."""
    lines = []
    for key in before.index.difference(after.index):
        lines.append(f"only in first: {'|'.join(map(str, key))} = {float(before[key])!r}")
    for key in after.index.difference(before.index):
        lines.append(f"only in second: {'|'.join(map(str, key))} = {float(after[key])!r}")
    for key in before.index.intersection(after.index):
        first, second = float(before[key]), float(after[key])
        if values_differ(first, second, tolerance):
            lines.append(f"differs: {'|'.join(map(str, key))}: {first!r} != {second!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path, help="scalars.csv (e.g. before the change)")
    parser.add_argument("second", type=Path, help="scalars.csv (e.g. after the change)")
    parser.add_argument("--tolerance", type=float, default=1e-9,
                        help="largest allowed |difference| / max(1, |values|) (default 1e-9)")
    args = parser.parse_args(argv)
    lines = differences(read_scalars(args.first), read_scalars(args.second), args.tolerance)
    for line in lines:
        print(line)
    print(f"{len(lines)} difference(s) beyond {args.tolerance:g}", file=sys.stderr)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
