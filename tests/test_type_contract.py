"""What every registered confrontation type of soilbench promises (docs/architecture.md).

- Its options are ONE typed definition (``options_type``, a :class:`units.Options`) from which
  ``option_defaults`` is derived, and whose defaults it accepts.
- Its analysis units read options of that definition.
- Each of its tasks has exactly one ``overall score`` row: checked on the synthetic demo's scalars
  (``tests/data/synthetic_demo_scalars.csv``, which ``tests/test_runner_unchanged.py`` keeps equal
  to a fresh run of the default benchmark on the synthetic world), where every type has tasks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from soilbench.config import load_benchmark
from soilbench.confrontations import build
from soilbench.confrontations.base import confrontation_class, entry_points
from soilbench.confrontations.units import Options

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC_SCALARS = Path(__file__).parent / "data" / "synthetic_demo_scalars.csv"
#: soilbench's own types (an installed plugin's types promise what their package says)
OWN_KINDS = sorted(kind for kind, target in entry_points().items() if target.startswith("soilbench."))
#: types whose options are still a plain dict, to be converted (docs/architecture.md); a converted
#: one makes its case fail here (strict xfail), so it is taken off this list
UNTYPED: set[str] = set()


def test_soilbench_registers_its_types():
    assert {"global_totals", "zonal_means", "taylor", "srdb_annual", "daily_rh", "turnover", "soil_carbon",
            "global_series", "site_response"} <= set(OWN_KINDS)


@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason="options not typed yet"))
                                  if k in UNTYPED else k for k in OWN_KINDS])
def test_every_type_declares_a_typed_options_definition(kind):
    cls = confrontation_class(kind)
    assert cls.options_type is not None and issubclass(cls.options_type, Options), kind
    assert cls.option_defaults == cls.options_type.defaults()
    cls.options_type(**cls.options_type.defaults())  # the declared defaults pass its own checks
    for unit in cls.unit_types:
        assert issubclass(cls.options_type, unit.Options), f"{kind}: unit '{unit.name}' reads other options"
    assert len({unit.name for unit in cls.unit_types}) == len(cls.unit_types), f"{kind}: two units share a name"


@pytest.fixture(scope="module")
def synthetic():
    scalars = pd.read_csv(SYNTHETIC_SCALARS, keep_default_na=False, na_values={"value": ["", "nan", "NaN"]})
    kinds = {spec.name: spec.type for spec in load_benchmark(ROOT / "confrontations" / "default.yaml").confrontations}
    return scalars.assign(kind=scalars["confrontation"].map(kinds))


def test_the_synthetic_demo_has_tasks_of_every_type(synthetic):
    models = synthetic[synthetic["model"] != "references"]
    assert set(OWN_KINDS) <= set(models["kind"]), set(OWN_KINDS) - set(models["kind"])


def test_every_model_task_has_exactly_one_overall_score_row(synthetic):
    is_overall = (synthetic["analysis"] == build.OVERALL_ANALYSIS) & (synthetic["name"] == build.OVERALL_NAME)
    counts = is_overall.groupby([synthetic["model"], synthetic["confrontation"]]).sum()
    models = counts.drop("references", level="model")
    assert len(models) >= 4 * len(OWN_KINDS) and (models == 1).all(), models[models != 1]
    assert (synthetic.loc[is_overall, "type"] == "score").all()
    # references against each other: at most one row, and NaN (they are not scored)
    references = counts.loc["references"]
    assert (references <= 1).all(), references[references > 1]
    assert synthetic.loc[is_overall & (synthetic["model"] == "references"), "value"].isna().all()
