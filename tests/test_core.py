import json

import pandas as pd
import pytest

from soilbench import cli
from soilbench.errors import SoilbenchError
from soilbench.results import SCALAR_COLUMNS, ConfrontationResult, load_result, model_slug, scalar_rows


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "../../x", ".hidden", "", "CASA-CNP"])
def test_model_slug_is_a_safe_single_path_component(name):
    slug = model_slug(name)
    assert "/" not in slug and not slug.startswith(".") and "<" not in slug
    assert slug != model_slug(name + " ")  # distinct names never collide


def test_error_is_one_line_naming_file_and_variable():
    err = SoilbenchError("model.nc", "units 'g C m-2'\nare not a flux", "rh")
    assert str(err) == "model.nc: variable 'rh': units 'g C m-2' are not a flux"


def test_result_roundtrip_and_meta_written_last(tmp_path):
    scalars = scalar_rows(
        [{"region": "global", "analysis": "totals", "name": "rh total", "type": "scalar", "units": "Pg yr-1", "value": 51}],
        model="m", confrontation="c", reference="r",
    )
    table = pd.DataFrame({"study": ["None", "a"], "n": [6, 7]})
    result = ConfrontationResult(scalars, tables={"studies": table}, table_meta={"studies": {"plot": "table"}})
    result.save(tmp_path / "r", {"model": "m"})
    meta, back = load_result(tmp_path / "r")
    assert meta["status"] == "ok" and list(back.scalars.columns) == SCALAR_COLUMNS
    assert back.tables["studies"]["study"].tolist() == ["None", "a"]  # "None" stays a string
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["tables"]["studies"]["plot"] == "table"
    assert not list((tmp_path / "r").rglob("*.part"))


def test_cli_prints_help_without_command(capsys):
    assert cli.main([]) == 1
    assert "soilbench" in capsys.readouterr().out
