"""Confrontations compute under numpy's default error handling, whatever the host process set.

ILAMB 2.x's modules set ``numpy.seterr(over="raise", under="raise")`` for the whole process, so
inside ``ilamb-run`` (or a test session that imported ILAMB) a score exp(−x) that underflows to 0
raised FloatingPointError and failed the task.
"""

from __future__ import annotations

import numpy as np
import pytest

from soilbench.confrontations.base import Confrontation, register
from soilbench.results import ConfrontationResult, scalar_rows
from soilbench.runner.tasks import Task, run_task
from runner_support import CanonicalFile, canonical_model


@register
class FarFromOne(Confrontation):
    kind = "test_far_from_one"
    quantities = ("rh",)

    def _stage(self) -> None:
        pass

    def confront(self, model, reductions=None) -> ConfrontationResult:
        score = float(np.exp(-np.array([1000.0]))[0])  # underflows to 0: a score far from 1
        rows = [{"region": "global", "analysis": "overall", "name": "overall score", "type": "score",
                 "units": "1", "value": score}]
        return ConfrontationResult(scalar_rows(rows, model=model.attrs["model"], confrontation=self.name))


@pytest.fixture
def raising_numpy():
    previous = np.seterr(over="raise", under="raise")  # what ILAMB's modules do
    yield
    np.seterr(**previous)


def test_an_underflow_is_not_an_error_even_when_the_process_raises_on_it(tmp_path, raising_numpy):
    with pytest.raises(FloatingPointError):
        np.exp(-np.array([1000.0]))  # the process setting is in force outside the task
    model = CanonicalFile(name="m", paths=(canonical_model(tmp_path / "m.nc"),))
    confrontation = FarFromOne("far", ["none"])
    task = Task(confrontation, "c", model, "m", "f", "far/m")
    outcome = run_task(task)
    assert outcome.status == "ok", outcome.error
    assert outcome.result.scalars["value"].iloc[0] == 0.0
    assert np.geterr()["under"] == "raise"  # and the process setting is left as it was
