"""A wheel (not only an editable checkout) must find the registry, catalogs and benchmarks."""

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

from soilbench import data

ROOT = Path(__file__).resolve().parents[1]


def test_installed_data_files_are_found_when_there_is_no_checkout(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "soilbench"
    package.mkdir(parents=True)
    prefix = tmp_path / "prefix"
    (prefix / "share" / "soilbench" / "reference_data").mkdir(parents=True)
    (prefix / "share" / "soilbench" / "reference_data" / "registry.yaml").write_text("datasets: []\n")
    monkeypatch.setattr(data, "PACKAGE_DIR", package)
    monkeypatch.setattr(sys, "prefix", str(prefix))
    assert data._project_root() == prefix / "share" / "soilbench"


def test_a_checkout_wins_over_installed_data_files(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert data._project_root() == ROOT


def test_pyproject_data_files_cover_every_tracked_project_data_file():
    tracked = subprocess.run(["git", "ls-files", "reference_data", "catalogs", "confrontations"], cwd=ROOT,
                             capture_output=True, text=True)
    if tracked.returncode != 0:
        import pytest

        pytest.skip("not a git checkout")
    wanted = {p for p in tracked.stdout.split() if not p.endswith((".gitignore", ".md"))}
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    patterns = [pattern for patterns in spec.values() for pattern in patterns]
    uncovered = sorted(p for p in wanted if not any(fnmatch.fnmatch(p, pat) for pat in patterns))
    assert not uncovered, f"add to [tool.setuptools.data-files]: {uncovered}"
