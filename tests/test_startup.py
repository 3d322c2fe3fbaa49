"""Start-up: the command line is built without the heavy libraries.

``soilbench --help`` and the help of every sub-command must not import dask, distributed,
matplotlib, cartopy, ILAMB, xarray, pandas or pooch: they are imported when a command runs. This
checks which modules a fresh interpreter has loaded (a behaviour), not how long it took.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import soilbench

HEAVY = ("dask", "distributed", "matplotlib", "cartopy", "ILAMB", "xarray", "pandas", "numpy", "pooch", "netCDF4")

PROBE = """
import contextlib, io, json, sys
from soilbench.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
heavy = json.loads({heavy!r})
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in heavy)))
"""


def _heavy_modules_after(*argv: str) -> list[str]:
    # the soilbench under test, whatever the working directory
    source_root = str(Path(soilbench.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source_root, os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=json.dumps(HEAVY)), *argv],
        capture_output=True, text=True, check=True, env=env, cwd=source_root,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        (),
        ("inspect",),  # a usage error: PATH is required
        ("inspect", "--help"),
        ("run", "--help"),
        ("demo", "--help"),
        ("report", "--help"),
        ("catalog", "--help"),
        ("fetch", "--help"),
        ("ilamb", "--help"),
        ("compare", "--help"),
    ],
    ids=lambda argv: " ".join(argv) or "no-arguments",
)
def test_help_imports_no_heavy_library(argv):
    assert _heavy_modules_after(*argv) == []


def test_default_config_is_resolved_when_the_command_runs(tmp_path, monkeypatch):
    """``--config`` defaults to the project's default benchmark, also with a file called ``default`` here."""
    from soilbench.commands.run import config_path
    from soilbench.config import DEFAULT_CONFIG

    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").write_text("not a benchmark\n")
    assert config_path(None) == DEFAULT_CONFIG
    assert config_path(str(DEFAULT_CONFIG)) == DEFAULT_CONFIG
