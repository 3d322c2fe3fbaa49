"""A confrontation type from a separately installed package, found through the entry point.

The test writes a tiny package (``soilbench-example-plugin``) that declares one type in the
entry-point group ``soilbench.confrontations``, builds and installs it with pip into a directory
of its own (with its ``.dist-info``, as any installer writes it), and runs ``soilbench run`` in a
subprocess with that directory on ``PYTHONPATH``: nothing in soilbench names the type, so only
entry-point discovery can find it. Its overall score must reach ``scalars.csv``, the scoreboard
CSV and the scorecard's cell.
"""

from __future__ import annotations

import html
import importlib.metadata
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from soilbench import data
from soilbench.synthetic import generate_world

ROOT = Path(__file__).resolve().parent.parent
KIND = "land_total_rh"

PYPROJECT = """
[build-system]
requires = ["flit_core>=3.9,<4"]
build-backend = "flit_core.buildapi"

[project]
name = "soilbench-example-plugin"
version = "0.1.0"
description = "A soilbench confrontation type from outside soilbench"

[project.entry-points."soilbench.confrontations"]
land_total_rh = "soilbench_example_plugin:LandTotalRh"
"""

MODULE = '''
"""A soilbench confrontation type from outside soilbench: the land total of Rh against a product."""

import math

from soilbench.analysis import integrate
from soilbench.confrontations import Confrontation
from soilbench.results import ConfrontationResult, scalar_rows

__version__ = "0.1.0"


class LandTotalRh(Confrontation):
    kind = "land_total_rh"
    quantities = ("rh",)
    group = "Rh"

    def _stage(self):
        from soilbench.load import load_reference

        reference = load_reference(self.references[0], data_dir=self.data_dir)
        self.reference_total = float(integrate.period_total(reference, "rh"))

    def confront(self, model, reductions=None):
        self.stage_data()
        model_total = float(integrate.period_total(model, "rh"))
        score = math.exp(-abs(model_total - self.reference_total) / self.reference_total)
        reference = self.references[0]
        rows = [
            {"reference": reference, "region": "global", "analysis": "land total", "name": "model total",
             "type": "scalar", "units": "Pg yr-1", "value": model_total},
            {"reference": reference, "region": "global", "analysis": "land total", "name": "reference total",
             "type": "scalar", "units": "Pg yr-1", "value": self.reference_total},
            {"reference": "", "region": "global", "analysis": "overall", "name": "overall score",
             "type": "score", "units": "1", "value": score},
        ]
        return ConfrontationResult(scalar_rows(rows, model=model.attrs["model"], confrontation=self.name))
'''

DEFINITION = f"""
name: plugin-test
confrontations:
  - name: rh-land-total
    type: {KIND}
    references: [cardamom-rh]
"""


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory) -> Path:
    """The plugin built and installed (code + .dist-info) into a directory of its own."""
    work = tmp_path_factory.mktemp("plugin")
    package = work / "src"
    (package / "soilbench_example_plugin").mkdir(parents=True)
    (package / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (package / "soilbench_example_plugin" / "__init__.py").write_text(textwrap.dedent(MODULE))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "--quiet", "--target", str(target), str(package)],
                   check=True, capture_output=True, text=True, timeout=300)
    (dist,) = importlib.metadata.distributions(path=[str(target)])
    assert [(ep.group, ep.name, ep.value) for ep in dist.entry_points] == [
        ("soilbench.confrontations", KIND, "soilbench_example_plugin:LandTotalRh")]
    return target


def _run(tmp_path: Path, world, extra_path: list[Path], out: Path) -> subprocess.CompletedProcess:
    config = tmp_path / "bench.yaml"
    config.write_text(DEFINITION)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [ROOT, *extra_path])),
           data.SYNTHETIC_REGISTRY_ENV: str(world.registry)}
    models = [str(world.models["perfect"]), str(world.models["rh-plus-20pct"])]
    return subprocess.run([sys.executable, "-m", "soilbench", "run", "--config", str(config), "--models", *models,
                           "--out", str(out), "--workers", "0", "--data-dir", str(world.root), "--quiet"],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)


def test_an_installed_package_adds_a_type_that_runs_end_to_end(tmp_path, installed_plugin):
    world = generate_world(tmp_path / "world")

    # without the package nothing declares the type: the definition is refused
    refused = _run(tmp_path, world, [], tmp_path / "without")
    assert refused.returncode == 2 and f"unknown confrontation type '{KIND}'" in refused.stderr

    out = tmp_path / "out"
    done = _run(tmp_path, world, [installed_plugin], out)
    assert done.returncode == 0, done.stderr

    scalars = pd.read_csv(out / "scalars.csv", keep_default_na=False, na_values=[""])
    mine = scalars[scalars["confrontation"] == "rh-land-total"].set_index(["model", "name"])["value"]
    overall = {}
    for model in ("perfect", "rh-plus-20pct"):
        model_total, reference_total = mine[(model, "model total")], mine[(model, "reference total")]
        overall[model] = mine[(model, "overall score")]
        assert overall[model] == pytest.approx(math.exp(-abs(model_total - reference_total) / reference_total), rel=1e-12)
    # the world's models differ by their Rh scale: the scores must say so
    assert mine[("rh-plus-20pct", "model total")] == pytest.approx(1.2 * mine[("perfect", "model total")], rel=1e-6)
    assert overall["perfect"] > overall["rh-plus-20pct"]

    board = pd.read_csv(out / "_report" / "scoreboard.csv")
    by_model = board[board["confrontation"] == "rh-land-total"].set_index("model")
    for model, score in overall.items():
        assert by_model.loc[model, "status"] == "ok"
        assert by_model.loc[model, "overall_score"] == pytest.approx(score, abs=1e-12)

    index = (out / "_report" / "index.html").read_text(encoding="utf-8")
    cells = re.findall(r'data-v="([^"]+)"><a href="([^"]*rh-land-total[^"]*)"', index)
    assert sorted(float(html.unescape(v)) for v, _ in cells) == pytest.approx(sorted(overall.values()), abs=1e-12)
