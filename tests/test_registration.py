"""Confrontation types register through the entry-point group ``soilbench.confrontations``.

The end-to-end test with a separately installed package is ``tests/test_plugin_package.py``;
these check the lookup itself: the built-in types, the source-checkout fallback, and the one-line
errors for a broken or conflicting declaration.
"""

from __future__ import annotations

import importlib.metadata
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest

from soilbench.confrontations import base
from soilbench.confrontations.base import ENTRY_POINT_GROUP, Confrontation, confrontation_class, known_kinds
from soilbench.errors import ConfigError

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; 3.10 has only the installed metadata
ROOT = Path(__file__).resolve().parent.parent
#: every module of soilbench.confrontations (a new type's module is found without editing this test)
BUILTIN_MODULES = tuple(f"soilbench.confrontations.{m.name}" for m in pkgutil.iter_modules(
    importlib.import_module("soilbench.confrontations").__path__) if m.name != "base")


def _declared_in_pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["entry-points"][ENTRY_POINT_GROUP]


@pytest.fixture
def fresh(monkeypatch):
    """Lookups start from nothing loaded (the process-wide cache would hide a broken lookup)."""
    monkeypatch.setattr(base, "_LOADED", {})
    monkeypatch.setattr(base, "_REGISTRY", {})


def test_every_concrete_type_in_soilbench_is_declared_under_its_kind():
    declared = _declared_in_pyproject()
    found = {}
    for module_name in BUILTIN_MODULES:
        module = __import__(module_name, fromlist=["*"])
        for name, cls in vars(module).items():
            if (inspect.isclass(cls) and issubclass(cls, Confrontation) and cls.__module__ == module_name
                    and not inspect.isabstract(cls) and "kind" in vars(cls)):
                found[cls.kind] = f"{module_name}:{name}"
    assert found == declared


def test_built_in_types_resolve_through_their_declaration(fresh):
    for kind, target in _declared_in_pyproject().items():
        cls = confrontation_class(kind)
        assert f"{cls.__module__}:{cls.__qualname__}" == target and cls.kind == kind


def test_source_checkout_without_metadata_still_finds_the_built_in_types(fresh, monkeypatch):
    # what a checkout on PYTHONPATH sees when the installed metadata predates the entry points
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: [])
    assert set(known_kinds()) == set(_declared_in_pyproject())
    assert confrontation_class("turnover").__name__ == "TurnoverConfrontation"


def _fake_entry_points(monkeypatch, *declared: tuple[str, str, str]):
    class Dist:
        def __init__(self, name):
            self.name = name

    points = []
    for name, value, dist in declared:
        point = importlib.metadata.EntryPoint(name, value, ENTRY_POINT_GROUP)
        points.append(type("EP", (), {"name": point.name, "value": point.value, "dist": Dist(dist)})())
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: points)


class NotAConfrontation:
    kind = "not_a_confrontation"


def test_unknown_type_lists_the_known_ones(fresh):
    with pytest.raises(ConfigError, match=r"unknown confrontation type 'nope'; known types: .*turnover"):
        confrontation_class("nope", "bench.yaml")


def test_a_kind_declared_twice_with_different_targets_is_an_error(fresh, monkeypatch):
    _fake_entry_points(monkeypatch, ("turnover", "otherpkg.mod:Turnover", "otherpkg"))
    with pytest.raises(ConfigError, match="'turnover' is declared twice: otherpkg.mod:Turnover"):
        confrontation_class("turnover")
    assert confrontation_class("taylor").kind == "taylor"  # the conflict spoils only its own kind


def test_a_broken_plugin_is_a_one_line_config_error(fresh, monkeypatch):
    _fake_entry_points(monkeypatch, ("broken", "no_such_module_xyz:Thing", "brokenpkg"),
                       ("plain", f"{__name__}:NotAConfrontation", "plainpkg"),
                       ("renamed", "soilbench.confrontations.turnover:TurnoverConfrontation", "renamedpkg"))
    with pytest.raises(ConfigError, match=r"'broken' \(no_such_module_xyz:Thing\) cannot be loaded: ModuleNotFound"):
        confrontation_class("broken")
    with pytest.raises(ConfigError, match="is not a soilbench Confrontation subclass"):
        confrontation_class("plain")
    with pytest.raises(ConfigError, match="declares kind 'turnover'; the entry-point name must equal"):
        confrontation_class("renamed")


def test_lookup_imports_only_the_module_of_the_requested_type(fresh):
    code = ("import sys; from soilbench.confrontations import confrontation_class; "
            "confrontation_class('taylor'); "
            "print('soilbench.confrontations.turnover' in sys.modules, 'soilbench.confrontations.sites' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "False"]
