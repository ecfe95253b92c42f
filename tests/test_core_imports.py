"""The core must stay importable without napari, Qt or magicgui, and the package must import light."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import napari_partial_style.core as core
for mod in pkgutil.walk_packages(core.__path__, "napari_partial_style.core."):
    importlib.import_module(mod.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in {"napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "vispy"})
print(",".join(bad))
"""


def test_core_imports_no_gui_modules():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_package_import_does_not_import_torch():
    code = (
        "import sys, napari_partial_style, napari_partial_style._napari.reader, napari_partial_style._napari.writer, "
        "napari_partial_style._napari.sample_data, napari_partial_style._napari; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Which modules of the package each layer may not import, read from the source (lazy imports inside
# functions count too): the core is below everything; the napari plugin and batches sit beside the CLI.
FORBIDDEN = {
    "core": (
        "napari_partial_style.api",
        "napari_partial_style.batch",
        "napari_partial_style.cli",
        "napari_partial_style._napari",
        "napari",
        "qtpy",
        "magicgui",
    ),
    "_napari": ("napari_partial_style.cli", "napari_partial_style.batch"),
    "batch": ("napari_partial_style.cli", "napari_partial_style._napari"),
}


def imported_modules(path, package):
    """Every module a source file imports, relative imports resolved against `package`."""
    import ast

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def test_each_layer_imports_only_the_layers_below_it():
    from pathlib import Path

    import napari_partial_style

    root = Path(napari_partial_style.__file__).parent
    found = []
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((root / layer).rglob("*.py")):
            package = ".".join(("napari_partial_style", *path.relative_to(root).parent.parts))
            found += [
                f"{path.relative_to(root)} imports {name}"
                for name in imported_modules(path, package)
                if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
            ]
    assert not found, "\n".join(found)
    assert list((root / "batch").rglob("*.py")), "the batch layer moved: update FORBIDDEN"


def package_imports(package: str = "napari_partial_style.core") -> dict[str, set[str]]:
    """{module of `package`: the modules of it that its source imports}, a package's import
    meaning its __init__."""
    import importlib
    from pathlib import Path

    root = Path(importlib.import_module(package).__file__).parent
    names = {}
    for path in root.rglob("*.py"):
        parts = (*package.split("."), *path.relative_to(root).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return {
        name: {
            found
            for found in imported_modules(path, name if path.name == "__init__.py" else name.rsplit(".", 1)[0])
            if found in names and found != name
        }
        for name, path in names.items()
    }


def test_the_parameter_tree_imports_no_stage_and_the_core_has_no_circles():
    """params.py reads the registries' names from core/registry.py, never from the stages it configures;
    no core module imports one that imports it back."""
    graph = package_imports()
    stages = ("segment", "style", "train", "io", "job")
    assert not {m for m in graph["napari_partial_style.core.params"] if m.split(".")[2] in stages}
    assert_no_circles(graph)


def test_the_whole_package_has_no_circles():
    """The CLI, the napari plugin, batches and the API too: no module imports one that imports it back."""
    assert_no_circles(package_imports("napari_partial_style"))


def assert_no_circles(graph: dict[str, set[str]]) -> None:
    done: set[str] = set()

    def visit(name, path):
        assert name not in path, "import circle: " + " -> ".join([*path[path.index(name) :], name])
        if name not in done:
            for child in sorted(graph[name]):
                visit(child, [*path, name])
            done.add(name)

    for name in sorted(graph):
        visit(name, [])
