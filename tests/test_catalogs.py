"""soilbench.catalogs: hostile catalogs are refused without running anything; good ones read.

Every hostile payload points at ``evilmod``, a module (put on sys.path here) that creates a
marker file when imported or called; the marker must never appear.
"""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from soilbench import catalogs, cli, data
from soilbench.errors import SoilbenchError, UnsafeCatalog

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT.parent / "shared" / "data"
CSV_TEXT = "year,rh\n2001,50.5\n2002,51.0\n"


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A catalog directory with small files, a data directory, and the evil module on sys.path."""
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "evilmod.py").write_text(textwrap.dedent(f"""
        from pathlib import Path
        MARKER = Path({str(marker)!r})
        MARKER.write_text("imported")

        def run(*args, **kwargs):
            MARKER.write_text("called")

        class Reader:
            def __init__(self, *args, **kwargs):
                MARKER.write_text("instantiated")
    """))
    monkeypatch.syspath_prepend(str(evil))
    monkeypatch.delitem(sys.modules, "evilmod", raising=False)
    cat_dir = tmp_path / "cat"
    cat_dir.mkdir()
    (cat_dir / "series.csv").write_text(CSV_TEXT)
    (cat_dir / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('exec')\n")
    data_dir = tmp_path / "data"
    (data_dir / "models" / "m1").mkdir(parents=True)
    for year in (2001, 2002):
        _netcdf(data_dir / "models" / "m1" / f"rh_{year}.nc", year)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_dir))
    monkeypatch.delenv(catalogs.CATALOGS_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    yield {"tmp": tmp_path, "marker": marker, "cat_dir": cat_dir, "data_dir": data_dir}
    assert "evilmod" not in sys.modules or marker.exists()  # consistency of the marker mechanism


def _netcdf(path: Path, year: int) -> None:
    time = pd.date_range(f"{year}-01-01", periods=2, freq="MS")
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), np.full((2, 2, 3), 1e-8 * (year - 2000)), {"units": "kg m-2 s-1"})},
        coords={"time": time, "lat": [-45.0, 45.0], "lon": [0.0, 120.0, 240.0]},
    )
    ds.to_netcdf(path)


def _good() -> dict:
    """A valid intake-2 catalog: one CSV beside the catalog, one glob of NetCDF files in the data dir."""
    return {
        "version": 2,
        "metadata": {"description": "test catalog"},
        "user_parameters": {
            "SOILBENCH_DATA_DIR": {
                "cls": "intake.readers.user_parameters:SimpleUserParameter",
                "description": "data dir", "default": "", "dtype": "object",
            }
        },
        "aliases": {},
        "data": {
            "series.file": {
                "datatype": "intake.readers.datatypes:CSV",
                "kwargs": {"url": "{CATALOG_DIR}/series.csv", "storage_options": None},
                "metadata": {}, "user_parameters": {},
            },
            "m1.files": {
                "datatype": "intake.readers.datatypes:NetCDF3",
                "kwargs": {"url": "{SOILBENCH_DATA_DIR}/models/m1/*.nc", "storage_options": None},
                "metadata": {}, "user_parameters": {},
            },
        },
        "entries": {
            "series": {
                "reader": "intake.readers.readers:PandasCSV",
                "output_instance": "pandas:DataFrame",
                "kwargs": {"args": ["{data(series.file)}"], "keep_default_na": False},
                "metadata": {"kind": "series", "description": "a series", "variables": {"rh": "Pg yr-1"}},
                "user_parameters": {},
            },
            "m1": {
                "reader": "intake.readers.readers:XArrayDatasetReader",
                "output_instance": "xarray:Dataset",
                "kwargs": {"args": ["{data(m1.files)}"], "engine": "netcdf4", "combine": "by_coords"},
                "metadata": {"kind": "model", "model": "M1", "format": "files"},
                "user_parameters": {},
            },
        },
    }


def _write(world, document, name="catalog.yaml") -> Path:
    path = world["cat_dir"] / name
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    path.write_text(text)
    return path


def _mutated(change) -> dict:
    document = copy.deepcopy(_good())
    change(document)
    return document


def _series(doc) -> dict:
    return doc["entries"]["series"]


def _set(mapping: dict, key: str, value):
    mapping[key] = value


HOSTILE = {
    "reader naming a module that runs code on import": (
        lambda d: _set(_series(d), "reader", "evilmod:Reader"), "reader 'evilmod:Reader' is not allowed"),
    "reader naming os.system": (lambda d: _set(_series(d), "reader", "os:system"), "reader 'os:system'"),
    "datatype naming a module that runs code": (
        lambda d: _set(d["data"]["series.file"], "datatype", "evilmod:Reader"), "datatype 'evilmod:Reader'"),
    "PythonModule reader (exec of a source file)": (
        lambda d: (
            _set(d["data"]["series.file"], "datatype", "intake.readers.datatypes:PythonSourceCode"),
            _set(d["data"]["series.file"]["kwargs"], "url", "{CATALOG_DIR}/evil.py"),
            _set(_series(d), "reader", "intake.readers.readers:PythonModule"),
        ), "datatype 'intake.readers.datatypes:PythonSourceCode' is not allowed"),
    "PythonModule reader on an allowed datatype": (
        lambda d: _set(_series(d), "reader", "intake.readers.readers:PythonModule"), "intake.readers.readers:PythonModule"),
    "GenericFunc transform": (
        lambda d: (_set(_series(d), "reader", "intake.readers.convert:GenericFunc"),
                   _set(_series(d)["kwargs"], "func", "{func(evilmod:run)}")), "intake.readers.convert:GenericFunc"),
    "intake v1 driver": (lambda d: _set(_series(d), "driver", "evilmod.Reader"), "keys outside the allowlist: driver"),
    "env template in a path": (
        lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "{env(HOME)}/series.csv"), "template '{env(HOME)}"),
    "env template inside a string": (
        lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "{CATALOG_DIR}/{env(USER)}.csv"), "{env(USER)}"),
    "func template in a reader argument": (
        lambda d: _set(_series(d)["kwargs"], "sep", "{func(evilmod:run)}"), "{func(evilmod:run)}"),
    "import template in metadata": (
        lambda d: _set(_series(d)["metadata"], "description", "{import(evilmod)}"), "{import(evilmod)}"),
    "pickle template": (
        lambda d: _set(_series(d)["kwargs"], "na_values", ["{pickle64(gASVBQAAAAAAAACMA2Zvb5Qu)}"]), "pickle64"),
    "reader argument outside the allowlist": (
        lambda d: _set(_series(d)["kwargs"], "converters", {"rh": "evilmod:run"}), "keys outside the allowlist: converters"),
    "storage options (network filesystems)": (
        lambda d: _set(d["data"]["series.file"]["kwargs"], "storage_options", {"anon": True}), "storage_options"),
    "user parameter with an arbitrary class": (
        lambda d: _set(d["user_parameters"]["SOILBENCH_DATA_DIR"], "cls", "evilmod:Reader"), "class 'evilmod:Reader'"),
    "user parameter defaulting to an env template": (
        lambda d: _set(d["user_parameters"]["SOILBENCH_DATA_DIR"], "default", "{env(HOME)}"), "{env(HOME)}"),
    "extra user parameter": (
        lambda d: _set(d["user_parameters"], "CATALOG_DIR", {"cls": "x"}), "user parameter 'CATALOG_DIR'"),
    "args not a data reference": (
        lambda d: _set(_series(d)["kwargs"], "args", ["{CATALOG_DIR}/series.csv"]), "args must be"),
    "path traversal": (
        lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "{CATALOG_DIR}/../secret.csv"), "escapes its directory"),
    "absolute path outside": (lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "/etc/passwd"), "outside the allowed"),
    "relative path without placeholder": (
        lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "series.csv"), "relative paths must start"),
    "http URL": (
        lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "http://127.0.0.1:9/x.csv"), "'http://127.0.0.1:9/x.csv' is not allowed"),
    "file URL": (lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "file:///etc/passwd"), "'file:///etc/passwd'"),
    "fsspec chained URL": (
        lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "simplecache::s3://b/x.csv"), "is not allowed"),
    "unknown top-level key (intake v1 sources)": (
        lambda d: _set(d, "sources", {"x": {"driver": "evilmod.Reader"}}), "keys outside the allowlist: sources"),
    "unknown metadata key": (lambda d: _set(_series(d)["metadata"], "imports", ["evilmod"]), "metadata has keys"),
    "wrong version": (lambda d: _set(d, "version", 1), "version must be 2"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_catalog_is_refused_and_runs_nothing(world, case):
    change, expected = HOSTILE[case]
    path = _write(world, _mutated(change))
    with pytest.raises(UnsafeCatalog) as info:
        catalogs.open_catalog(path)
    message = str(info.value)
    assert expected in message and str(path) in message and "\n" not in message
    assert not world["marker"].exists() and "evilmod" not in sys.modules


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:evilmod.run []", "!!python/name:os.system", "!!python/module:evilmod"]
)
def test_python_yaml_tags_are_refused(world, tag):
    text = yaml.safe_dump(_good(), sort_keys=False).replace("description: a series", f"description: {tag}")
    path = _write(world, text)
    with pytest.raises(UnsafeCatalog, match=f"{path}: not plain YAML data"):
        catalogs.open_catalog(path)
    assert not world["marker"].exists() and "evilmod" not in sys.modules


def test_yaml_aliases_are_refused(world):
    text = "version: 2\nmetadata: &a {description: x}\naliases: {}\ndata: {}\nentries: {}\nuser_parameters: *a\n"
    with pytest.raises(UnsafeCatalog, match="aliases are not allowed"):
        catalogs.open_catalog(_write(world, text))


def test_marker_mechanism_is_live(world):
    """Control: intake's own loader *does* import what a hostile catalog names."""
    import intake

    path = _write(world, _mutated(HOSTILE["reader naming a module that runs code on import"][0]))
    intake.from_yaml_file(str(path))["series"]  # imports evilmod and instantiates evilmod.Reader
    assert world["marker"].read_text() == "instantiated"
    world["marker"].unlink()
    sys.modules.pop("evilmod", None)


def test_symlink_escaping_the_catalog_dir_is_refused_when_resolving(world):
    outside = world["tmp"] / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(CSV_TEXT)
    (world["cat_dir"] / "link.csv").symlink_to(outside / "secret.csv")
    document = _mutated(lambda d: _set(d["data"]["series.file"]["kwargs"], "url", "{CATALOG_DIR}/link.csv"))
    entry = catalogs.open_catalog(_write(world, document)).entries["series"]
    with pytest.raises(UnsafeCatalog, match=r"entry 'series'.*link.csv leads to .*outside/secret.csv, outside"):
        entry.paths()
    with pytest.raises(UnsafeCatalog):
        entry.read()


def test_symlinked_directory_in_a_glob_is_refused(world):
    outside = world["tmp"] / "outside"
    outside.mkdir()
    _netcdf(outside / "rh_1999.nc", 1999)
    (world["data_dir"] / "models" / "m1" / "sneaky").symlink_to(outside)
    document = _mutated(lambda d: _set(d["data"]["m1.files"]["kwargs"], "url", "{SOILBENCH_DATA_DIR}/models/m1/*/*.nc"))
    with pytest.raises(UnsafeCatalog, match="outside the allowed directories"):
        catalogs.open_catalog(_write(world, document)).entries["m1"].paths()


def test_absolute_path_inside_the_catalog_dir_is_allowed(world):
    document = _mutated(lambda d: _set(d["data"]["series.file"]["kwargs"], "url", str(world["cat_dir"] / "series.csv")))
    assert catalogs.open_catalog(_write(world, document)).entries["series"].read()["rh"].tolist() == [50.5, 51.0]


def test_good_catalog_reads_csv_and_netcdf_glob(world):
    catalog = catalogs.open_catalog(_write(world, _good()))
    series = catalog.entries["series"]
    assert series.kind == "series" and series.metadata["variables"] == {"rh": "Pg yr-1"}
    assert series.read()["year"].tolist() == [2001, 2002]
    model = catalog.entries["m1"]
    assert [p.name for p in model.paths()] == ["rh_2001.nc", "rh_2002.nc"]
    ds = model.read()
    assert ds.sizes["time"] == 4 and float(ds["rh"].isel(time=-1).mean()) == pytest.approx(2e-8)
    assert model.metadata["model"] == "M1"


def test_intake_reader_built_from_validated_values(world):
    catalog = catalogs.open_catalog(_write(world, _good()))
    frame = catalog.entries["series"].intake_reader().read()
    pd.testing.assert_frame_equal(frame, catalog.entries["series"].read())


def test_our_catalog_format_is_understood_by_intake(world):
    """The files are real intake-2 catalogs (read by intake here only because they are ours)."""
    import intake

    path = _write(world, _good())
    cat = intake.from_yaml_file(str(path))(SOILBENCH_DATA_DIR=str(world["data_dir"]))
    assert cat["series"].read()["rh"].tolist() == [50.5, 51.0]
    assert cat["m1"].read().sizes["time"] == 4


def test_data_dir_argument_changes_where_paths_resolve(world, tmp_path):
    other = tmp_path / "other"
    (other / "models" / "m1").mkdir(parents=True)
    _netcdf(other / "models" / "m1" / "rh_2010.nc", 2010)
    entry = catalogs.open_catalog(_write(world, _good())).entries["m1"]
    assert [p.name for p in entry.paths(other)] == ["rh_2010.nc"]


def test_no_matching_file_is_a_clear_error(world):
    document = _mutated(lambda d: _set(d["data"]["m1.files"]["kwargs"], "url", "{SOILBENCH_DATA_DIR}/nothing/*.nc"))
    with pytest.raises(SoilbenchError, match=r"entry 'm1'.*no file matches '\{SOILBENCH_DATA_DIR\}/nothing/\*.nc'"):
        catalogs.open_catalog(_write(world, document)).entries["m1"].paths()


def test_registry_entries_resolve_through_fetch(world, tmp_path, monkeypatch):
    payload = CSV_TEXT.encode()
    registry = tmp_path / "registry.yaml"
    registry.write_text(yaml.safe_dump({"datasets": [{
        "id": "tiny", "file": "tiny/series.csv", "url": "http://127.0.0.1:9/none", "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(), "licence": "MIT", "citation": "Someone 2020",
    }]}))
    monkeypatch.setattr(data, "REGISTRY_PATH", registry)
    monkeypatch.delenv(data.SYNTHETIC_REGISTRY_ENV, raising=False)
    data._load_registry.cache_clear()
    (world["data_dir"] / "tiny").mkdir()
    (world["data_dir"] / "tiny" / "series.csv").write_bytes(payload)

    def registered(d):
        d["data"]["series.file"]["kwargs"]["url"] = "{SOILBENCH_DATA_DIR}/tiny/series.csv"
        _series(d)["metadata"]["registry"] = "tiny"

    entry = catalogs.open_catalog(_write(world, _mutated(registered))).entries["series"]
    assert entry.metadata["citation"] == "Someone 2020" and entry.metadata["licence"] == "MIT"
    assert entry.paths() == [world["data_dir"] / "tiny" / "series.csv"]
    (world["data_dir"] / "tiny" / "series.csv").write_bytes(payload.replace(b"50.5", b"99.9"))
    with pytest.raises(SoilbenchError, match="download from http://127.0.0.1:9/none failed"):
        entry.paths()  # a modified file is never used; it is downloaded again (here: server down)

    def mismatched(d):
        registered(d)
        d["data"]["series.file"]["kwargs"]["url"] = "{SOILBENCH_DATA_DIR}/elsewhere.csv"

    with pytest.raises(SoilbenchError, match=r"url must be \{SOILBENCH_DATA_DIR\}/tiny/series.csv"):
        catalogs.open_catalog(_write(world, _mutated(mismatched)))
    data._load_registry.cache_clear()


def test_default_catalogs_validate_and_cover_the_references():
    entries = catalogs.all_entries(catalogs.default_catalogs())
    expected = {
        "cardamom-rh", "hwsd-soilc", "ncscd-soilc", "root-contribution", "koppen", "landfrac",
        "hashimoto2015-rh", "tang2020-rh", "literature-rh", "cmip6-rh-global", "srdb-v5-data", "mgrhd",
        "testbed-casacnp", "testbed-mimics",
    }
    assert expected <= set(entries)
    for entry in entries.values():
        assert entry.kind in catalogs.KINDS and entry.description
        assert entry.metadata.get("citation"), entry.id


def test_literature_tables_are_well_formed():
    for entry_id in ("literature-rh", "literature-rs"):
        table = catalogs.find_entry(entry_id).read()
        assert table["id"].is_unique
        assert set(table["uncertainty_kind"]) <= {"sd", "range", "none"}
        bounded = table.dropna(subset=["lower", "upper"])
        assert (bounded["lower"] < bounded["upper"]).all()
        central = bounded.dropna(subset=["value"])
        assert ((central["lower"] <= central["value"]) & (central["value"] <= central["upper"])).all()
        assert table["source"].notna().all()
    rh = catalogs.find_entry("literature-rh").read().set_index("id")
    assert rh.loc["rf-761-sites", "value"] == 48.8 and rh.loc["trendy-v9", "upper"] == pytest.approx(68.5)


def test_find_entry_suggests_close_ids_and_duplicates_are_errors(world, monkeypatch):
    with pytest.raises(SoilbenchError, match="did you mean cardamom-rh"):
        catalogs.find_entry("cardamom")
    first = _write(world, _good(), "a.yaml")
    second = _write(world, _good(), "b.yaml")
    monkeypatch.setattr(catalogs, "CATALOG_DIR", world["cat_dir"])
    with pytest.raises(SoilbenchError, match=f"{second}: entry id 'series' is also defined in {first}"):
        catalogs.default_catalogs()


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not available at {SHARED_DATA}")
def test_every_default_entry_reads_from_the_shared_data(monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(SHARED_DATA))
    for entry in catalogs.all_entries().values():
        result = entry.read(allow_download=False)
        assert len(result.data_vars if entry.reader == "xarray" else result) > 0, entry.id


# --- add-model -------------------------------------------------------------------------------


def test_add_model_writes_a_safe_entry_atomically(world):
    catalog = world["tmp"] / "user" / "models.yaml"
    entry = catalogs.add_model(
        "CLM5.0", [world["data_dir"] / "models" / "m1"], catalog, format="trendy", period="2001-2002"
    )
    assert entry.url == "{SOILBENCH_DATA_DIR}/models/m1/*.nc" and entry.catalog == catalog
    reopened = catalogs.open_catalog(catalog).entries["CLM5.0"]
    assert reopened.metadata == {"kind": "model", "model": "CLM5.0", "description": "model CLM5.0",
                                 "format": "trendy", "period": "2001-2002"}
    assert len(reopened.paths()) == 2 and reopened.read().sizes["time"] == 4
    assert not list(catalog.parent.glob("*.part"))
    catalogs.add_model("other", [str(world["data_dir"] / "models" / "m1" / "rh_2001.nc")], catalog)
    assert set(catalogs.open_catalog(catalog).entries) == {"CLM5.0", "other"}
    with pytest.raises(SoilbenchError, match="an entry with this name exists"):
        catalogs.add_model("other", [world["data_dir"] / "models" / "m1"], catalog)


def test_add_model_cmip6_files_beside_the_catalog(world):
    cmip = world["tmp"] / "cmip6"
    cmip.mkdir()
    _netcdf(cmip / "rh_Lmon_X_historical_r1i1p1f1_gn_200101-200112.nc", 2001)
    _netcdf(cmip / "cSoil_Emon_X_historical_r1i1p1f1_gn_200101-200112.nc", 2001)
    entry = catalogs.add_model("X", [cmip / "rh_Lmon_*.nc", cmip / "cSoil_Emon_*.nc"], cmip / "models.yaml", format="cmip6")
    assert entry.url == ["{CATALOG_DIR}/rh_Lmon_*.nc", "{CATALOG_DIR}/cSoil_Emon_*.nc"]
    assert len(entry.paths()) == 2


def test_add_model_refuses_paths_outside_and_urls(world):
    outside = world["tmp"] / "outside"
    outside.mkdir()
    _netcdf(outside / "m.nc", 2001)
    catalog = world["cat_dir"] / "models.yaml"
    with pytest.raises(SoilbenchError, match="outside the data directory .* write the catalog next to the model files"):
        catalogs.add_model("m", [outside / "m.nc"], catalog)
    with pytest.raises(UnsafeCatalog, match="is a URL"):
        catalogs.add_model("m", ["https://example.org/m.nc"], catalog)
    with pytest.raises(SoilbenchError, match="model name must match"):
        catalogs.add_model("../m", [world["data_dir"] / "models" / "m1"], catalog)
    assert not catalog.exists()


def test_add_model_refuses_to_extend_an_unsafe_catalog(world):
    path = _write(world, _mutated(HOSTILE["reader naming os.system"][0]), "models.yaml")
    before = path.read_text()
    with pytest.raises(UnsafeCatalog):
        catalogs.add_model("m", [world["data_dir"] / "models" / "m1"], path)
    assert path.read_text() == before


# --- commands --------------------------------------------------------------------------------


def test_catalog_list_and_show_commands(world, capsys):
    path = _write(world, _good())
    assert cli.main(["catalog", "list", "--catalog", str(path)]) == 0
    out = capsys.readouterr().out
    assert "series" in out and "m1" in out and "model" in out
    assert cli.main(["catalog", "show", "m1", "--catalog", str(path)]) == 0
    out = capsys.readouterr().out
    assert "{SOILBENCH_DATA_DIR}/models/m1/*.nc" in out and "rh_2002.nc" in out
    assert cli.main(["catalog", "list"]) == 0
    assert "cardamom-rh" in capsys.readouterr().out


def test_catalog_show_reports_registry_fields(capsys, tmp_path):
    assert cli.main(["catalog", "show", "hashimoto2015-rh", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sha256:" in out and "e2abe9cf" in out and "licence:" in out and "citation:" in out
    assert f"missing: {tmp_path}" in out


def test_unsafe_catalog_command_exits_with_one_line(world, capsys):
    path = _write(world, _mutated(HOSTILE["GenericFunc transform"][0]))
    assert cli.main(["catalog", "list", "--catalog", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("soilbench: error:") and "GenericFunc" in err and "\n" not in err
    assert not world["marker"].exists()


def test_add_model_command(world, capsys):
    catalog = world["cat_dir"] / "models.yaml"
    argv = ["catalog", "add-model", "M2", str(world["data_dir"] / "models" / "m1"), "--catalog", str(catalog)]
    assert cli.main(argv + ["--format", "trendy"]) == 0
    assert "added model 'M2' (2 files)" in capsys.readouterr().out
    assert cli.main(argv) == 2
    assert "exists" in capsys.readouterr().err


def test_fetch_command_reports_present_and_missing(world, tmp_path, capsys, monkeypatch):
    payload = CSV_TEXT.encode()
    registry = tmp_path / "registry.yaml"
    record = {"url": "http://127.0.0.1:9/none", "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    registry.write_text(yaml.safe_dump({"datasets": [
        {"id": "here", "file": "here.csv", **record}, {"id": "gone", "file": "gone.csv", **record},
    ]}))
    monkeypatch.setattr(data, "REGISTRY_PATH", registry)
    monkeypatch.delenv(data.SYNTHETIC_REGISTRY_ENV, raising=False)
    data._load_registry.cache_clear()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "here.csv").write_bytes(payload)
    try:
        assert cli.main(["fetch", "here", "--data-dir", str(tmp_path / "d")]) == 0
        assert "present, sha256 ok" in capsys.readouterr().out
        assert cli.main(["fetch", "--data-dir", str(tmp_path / "d"), "--no-download"]) == 2
        out = capsys.readouterr().out
        assert "[2/2] gone: FAILED: dataset 'gone'" in out and "1 present, 0 downloaded, 1 failed" in out
        assert cli.main(["fetch", "nope"]) == 2
        assert "unknown dataset id 'nope'" in capsys.readouterr().err
    finally:
        data._load_registry.cache_clear()


def test_subprocess_unsafe_catalog_exit_code_and_no_traceback(world):
    path = _write(world, _mutated(HOSTILE["reader naming a module that runs code on import"][0]))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(world["tmp"] / "evil")])}
    proc = subprocess.run(
        [sys.executable, "-m", "soilbench", "catalog", "list", "--catalog", str(path)],
        capture_output=True, text=True, env=env, cwd=world["tmp"], timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith(f"soilbench: error: {path} (entry 'series'): reader 'evilmod:Reader' is not allowed")
    assert not world["marker"].exists()


def test_model_entry_quantities_override_the_alias_table(world):
    """``metadata.quantities`` (docs/loading.md) passes the allowlist and reaches the loader."""
    from soilbench.load import load_model

    document = _mutated(lambda d: _set(d["entries"]["m1"]["metadata"], "quantities", {"rs": "rh", "npp": ["rh", "rh"]}))
    entry = catalogs.open_catalog(_write(world, document)).entries["m1"]
    ds = load_model(entry)
    assert ds["rs"].attrs["source"].startswith("rh [") and ds["npp"].attrs["source"].count("rh [") == 2
    for bad in ({"tau_soil": "rh"}, {"rh": 3}, {"rh": []}, ["rh"]):
        document = _mutated(lambda d: _set(d["entries"]["m1"]["metadata"], "quantities", bad))
        with pytest.raises(UnsafeCatalog, match="metadata quantities"):
            catalogs.open_catalog(_write(world, document))
