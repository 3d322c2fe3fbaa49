"""A hostile user's corpus: command-line arguments, outputs and permissions, catalogs, benchmark
definitions and security (escape sequences, YAML bombs, path traversal, fetch deletion).

Every case states what must happen: a one-line error and a non-zero exit (never a traceback
without --debug), or the correct result. Files are made here; downloads are served by a local
HTTP server on 127.0.0.1. Tests run as root in CI, where permission bits stop nothing: an
unwritable target is made with ``chattr +i`` (immutable, which stops root too) when the file
system allows it, or with a path whose parent is a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

import runner_support  # noqa: F401  (registers the small test confrontation types)
from fixtures_gen import make_rh, write
from soilbench import atomic, catalogs, cli, config, data, terminal
from soilbench.errors import ConfigError, SoilbenchError, UnsafeCatalog
from soilbench.load import sites as site_loaders

ESC = "\x1b"
BENCH = """
name: hostile
confrontations:
  - name: mean-rh
    type: test_mean_rh
    references: [test-target]
"""


# -- helpers --------------------------------------------------------------------------------------
@pytest.fixture
def world(tmp_path, monkeypatch):
    """Model files in a data directory, a benchmark definition, an isolated cache and catalogs."""
    data_dir = tmp_path / "data"
    for name, seed in (("m1", 1), ("m2", 2)):
        (data_dir / "models" / name).mkdir(parents=True)
        write(make_rh(n_years=1, nlat=6, nlon=12, seed=seed), data_dir / "models" / name / "rh.nc")
    (tmp_path / "bench.yaml").write_text(textwrap.dedent(BENCH))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(catalogs.CATALOGS_ENV, raising=False)
    return tmp_path


def _entry(kind: str, url: str | list[str], reader: str = "csv", **metadata) -> dict:
    return {"kind": kind, "url": url, "reader": reader, "metadata": metadata}


def write_catalog(path: Path, entries: dict[str, dict], description: str = "hostile test catalog") -> Path:
    """An intake-2 catalog in soilbench's allowlisted form, one data item per entry."""
    data_section, entry_section = {}, {}
    for key, spec in entries.items():
        netcdf = spec["reader"] == "xarray"
        data_section[f"{key}.file"] = {
            "datatype": "intake.readers.datatypes:NetCDF3" if netcdf else "intake.readers.datatypes:CSV",
            "kwargs": {"url": spec["url"], "storage_options": None}, "metadata": {}, "user_parameters": {},
        }
        entry_section[key] = {
            "reader": "intake.readers.readers:XArrayDatasetReader" if netcdf else "intake.readers.readers:PandasCSV",
            "output_instance": "xarray:Dataset" if netcdf else "pandas:DataFrame",
            "kwargs": {"args": [f"{{data({key}.file)}}"]},
            "metadata": {"kind": spec["kind"], **spec["metadata"]}, "user_parameters": {},
        }
    document = {"version": 2, "metadata": {"description": description}, "user_parameters": {}, "aliases": {},
                "data": data_section, "entries": entry_section}
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=False))
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("soilbench: error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _chattr(path: Path, flag: str) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@contextlib.contextmanager
def immutable(path: Path):
    """``path`` made immutable (even root cannot write, rename over or into it)."""
    if not _chattr(path, "+i"):
        pytest.skip("chattr +i is not available on this file system; nothing else stops root from writing")
    try:
        yield path
    finally:
        _chattr(path, "-i")


def _run_args(world: Path, out: Path, *models: str, quiet: bool = True) -> list[str]:
    args = ["run", "--config", str(world / "bench.yaml"), "--out", str(out), "--workers", "0", "--no-report"]
    return args + (["--quiet"] if quiet else []) + ["--models", *models]


def _model(world: Path, name: str = "m1") -> str:
    return str(world / "data" / "models" / name)  # a directory: one model called after it


# -- runtime: output directories and files ----------------------------------------------------------
def _out_is_a_file(world):
    (world / "taken").write_text("not a directory")
    return world / "taken", "is a file"


def _out_parent_is_a_file(world):
    (world / "taken").write_text("not a directory")
    return world / "taken" / "out", "--out"


OUT_CASES = {"out-is-a-file": _out_is_a_file, "out-parent-is-a-file": _out_parent_is_a_file}


@pytest.mark.parametrize("case", OUT_CASES)
def test_run_with_unusable_out_is_one_line(world, capsys, case):
    out, needle = OUT_CASES[case](world)
    code, _, err = run_cli(capsys, *_run_args(world, out, _model(world)))
    assert_one_line_error(code, err, str(out), needle)


def test_python_m_soilbench_with_out_a_file_prints_no_traceback(world):
    import sys

    out, _ = _out_is_a_file(world)
    done = subprocess.run([sys.executable, "-m", "soilbench", *_run_args(world, out, _model(world))],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"soilbench: error: {out}: variable '--out': is a file, not a "
                                                "directory; give a directory for the outputs"]


@pytest.mark.parametrize("case", OUT_CASES)
def test_report_with_unusable_out_is_one_line(world, capsys, case):
    results = world / "results"
    assert cli.main(_run_args(world, results, _model(world))) == 0
    out, needle = OUT_CASES[case](world)
    code, _, err = run_cli(capsys, "report", str(results), "--out", str(out), "--no-progress")
    assert_one_line_error(code, err, str(out))


@pytest.mark.parametrize("command", ["demo", "compare"])
def test_other_commands_with_an_out_that_is_a_file_are_one_line(world, capsys, command):
    out, _ = _out_is_a_file(world)
    argv = ["demo", "--out", str(out), "--quiet"] if command == "demo" else \
        ["compare", str(world), str(world), "--out", str(out), "--no-progress"]
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, str(out), "--out")


def test_run_into_an_immutable_directory_is_one_line(world, capsys):
    out = world / "frozen"
    out.mkdir()
    with immutable(out):
        code, _, err = run_cli(capsys, *_run_args(world, out, _model(world)))
    assert_one_line_error(code, err, str(out), "--out")


def test_run_under_an_immutable_parent_is_one_line(world, capsys):
    parent = world / "frozen"
    parent.mkdir()
    with immutable(parent):
        code, _, err = run_cli(capsys, *_run_args(world, parent / "out", _model(world)))
    assert_one_line_error(code, err, str(parent / "out"))


def test_rerun_over_an_immutable_output_file_is_one_line(world, capsys):
    out = world / "out"
    assert cli.main(_run_args(world, out, _model(world))) == 0
    capsys.readouterr()
    with immutable(out / "status.csv"):
        code, _, err = run_cli(capsys, *_run_args(world, out, _model(world), _model(world, "m2")))
    assert_one_line_error(code, err, "status.csv")


def test_output_file_replaced_by_a_directory_is_one_line(world, capsys):
    out = world / "out"
    assert cli.main(_run_args(world, out, _model(world))) == 0
    (out / "scalars.csv").unlink()
    (out / "scalars.csv").mkdir()  # something soilbench cannot replace by a rename, even as root
    capsys.readouterr()
    code, _, err = run_cli(capsys, *_run_args(world, out, _model(world), _model(world, "m2")))
    assert_one_line_error(code, err, "scalars.csv")


@pytest.mark.parametrize("content", ["empty", "stray-file"])
def test_report_of_a_directory_without_results_is_an_error(world, capsys, content):
    results = world / "nothing"
    results.mkdir()
    if content == "stray-file":
        (results / "notes.txt").write_text("not a run")
    code, _, err = run_cli(capsys, "report", str(results), "--no-progress")
    assert_one_line_error(code, err, str(results), "no saved results")
    assert not (results / "_report" / "index.html").exists()


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_atomic_outputs_honour_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        written = atomic.write_text(tmp_path / "sub" / "index.html", "<p>ok</p>")
        with open(tmp_path / "plain.html", "w") as stream:
            stream.write("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE((tmp_path / "plain.html").stat().st_mode)


def test_a_run_writes_world_readable_outputs_under_umask_022(world):
    out = world / "out"
    previous = os.umask(0o022)
    try:
        assert cli.main(_run_args(world, out, _model(world))) == 0
    finally:
        os.umask(previous)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in files), \
        {str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}


def test_an_unexpected_exception_shows_no_traceback_without_debug(world, capsys, monkeypatch):
    from soilbench.commands import report as report_command

    def broken(args):
        raise RuntimeError("something soilbench did not expect")

    monkeypatch.setattr(report_command, "run", broken)
    code, _, err = run_cli(capsys, "report", str(world))
    assert code == 3 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "RuntimeError: something soilbench did not expect" in err and "--debug" in err
    with pytest.raises(RuntimeError):
        cli.main(["--debug", "report", str(world)])


# -- runtime: models from catalogs --------------------------------------------------------------------
def _three_models(world: Path, missing: tuple[str, ...] = ("m3",)) -> Path:
    entries = {}
    for name in ("m1", "m2", "m3"):
        folder = name if name not in missing else f"{name}-not-there"
        entries[name] = _entry("model", f"{{SOILBENCH_DATA_DIR}}/models/{folder}/*.nc", reader="xarray", model=name.upper())
    return write_catalog(world / "models.yaml", entries)


def test_one_unusable_catalog_model_fails_alone(world, capsys):
    catalog = _three_models(world)
    out = world / "out"
    code, stdout, err = run_cli(capsys, *_run_args(world, out, str(catalog)))
    assert code == 1, err
    status = pd.read_csv(out / "status.csv").set_index("model")
    assert status.loc["M1", "status"] == "ok" and status.loc["M2", "status"] == "ok"
    assert status.loc["M3", "status"] == "error"
    assert "no file matches" in status.loc["M3", "error"] and "m3-not-there" in status.loc["M3", "error"]
    scalars = pd.read_csv(out / "scalars.csv")
    assert set(scalars["model"]) - {"references"} == {"M1", "M2"}
    assert "Traceback" not in err


def test_an_unusable_catalog_model_named_by_id_fails_alone(world, capsys, monkeypatch):
    monkeypatch.setenv(catalogs.CATALOGS_ENV, str(_three_models(world)))
    out = world / "out"
    code, _, err = run_cli(capsys, *_run_args(world, out, "m1", "m3"))
    assert code == 1, err
    status = pd.read_csv(out / "status.csv").set_index("model")["status"].to_dict()
    assert {k: v for k, v in status.items() if k != "references"} == {"M1": "ok", "M3": "error"}
    code, _, err = run_cli(capsys, *_run_args(world, out, "m3"))
    assert_one_line_error(code, err, "no file matches")


def test_a_catalog_whose_every_model_is_unusable_is_one_line(world, capsys):
    catalog = _three_models(world, missing=("m1", "m2", "m3"))
    code, _, err = run_cli(capsys, *_run_args(world, world / "out", str(catalog)))
    assert_one_line_error(code, err, "no file matches")


# -- benchmark definitions ----------------------------------------------------------------------------
SRDB_ENTRY = {"name": "sites", "type": "srdb_annual", "references": ["srdb-v5-data"]}


def _definition(options: dict) -> str:
    return yaml.safe_dump({"name": "hostile", "confrontations": [{**SRDB_ENTRY, "options": options}]})


BAD_OPTIONS = {
    "exclude_methods-text": ({"exclude_methods": "alkali"}, "exclude_methods", "must be a list"),
    "exclude_methods-numbers": ({"exclude_methods": [1, 2]}, "exclude_methods", "list items must be text"),
    "exclude_methods-mapping": ({"exclude_methods": {"alkali": 1}}, "exclude_methods", "must be a list"),
    "min_years-text": ({"min_years_of_data": "one"}, "min_years_of_data", "finite number"),
    "drop_negative-text": ({"drop_negative": "yes"}, "drop_negative", "true/false"),
    "outlier_sd-infinite": ({"outlier_sd": float("inf")}, "outlier_sd", "finite number"),
    "max_distance-null": ({"max_distance_km": None}, "max_distance_km", "not null"),
    "max_distance-bool": ({"max_distance_km": True}, "max_distance_km", "finite number"),
    "manipulation-number": ({"manipulation": 0}, "manipulation", "must be text"),
}
TURNOVER_OPTIONS = {
    "tau_range-one-number": ({"tau_range_yr": [1.0]}, "tau_range_yr", "list of 2 numbers"),
    "draws-fraction": ({"twobox_draws": [100.5, 100]}, "twobox_draws", "an integer"),
    "twobox-text": ({"twobox": "no"}, "twobox", "true/false"),
    "period-null": ({"period": None}, "period", "not null"),
}


@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_option_types_are_checked(tmp_path, case):
    options, key, problem = BAD_OPTIONS[case]
    path = tmp_path / "bench.yaml"
    path.write_text(_definition(options))
    with pytest.raises(ConfigError) as info:
        config.load_benchmark(path, known={"srdb-v5-data"})
    assert info.value.variable.endswith(f"options.{key}") and problem in info.value.problem
    assert str(path) in info.value.one_line()


@pytest.mark.parametrize("case", TURNOVER_OPTIONS)
def test_turnover_option_types_are_checked(tmp_path, case):
    options, key, problem = TURNOVER_OPTIONS[case]
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "confrontations": [
        {"name": "tau", "type": "turnover", "references": ["hwsd-ncscd-soilc", "cardamom-rh"], "options": options}]}))
    with pytest.raises(ConfigError) as info:
        config.load_benchmark(path, known={"hwsd-ncscd-soilc", "cardamom-rh"})
    assert info.value.variable.endswith(f"options.{key}") and problem in info.value.problem


def test_switching_filters_off_with_null_is_still_allowed(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text(_definition({"outlier_sd": None, "exclude_methods": [], "min_years_of_data": None,
                                 "climate_map": None, "max_distance_km": 100}))
    spec = config.load_benchmark(path, known={"srdb-v5-data"}).confrontations[0]
    assert spec.options["outlier_sd"] is None and spec.options["max_distance_km"] == 100


@contextlib.contextmanager
def _deadline(seconds: int):
    """Turn a hang into a failure (the alias bomb would take minutes and gigabytes)."""
    def expire(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
) + "name: bomb\nconfrontations: [*i]\n"


@pytest.mark.parametrize("text", [BOMB, "name: &n x\nconfrontations: []\ndescription: *n\n"], ids=["bomb", "one-alias"])
def test_yaml_aliases_in_a_definition_are_refused_at_once(tmp_path, text):
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    assert len(text) < 1000
    with _deadline(10), pytest.raises(ConfigError, match="aliases are not allowed"):
        config.load_benchmark(path, known=set())


def test_a_definition_that_is_not_utf8_is_one_line(world, capsys):
    path = world / "latin1.yaml"
    path.write_bytes("name: caf\xe9\nconfrontations: []\n".encode("latin-1"))
    code, _, err = run_cli(capsys, *[a if a != str(world / "bench.yaml") else str(path)
                                     for a in _run_args(world, world / "out", _model(world))])
    assert_one_line_error(code, err, str(path), "UTF-8")


def test_a_huge_definition_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\nconfrontations: []\n# " + "x" * (config.MAX_DEFINITION_BYTES + 1) + "\n")
    with pytest.raises(ConfigError, match="larger than"):
        config.load_benchmark(path, known=set())


# -- catalogs: path traversal and bombs (these held before; kept here so they keep holding) -------------
@pytest.mark.parametrize("url", [
    "{CATALOG_DIR}/../outside.csv", "/etc/passwd", "file:///etc/passwd", "~/secret.csv",
    "{SOILBENCH_DATA_DIR}/..\\..\\x.csv", "{CATALOG_DIR}/{SOILBENCH_DATA_DIR}/x.csv",
], ids=["dotdot", "absolute", "url", "home", "backslash", "two-placeholders"])
def test_catalog_paths_cannot_leave_their_directories(world, url):
    path = write_catalog(world / "evil.yaml", {"t": _entry("sites", url)})
    with pytest.raises(UnsafeCatalog):
        catalogs.open_catalog(path)


def test_catalog_symlink_out_of_its_directory_is_refused_when_used(world):
    (world / "cat").mkdir()
    (world / "secret.csv").write_text("a,b\n1,2\n")
    os.symlink(world / "secret.csv", world / "cat" / "table.csv")
    catalog = write_catalog(world / "cat" / "c.yaml", {"t": _entry("sites", "{CATALOG_DIR}/table.csv")})
    monkey = pytest.MonkeyPatch()
    monkey.setenv(catalogs.CATALOGS_ENV, str(catalog))
    try:
        with pytest.raises(UnsafeCatalog, match="outside the allowed directories"):
            catalogs.reference_file("t")
    finally:
        monkey.undo()


def test_catalog_alias_bomb_is_refused_at_once(world):
    path = world / "bomb.yaml"
    path.write_text(BOMB.replace("name: bomb\nconfrontations: [*i]\n", "version: 2\nmetadata: *i\n"))
    with _deadline(10), pytest.raises(UnsafeCatalog, match="aliases are not allowed"):
        catalogs.open_catalog(path)


# -- a user's own site tables through catalogs ---------------------------------------------------------
SRDB_COLUMNS = ["Record_number", "Study_number", "Site_ID", "Latitude", "Longitude", "Study_midyear",
                "YearsOfData", "Manipulation", "Meas_method", "Rs_annual", "Rh_annual"]


def srdb_table() -> pd.DataFrame:
    """Rows that each trip one SRDB filter, and 12 that pass every filter."""
    rows = []
    for i in range(12):
        rows.append([i + 1, 100 + i // 3, f"S{i}", 10.0 + i, 20.0 + i, 2005, 1, "None", "IRGA", 800.0 + 10 * i, 400.0 + 5 * i])
    n = 13
    for trap in ("no_rh", "lat", "year", "short", "manip", "alkali", "negative", "rs_below_rh"):
        row = [n, 200 + n, f"T{n}", 45.0, 10.0, 2005, 1, "None", "IRGA", 900.0, 450.0]
        if trap == "no_rh":
            row[10] = float("nan")
        elif trap == "lat":
            row[3] = 95.0
        elif trap == "year":
            row[5] = float("nan")
        elif trap == "short":
            row[6] = 0.5
        elif trap == "manip":
            row[7] = "Warming"
        elif trap == "alkali":
            row[8] = "Alkali absorption"
        elif trap == "negative":
            row[10] = -50.0
        elif trap == "rs_below_rh":
            row[9] = 300.0
        rows.append(row)
        n += 1
    return pd.DataFrame(rows, columns=SRDB_COLUMNS)


MGRHD_COLUMNS = ["Study_number", "Site_ID", "Meas_Year", "Meas_Month", "Meas_DOY", "Latitude", "Longitude",
                 "Manipulation", "Meas_method", "Rh_Norm"]


def mgrhd_table() -> pd.DataFrame:
    """Monthly rows (month, no day of year), two studies, and rows that trip the filters."""
    rows = [[1 + i // 12, f"S{i // 12}", 2010, 1 + i % 12, float("nan"), 40.0 + i // 12, 10.0, "None", "IRGA",
             1.0 + 0.1 * (i % 12)] for i in range(24)]
    rows += [[9, "S9", 2010, 13, float("nan"), 40.0, 10.0, "None", "IRGA", 1.0],      # impossible month
             [9, "S9", 2010, 5, float("nan"), 40.0, 10.0, "None", "Soda lime", 1.0],  # excluded method
             [9, "S9", 2010, 6, float("nan"), 40.0, 10.0, "None", "IRGA", -0.5]]      # negative
    return pd.DataFrame(rows, columns=MGRHD_COLUMNS)


@pytest.fixture
def user_tables(world, monkeypatch):
    """An SRDB-layout and an MGRhD-layout table in the data directory, registered in a user catalog."""
    tables = world / "data" / "mine"
    tables.mkdir()
    srdb_table().to_csv(tables / "srdb-2025.csv", index=False)
    mgrhd_table().to_csv(tables / "monthly-rh.csv", index=False)
    catalog = write_catalog(world / "sites.yaml", {
        "my-srdb": _entry("sites", "{SOILBENCH_DATA_DIR}/mine/srdb-2025.csv", description="newer SRDB"),
        "my-monthly": _entry("sites", "{SOILBENCH_DATA_DIR}/mine/monthly-rh.csv", description="monthly Rh"),
        "my-grid": _entry("gridded", "{SOILBENCH_DATA_DIR}/models/m1/rh.nc", reader="xarray"),
        "my-two": _entry("sites", "{SOILBENCH_DATA_DIR}/mine/*.csv"),
    })
    monkeypatch.setenv(catalogs.CATALOGS_ENV, str(catalog))
    return tables


def _staged(kind: str, reference: str, **options):
    from soilbench.confrontations.base import confrontation_class

    conf = confrontation_class(kind)("user-sites", [reference], {"climate_map": None, **options})
    conf.stage_data()
    return conf.site_records


def test_a_user_srdb_table_is_a_reference_with_the_srdb_filters(user_tables):
    path = user_tables / "srdb-2025.csv"
    spec = config.parse_benchmark(yaml.safe_load(_definition({"climate_map": None}).replace("srdb-v5-data", "my-srdb")),
                                  "bench.yaml")
    assert spec.confrontations[0].references == ("my-srdb",)
    staged = _staged("srdb_annual", "my-srdb")
    direct = site_loaders.load_srdb_annual(path)  # what a registered SRDB file goes through
    pd.testing.assert_frame_equal(staged.filter_counts, direct.filter_counts)
    pd.testing.assert_frame_equal(staged.records, direct.records)
    removed = staged.filter_counts.set_index("step")["removed"]
    assert removed[["has_value", "coordinates", "year", "years_of_data", "manipulation", "method", "negative",
                    "rs_above_rh"]].tolist() == [1] * 8
    assert len(staged.records) == 12


def test_a_user_monthly_table_in_the_mgrhd_layout_is_a_reference(user_tables):
    staged = _staged("daily_rh", "my-monthly")
    direct = site_loaders.load_mgrhd(user_tables / "monthly-rh.csv")
    pd.testing.assert_frame_equal(staged.filter_counts, direct.filter_counts)
    assert len(staged.records) == 24 and set(staged.records["date_from"]) == {"month"}
    assert staged.records["doy"].iloc[0] == 15  # mid-month day for a month without a day


RENAMES = {
    "srdb-v4-spelling": ({"Rh_annual": "Annual_Rh", "Latitude": "lat", "Longitude": "LONG",
                          "Meas_method": "Method"}, "srdb"),
    "srdb-case-and-spaces": ({"Study_midyear": "study midyear", "YearsOfData": "Years_of_data"}, "srdb"),
    "mgrhd-short-names": ({"Meas_Year": "Year", "Meas_Month": "Month", "Meas_DOY": "DOY"}, "mgrhd"),
}


@pytest.mark.parametrize("case", RENAMES)
def test_known_alternative_column_names_give_the_same_counts(tmp_path, case):
    renames, layout = RENAMES[case]
    table, loader = (srdb_table(), site_loaders.load_srdb_annual) if layout == "srdb" else \
        (mgrhd_table(), site_loaders.load_mgrhd)
    table.to_csv(tmp_path / "canonical.csv", index=False)
    table.rename(columns=renames).to_csv(tmp_path / "renamed.csv", index=False)
    expected, renamed = loader(tmp_path / "canonical.csv"), loader(tmp_path / "renamed.csv")
    pd.testing.assert_frame_equal(renamed.records, expected.records)
    assert renamed.filter_counts["removed"].tolist() == expected.filter_counts["removed"].tolist()


@pytest.mark.parametrize("layout,column", [("srdb", "Rh_annual"), ("srdb", "Meas_method"), ("mgrhd", "Rh_Norm"),
                                           ("mgrhd", "Meas_Year")])
def test_a_missing_required_column_is_one_line_naming_it(tmp_path, layout, column):
    table, loader = (srdb_table(), site_loaders.load_srdb_annual) if layout == "srdb" else \
        (mgrhd_table(), site_loaders.load_mgrhd)
    table.drop(columns=[column]).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SoilbenchError) as info:
        loader(tmp_path / "t.csv")
    assert info.value.variable == column and str(tmp_path / "t.csv") in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_an_rs_only_annual_table_is_enough_for_rs(tmp_path):
    table = srdb_table()
    table.to_csv(tmp_path / "both.csv", index=False)
    table.drop(columns=["Rh_annual"]).to_csv(tmp_path / "rs-only.csv", index=False)
    rs_only = site_loaders.load_srdb_annual(tmp_path / "rs-only.csv", "rs")
    both = site_loaders.load_srdb_annual(tmp_path / "both.csv", "rs", require_rs_above_rh=False)
    pd.testing.assert_frame_equal(rs_only.records, both.records)
    assert rs_only.filter_counts.set_index("step").loc["rs_above_rh", "removed"] == 0
    with pytest.raises(SoilbenchError) as info:
        site_loaders.load_srdb_annual(tmp_path / "rs-only.csv", "rh")
    assert info.value.variable == "Rh_annual"


def test_two_columns_that_could_be_the_same_one_are_refused(tmp_path):
    table = srdb_table().rename(columns={"Latitude": "Lat"})
    table["Site_latitude"] = table["Lat"]
    table.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SoilbenchError, match="could each be Latitude"):
        site_loaders.load_srdb_annual(tmp_path / "t.csv")


@pytest.mark.parametrize("kind,reference,ok", [
    ("srdb_annual", "my-srdb", True), ("daily_rh", "my-monthly", True),
    ("srdb_annual", "my-grid", False), ("global_totals", "my-srdb", False), ("zonal_means", "my-grid", False),
])
def test_user_catalog_references_are_accepted_only_by_types_that_read_them(user_tables, kind, reference, ok):
    options = {"climate_map": None} if kind in ("srdb_annual", "daily_rh") else {}
    document = {"name": "t", "confrontations": [{"name": "c", "type": kind, "references": [reference],
                                                 "options": options}]}
    if ok:
        assert config.parse_benchmark(document, "bench.yaml").confrontations[0].references == (reference,)
    else:
        with pytest.raises(ConfigError, match=f"'{reference}' is a .* entry of a catalog, not a registered file"):
            config.parse_benchmark(document, "bench.yaml")


@pytest.mark.parametrize("reference,problem", [("my-grid", "cannot be a site table"), ("my-two", "one CSV file"),
                                                ("no-such-table", "unknown dataset id")])
def test_unusable_site_references_are_one_line(user_tables, reference, problem):
    with pytest.raises(SoilbenchError, match=problem):
        catalogs.reference_file(reference)


def test_a_changed_user_table_changes_the_fingerprint(user_tables):
    from soilbench.confrontations.base import confrontation_class
    from soilbench.runner.core import reference_hashes

    conf = confrontation_class("srdb_annual")("user-sites", ["my-srdb"], {"climate_map": None})
    before = reference_hashes(conf)
    assert before["my-srdb"] == data.sha256_of(user_tables / "srdb-2025.csv")
    table = srdb_table()
    table.loc[0, "Rh_annual"] = 999.0
    table.to_csv(user_tables / "srdb-2025.csv", index=False)
    assert reference_hashes(conf)["my-srdb"] != before["my-srdb"]


# -- security: fetch never deletes what it did not write --------------------------------------------------
PAYLOAD = b"year,rh\n" + b"".join(f"{1980 + i},{50 + i / 10}\n".encode() for i in range(500))
USERS_OWN = PAYLOAD.replace(b"1980", b"1066")  # the user's edited copy: another sha256


from http_support import dead_url, server  # noqa: E402,F401 (server is a fixture)


def _dead_url() -> str:
    return dead_url("/series.csv")


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """A private registry with one dataset, and the user's own modified copy in a writable data dir."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(data.URL_BASE_ENV, raising=False)
    monkeypatch.delenv(data.SYNTHETIC_REGISTRY_ENV, raising=False)
    registry = tmp_path / "registry.yaml"
    users = tmp_path / "data" / "sub" / "series.csv"
    users.parent.mkdir(parents=True)
    users.write_bytes(USERS_OWN)

    def register(url: str) -> Path:
        record = {"id": "series", "file": "sub/series.csv", "url": url, "size": len(PAYLOAD),
                  "sha256": hashlib.sha256(PAYLOAD).hexdigest()}
        registry.write_text(yaml.safe_dump({"datasets": [record]}))
        data._load_registry.cache_clear()
        monkeypatch.setattr(data, "REGISTRY_PATH", registry)
        return users

    yield register
    data._load_registry.cache_clear()


def test_fetch_offline_leaves_a_users_modified_file_in_place(registered, tmp_path, capsys):
    users = registered(_dead_url())
    code, out, _ = run_cli(capsys, "fetch", "series", "--data-dir", str(tmp_path / "data"))
    assert code == 2
    assert users.read_bytes() == USERS_OWN, "the user's file was deleted or changed"
    assert "left untouched" in out and str(users) in out
    assert [p.name for p in users.parent.iterdir()] == ["series.csv"]


def test_fetch_no_download_explains_the_modified_file(registered, tmp_path, capsys):
    users = registered(_dead_url())
    code, out, _ = run_cli(capsys, "fetch", "series", "--no-download", "--data-dir", str(tmp_path / "data"))
    assert code == 2 and users.read_bytes() == USERS_OWN and "does not match the registry" in out


def test_fetch_moves_a_modified_file_aside_before_replacing_it(registered, server, tmp_path):
    server.files["/series.csv"] = PAYLOAD
    users = registered(server.base + "/series.csv")
    assert data.fetch("series", tmp_path / "data") == users and users.read_bytes() == PAYLOAD
    aside = [p for p in users.parent.iterdir() if p.name != "series.csv"]
    assert len(aside) == 1 and aside[0].name.startswith("series.csv.modified-")
    assert aside[0].read_bytes() == USERS_OWN


def test_fetch_with_a_bad_download_leaves_the_users_file(registered, server, tmp_path):
    server.files["/series.csv"] = PAYLOAD.replace(b"1981", b"1999")  # the server sends another file
    users = registered(server.base + "/series.csv")
    with pytest.raises(SoilbenchError):
        data.fetch("series", tmp_path / "data")
    assert users.read_bytes() == USERS_OWN
    assert [p.name for p in users.parent.iterdir()] == ["series.csv"]


# -- security: nothing raw reaches the terminal -------------------------------------------------------------
HOSTILE_TEXT = {
    "title": "\x1b]0;pwned\x07",
    "clear": "\x1b[2J\x1b[H",
    "c1-csi": "\x9b31m",
    "bidi": "abc\u202edcba",
    "backspace": "safe\x08\x08\x08\x08evil",
}


@pytest.mark.parametrize("case", HOSTILE_TEXT)
def test_catalog_list_shows_escape_sequences_as_text(world, capsys, case):
    text = HOSTILE_TEXT[case]
    (world / "t.csv").write_text("a\n1\n")
    catalog = write_catalog(world / "c.yaml", {"t": _entry("sites", "{CATALOG_DIR}/t.csv", description=f"x{text}y")})
    code, out, err = run_cli(capsys, "catalog", "list", "--catalog", str(catalog))
    assert code == 0
    assert not any(ch in out + err for ch in "\x1b\x07\x9b\u202e\x08")
    assert terminal.clean(text) in out


def test_catalog_show_shows_escape_sequences_as_text(world, capsys):
    (world / "t.csv").write_text("a\n1\n")
    catalog = write_catalog(world / "c.yaml", {"t": _entry("sites", "{CATALOG_DIR}/t.csv",
                                                           notes=HOSTILE_TEXT["clear"], citation=HOSTILE_TEXT["title"])})
    code, out, _ = run_cli(capsys, "catalog", "show", "t", "--catalog", str(catalog))
    assert code == 0 and ESC not in out and "\\x1b[2J" in out


def test_model_names_in_progress_lines_are_sanitised(world, capsys):
    catalog = write_catalog(world / "models.yaml", {
        "m1": _entry("model", "{SOILBENCH_DATA_DIR}/models/m1/*.nc", reader="xarray", model="M1\x1b]0;pwned\x07"),
        "m2": _entry("model", "{SOILBENCH_DATA_DIR}/models/none/*.nc", reader="xarray", model="M2\x1b[2J"),
    })
    code, out, err = run_cli(capsys, *_run_args(world, world / "out", str(catalog), quiet=False))
    assert code == 1  # M2 has no files
    assert ESC not in out + err and "\x07" not in out + err
    assert "M1\\x1b]0;pwned\\x07" in err and "M2\\x1b[2J" in err


def test_error_messages_are_sanitised(world, capsys):
    code, _, err = run_cli(capsys, *[a if a != str(world / "bench.yaml") else "no\x1b[2Jsuch"
                                     for a in _run_args(world, world / "out", _model(world))])
    assert_one_line_error(code, err, "no\\x1b[2Jsuch")
    assert ESC not in err


def test_clean_keeps_ordinary_text():
    text = "τ = 12 yr\tg C m⁻² yr⁻¹ — ok\r\n"
    assert terminal.clean(text) == text
    assert terminal.clean("a\x1bb\x00c\u2066d") == "a\\x1bb\\x00c\\u2066d"
