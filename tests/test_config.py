"""Benchmark definitions: valid ones load, every kind of mistake is a one-line ConfigError."""

from __future__ import annotations

import textwrap

import pytest

import runner_support  # noqa: F401  (registers the test confrontation types)
from soilbench.config import load_benchmark
from soilbench.errors import ConfigError

GOOD = """
name: test-bench
confrontations:
  - name: mean-a
    type: test_mean_rh
    references: [test-target]
    weight: 2
    options: {target: 400}
  - name: mean-b
    type: test_mean_rh
    references: [cardamom-rh]
"""


def write(tmp_path, text):
    path = tmp_path / "bench.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_definition_loads_with_defaults(tmp_path):
    bench = load_benchmark(write(tmp_path, GOOD))
    assert [c.name for c in bench.confrontations] == ["mean-a", "mean-b"]
    assert bench.confrontations[1].weight == 1.0
    built = bench.build()
    assert built[0].options["target"] == 400 and built[0].options["sleep"] == 0.0
    assert bench.as_dict()["confrontations"][0]["weight"] == 2.0


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("    weight: 2\n", "    weight: 2\n    colour: red\n", "confrontations[0].colour"),
        ("type: test_mean_rh\n    references: [test-target]", "type: no_such_type\n    references: [test-target]",
         "confrontations[0].name=mean-a.type"),
        ("{target: 400}", "{target: 400, bogus: 1}", "confrontations[0].name=mean-a.options.bogus"),
        ("name: mean-b", "name: mean-a", "confrontations[1].name"),
        ("weight: 2", "weight: -1", "confrontations[0].name=mean-a.weight"),
        ("weight: 2", "weight: true", "confrontations[0].name=mean-a.weight"),
        ("weight: 2", "weight: .nan", "confrontations[0].name=mean-a.weight"),
        ("[cardamom-rh]", "[not-a-dataset]", "confrontations[1].name=mean-b.references"),
        ("[cardamom-rh]", "[]", "confrontations[1].name=mean-b.references"),
        ("name: mean-a", "name: Mean_A", "confrontations[0].name"),
        ("name: test-bench\n", "name: test-bench\nextra: 1\n", "extra"),
    ],
)
def test_mistakes_name_file_and_key(tmp_path, old, new, key):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_benchmark(path)
    message = str(caught.value)
    assert str(path) in message and f"'{key}'" in message and "\n" not in message


def test_builtin_reference_is_only_valid_for_its_type(tmp_path):
    assert load_benchmark(write(tmp_path, GOOD.replace("[cardamom-rh]", "[test-target]")))
    other = GOOD.replace("type: test_mean_rh\n    references: [cardamom-rh]",
                         "type: test_other_mean\n    references: [test-target]")
    with pytest.raises(ConfigError, match="unknown reference 'test-target'"):
        load_benchmark(write(tmp_path, other))


@pytest.mark.parametrize("text", ["- just a list", "name: x\nconfrontations: []", "name: [1\n", ""])
def test_malformed_documents(tmp_path, text):
    with pytest.raises(ConfigError):
        load_benchmark(write(tmp_path, text))


def test_yaml_tags_are_never_executed(tmp_path):
    text = GOOD.replace("name: test-bench", "name: !!python/object/apply:os.system ['touch pwned']")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_benchmark(write(tmp_path, text))
    assert not (tmp_path / "pwned").exists()


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_benchmark(tmp_path / "absent.yaml")


def test_the_shipped_definitions_parse():
    """The merged stock and the literature tables are catalog entries with a declared loader, not
    a user's site tables: the default benchmark and the score-validity suite were refused."""
    from pathlib import Path

    from soilbench.config import load_benchmark

    root = Path(__file__).resolve().parent.parent
    for path in (root / "confrontations" / "default.yaml", root / "benchmarks" / "score_validity.yaml"):
        assert load_benchmark(path).confrontations
