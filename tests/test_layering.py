"""Layering: the pure analyses never import the loaders (docs/architecture.md, "Modules")."""

from __future__ import annotations

import ast
from pathlib import Path

import soilbench

PACKAGE = Path(soilbench.__file__).parent


def _imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """Every module a module of ``package`` imports (absolute names; relative imports resolved),
    with its line."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, base))
            # ``from soilbench import load`` imports the package too
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _imports_load(module: str) -> bool:
    return module == "soilbench.load" or module.startswith("soilbench.load.")


def test_no_analysis_module_imports_the_loaders():
    paths = sorted((PACKAGE / "analysis").rglob("*.py"))
    assert len(paths) > 10
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}" for path in paths
                 for line, module in _imported_modules(path.read_text(encoding="utf-8"),
                                                       ".".join(path.relative_to(PACKAGE.parent).parts[:-1]))
                 if _imports_load(module)]
    assert not offenders, "\n".join(offenders)


def test_the_check_sees_every_form_of_import():
    # module-level, function-level, from- and relative imports of the loaders are all caught
    sources = ["import soilbench.load.grid", "from soilbench.load import timeaxis", "from soilbench import load",
               "def f():\n    from soilbench.load.units import ureg", "from ..load import grid", "from .. import load"]
    for source in sources:
        assert any(_imports_load(m) for _, m in _imported_modules(source, "soilbench.analysis")), source
    allowed = "from soilbench.geometry import cell_bounds\nfrom . import periods\nfrom ..units import ureg\n"
    assert not any(_imports_load(m) for _, m in _imported_modules(allowed, "soilbench.analysis"))
