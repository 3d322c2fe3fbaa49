"""Bad input gives one-line SoilbenchErrors naming the file, the variable and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fixtures_gen as gen  # noqa: E402

from soilbench import cli  # noqa: E402
from soilbench.errors import SoilbenchError  # noqa: E402
from soilbench.load import load_model, load_reference  # noqa: E402

# writer, variable named in the message, words of the problem
BAD_INPUTS = {
    "flux_in_stock_units": (gen.write_wrong_units, "rh", ["'g C m-2'", "not mass per area per time"]),
    "no_units": (gen.write_no_units, "rh", ["no 'units' attribute"]),
    "unknown_units": (gen.write_unknown_units, "rh", ["unknown units 'bananas m-2 s-1'"]),
    "no_known_variable": (gen.write_no_quantity, None, ["no variable soilbench knows", "found: pr"]),
    "no_coordinates": (gen.write_no_coordinates, "latitude", ["no latitude coordinate"]),
    "unsupported_calendar": (gen.write_bad_calendar, "time", ["unsupported calendar 'martian_sols'"]),
    "corrupt_netcdf": (gen.write_corrupt, None, ["cannot be read as NetCDF"]),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_naming_file_variable_problem(tmp_path, kind):
    writer, variable, words = BAD_INPUTS[kind]
    path = writer(tmp_path / f"{kind}.nc")
    with pytest.raises(SoilbenchError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    if variable:
        assert f"variable '{variable}'" in message
    for word in words:
        assert word in message


def test_missing_file_and_empty_directory(tmp_path):
    with pytest.raises(SoilbenchError, match="does not exist"):
        load_model(tmp_path / "nope.nc")
    with pytest.raises(SoilbenchError, match="without NetCDF files"):
        load_model(tmp_path)


def test_unknown_reference_id():
    with pytest.raises(SoilbenchError, match="'no-such' is not a gridded reference"):
        load_reference("no-such")


def test_cli_prints_one_line_without_traceback(tmp_path, capsys):
    path = gen.write_wrong_units(tmp_path / "bad.nc")
    assert cli.main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("soilbench: error: ") and str(path) in err and "variable 'rh'" in err


def test_python_m_soilbench_inspect_bad_file_exits_nonzero(tmp_path):
    """The real entry point: non-zero exit, no traceback; --debug shows it."""
    path = gen.write_bad_calendar(tmp_path / "bad.nc")
    plain = subprocess.run([sys.executable, "-m", "soilbench", "inspect", str(path)], capture_output=True, text=True)
    assert plain.returncode != 0
    assert "Traceback" not in plain.stderr and "unsupported calendar" in plain.stderr
    debug = subprocess.run([sys.executable, "-m", "soilbench", "--debug", "inspect", str(path)],
                           capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
