"""The core stays readable: short functions, and style functions that take a request, not a dozen values."""

import ast
from pathlib import Path

import napari_partial_style.core as core

CORE = Path(core.__file__).parent
MAX_LINES = 80
MAX_STYLE_PARAMETERS = 7


def functions(folder: Path):
    """(path relative to core, function node) for every function and method under `folder`."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(CORE), node


def parameters(node: ast.FunctionDef) -> list[str]:
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a]
    return [name for name in names if name not in ("self", "cls")]


def test_no_core_function_is_longer_than_80_lines():
    long = [
        f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path, node in functions(CORE)
        if node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert not long, "split into named helpers:\n" + "\n".join(long)


def test_no_style_function_takes_more_than_7_parameters():
    many = [
        f"{path}:{node.lineno} {node.name} ({len(parameters(node))})"
        for path, node in functions(CORE / "style")
        if len(parameters(node)) > MAX_STYLE_PARAMETERS
    ]
    assert not many, "pass a request (transfer.LevelRequest, pyramid.PyramidRequest):\n" + "\n".join(many)
