"""The house's shape, read from the source: small files, short functions, a core of few modules, and
docks that are views (no job driven by clicking buttons, no widget reaching into another)."""

import ast
import re
from pathlib import Path

import napari_partial_style

SRC = Path(napari_partial_style.__file__).parent
TESTS = Path(__file__).parent
NAPARI = SRC / "_napari"


def test_no_file_over_600_lines_in_src_or_tests():
    big = [
        f"{path} ({n} lines)"
        for path in sorted([*SRC.rglob("*.py"), *TESTS.glob("*.py")])
        if (n := path.read_text().count("\n")) > 600
    ]
    assert not big, "split by what they hold:\n" + "\n".join(big)


def test_no_function_over_80_lines_in_the_package():
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert not long, "split into named helpers:\n" + "\n".join(long)


def test_the_core_has_at_most_10_top_level_modules_and_the_job_its_own_package():
    loose = sorted(p.name for p in (SRC / "core").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 10, loose
    assert {"document.py", "pipeline.py", "history.py", "replay.py"} <= {
        p.name for p in (SRC / "core" / "job").glob("*.py")
    }


def test_no_dock_drives_a_job_by_clicking_or_reaches_into_another_widget():
    """Run all is one worker over the job's document: no `.native.click()` in the package, no widget
    module imports another widget module (docks.py puts them together) or the job rules (the core
    holds them: core/job/rules.py), and no widget touches another's private members
    (`self.stylize._pick_labels()`, `composite.runner.last_error = ...`)."""
    widget_modules = {p.stem for p in NAPARI.glob("*_widget.py")}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        found += [f"{path.name}: clicks a button" for _ in re.finditer(r"\.native\.click\(\)", text)]
        if path.parent == NAPARI and path.stem in widget_modules:
            for module in widget_modules - {path.stem}:
                if f"_napari.{module}" in text:
                    found.append(f"{path.name} imports {module}")
            found += [f"{path.name} calls the job rules" for _ in re.finditer(r"core\.job\.rules", text)]
            found += [
                f"{path.name}: {m.group(0)}"
                for m in re.finditer(r"self\.(segment|stylize|composite|flow)\.\w*\._\w+|\.last_error\s*=[^=]", text)
            ]
    assert not found, "\n".join(found)
