"""benchmarks/compare_scalars.py: the check that a refactor leaves every scalar unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from soilbench.results import SCALAR_COLUMNS

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "compare_scalars.py"


def _write(path: Path, rows: list[tuple]) -> Path:
    pd.DataFrame(rows, columns=SCALAR_COLUMNS).to_csv(path, index=False)
    return path


def _compare(first: Path, second: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(first), str(second), *extra],
                          capture_output=True, text=True, timeout=60)


ROWS = [
    ("m1", "rh-global-totals", "cardamom-rh", "global", "global total", "total", "scalar", "Pg yr-1", 53.8815),
    ("m1", "rh-global-totals", "", "global", "overall", "overall score", "score", "1", 0.61),
    ("m1", "rh-taylor", "cardamom-rh", "global", "taylor", "correlation", "scalar", "1", float("nan")),
]


def test_identical_tables_pass(tmp_path):
    first = _write(tmp_path / "a.csv", ROWS)
    second = _write(tmp_path / "b.csv", list(reversed(ROWS)))  # row order does not matter
    result = _compare(first, second)
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_a_changed_value_beyond_the_tolerance_fails(tmp_path):
    moved = [*ROWS[:1], ROWS[1][:-1] + (0.61 + 1e-7,), ROWS[2]]
    result = _compare(_write(tmp_path / "a.csv", ROWS), _write(tmp_path / "b.csv", moved))
    assert result.returncode == 1
    assert "differs: m1|rh-global-totals||global|overall|overall score" in result.stdout
    # within a looser tolerance the same change passes
    assert _compare(tmp_path / "a.csv", tmp_path / "b.csv", "--tolerance", "1e-6").returncode == 0


def test_missing_rows_and_one_sided_nan_fail(tmp_path):
    nan_filled = [*ROWS[:2], ROWS[2][:-1] + (0.9,)]
    result = _compare(_write(tmp_path / "a.csv", ROWS), _write(tmp_path / "b.csv", nan_filled[:2]))
    assert result.returncode == 1 and "only in first: m1|rh-taylor" in result.stdout
    result = _compare(tmp_path / "a.csv", _write(tmp_path / "c.csv", nan_filled))
    assert result.returncode == 1 and "differs: m1|rh-taylor" in result.stdout
