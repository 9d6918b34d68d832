"""The layers hold: no import circles, no library module importing a face, no private names across modules.

Read from the source with `ast` (imports inside functions included), so the
rules hold for every import, not only those that run in a test. Faces are the
command line (`cli`, `cli_*`, `__main__`) and the web page (`deepdream.web`);
everything else under `deepdream/` and `inception_keras/` is library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("deepdream", "inception_keras")
FOLDERS = (*PACKAGES, "tests", "benchmarks", "examples")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_modules() -> dict[str, ast.Module]:
    return {_module_name(path): ast.parse(path.read_text(), str(path))
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


MODULES = _package_modules()


def _imports(name: str, tree: ast.Module) -> set[str]:
    """The project modules `name` imports, at module level or inside functions."""
    found = set()
    package = name if (ROOT / name.replace(".", "/")).is_dir() else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & set(MODULES)
            found |= submodules  # `from package import module` imports the module, not a circle through the package
            if len(submodules) < len(node.names):
                found.add(base)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: _imports(name, tree) for name, tree in MODULES.items()}


def _is_face(name: str) -> bool:
    last = name.rpartition(".")[2]
    return last == "cli" or last.startswith("cli_") or last == "__main__" or name.startswith("deepdream.web")


def test_the_scan_sees_the_project():
    assert {"deepdream.jobs", "deepdream.options", "deepdream.cli", "deepdream.web.app"} <= set(MODULES)
    assert "deepdream.options" in GRAPH["deepdream.jobs"] and "deepdream.jobs" in GRAPH["deepdream.cli_still"]


def test_no_import_circles():
    def visit(name, trail):
        if name in trail:
            cycle = trail[trail.index(name):] + [name]
            pytest.fail("import circle: " + " -> ".join(cycle))
        for imported in sorted(GRAPH[name]):
            if imported not in done:
                visit(imported, trail + [name])
        done.add(name)

    done: set[str] = set()
    for module in sorted(GRAPH):
        visit(module, [])


def test_no_library_module_imports_a_face():
    wrong = {name: sorted(filter(_is_face, imported)) for name, imported in GRAPH.items() if not _is_face(name)}
    assert {name: faces for name, faces in wrong.items() if faces} == {}


def test_the_web_page_does_not_import_the_command_line():
    wrong = {name: sorted(m for m in imported if _is_face(m) and not m.startswith("deepdream.web"))
             for name, imported in GRAPH.items() if name.startswith("deepdream.web")}
    assert {name: cli for name, cli in wrong.items() if cli} == {}


def _private_definitions(tree: ast.Module) -> set[str]:
    """The private names a file defines: functions, classes, module names, and `self._x` attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return {name for name in names if _is_private(name)}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


TREES = {path: ast.parse(path.read_text(), str(path))
         for folder in FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))}
DEFINED = {path: _private_definitions(tree) for path, tree in TREES.items()}


def _private_uses(path: Path) -> list[str]:
    """`from m import _x`, and `x._y` where another project file defines `_y`: a private name taken from elsewhere.

    Private names of other libraries (Keras's `_keras_history`) are theirs to keep, not this rule's.
    """
    elsewhere = set().union(*(names for other, names in DEFINED.items() if other != path)) - DEFINED[path]
    found = []
    for node in ast.walk(TREES[path]):
        if isinstance(node, ast.ImportFrom):
            found += [f"{path.name}:{node.lineno} from {node.module} import {alias.name}" for alias in node.names
                      if _is_private(alias.name)]
        elif isinstance(node, ast.Attribute) and node.attr in elsewhere:
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_private_names_across_modules(folder):
    found = [use for path in TREES if path.is_relative_to(ROOT / folder) and path.name != "test_layering.py"
             for use in _private_uses(path)]
    assert found == []
