"""How a job option is declared once and reaches the CLI, the napari widgets and the manifest.

Each option is a dataclass field made with `option(...)`: its default, bounds, choices, help text,
CLI flag and widget label live in the field's metadata. Parameter dataclasses nest (a field whose
type is another parameter dataclass is a group); `leaves()` walks the tree, and the CLI
(`cli/options.py`) and the widgets (`_napari/forms.py`) are generated from that walk. Pure Python:
importing it costs nothing, so napari can build widgets without importing torch.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from napari_partial_style.core.errors import InputError


@dataclass(frozen=True)
class Option:
    """What the front ends need to know about one option, beside its default and type."""

    help: str
    flag: str | None = None  # CLI flag; default: --<field-name-with-dashes>
    label: str | None = None  # widget label; default: the field name with spaces
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    none_text: str = "default"  # how a None default is shown ("auto", "default", ...)
    metavar: str | tuple[str, ...] | None = None
    advanced: bool = False  # in napari: inside the collapsed "Advanced" section
    widget: str | None = None  # a custom napari widget by key (classifier, targets, ...)
    # A strength where 0 is off: in napari a tick box and a log slider over (low, first, high).
    slider: tuple[float, float, float] | None = None

    def choice_list(self) -> list[str] | None:
        if self.choices is None:
            return None
        return list(self.choices() if callable(self.choices) else self.choices)


def option(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field carrying its `Option`."""
    return field(default=default, metadata={"option": Option(help, **kwargs)})


def group(cls: type) -> Any:
    """A dataclass field holding a nested parameter dataclass, built with its defaults."""
    return field(default_factory=cls, metadata={"group": True})


@dataclass(frozen=True)
class Leaf:
    """One option of a tree: its path from the root (("segment", "crf", "iterations")), the
    field, its resolved type and its `Option`."""

    path: tuple[str, ...]
    name: str
    type: Any
    default: Any
    option: Option

    @property
    def dest(self) -> str:
        """The flat name the CLI parses into: the path joined with "__"."""
        return "__".join(self.path)

    @property
    def flag(self) -> str:
        return self.option.flag or "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        return self.option.label or self.name.replace("_", " ")

    @property
    def optional(self) -> bool:
        """The type admits None (the option has an "automatic" value)."""
        return type(None) in typing.get_args(self.type)

    @property
    def base(self) -> Any:
        """The type without None: int, float, str, bool or tuple[...]."""
        args = [a for a in typing.get_args(self.type) if a is not type(None)]
        return args[0] if self.optional and len(args) == 1 else self.type

    @property
    def item(self) -> type | None:
        """The item type of a tuple option (tuple[float, ...] or tuple[float, float]), else None."""
        if typing.get_origin(self.base) is not tuple:
            return None
        return typing.get_args(self.base)[0]

    @property
    def length(self) -> int | None:
        """A fixed tuple length (tuple[float, float] → 2); None for tuple[X, ...] and non-tuples."""
        args = typing.get_args(self.base)
        return None if self.item is None or Ellipsis in args else len(args)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def leaves(cls: type, prefix: tuple[str, ...] = ()) -> Iterator[Leaf]:
    """Every option of the tree rooted at `cls`, depth first, in declaration order."""
    for f in dataclasses.fields(cls):
        if f.metadata.get("group"):
            yield from leaves(_hints(cls)[f.name], prefix + (f.name,))
        elif "option" in f.metadata:
            yield Leaf(prefix + (f.name,), f.name, _hints(cls)[f.name], f.default, f.metadata["option"])


def build(cls: type, values: dict[tuple[str, ...], Any], prefix: tuple[str, ...] = ()) -> Any:
    """An instance of `cls` from {path: value}; options not given keep their defaults. Each
    dataclass checks its own values, so a bad value raises InputError naming the option."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        path = prefix + (f.name,)
        if f.metadata.get("group"):
            kwargs[f.name] = build(_hints(cls)[f.name], values, path)
        elif path in values:
            kwargs[f.name] = values[path]
    return cls(**kwargs)


def flatten(params: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """{path: value} of an instance: the inverse of `build`."""
    out = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if f.metadata.get("group"):
            out.update(flatten(value, prefix + (f.name,)))
        elif "option" in f.metadata:
            out[prefix + (f.name,)] = value
    return out


def check(params: Any) -> None:
    """Each option of a dataclass within its bounds and choices, and finite: the one check every
    front end's values go through (the CLI, the widgets, scripts calling the API)."""
    for leaf in leaves(type(params)):
        if len(leaf.path) != 1:
            continue
        value = getattr(params, leaf.name)
        if value is None and leaf.optional:
            continue
        if leaf.item is not None and not isinstance(value, tuple):
            raise InputError(
                f"{leaf.name} takes a tuple of {leaf.item.__name__} values, not {type(value).__name__} "
                f"{value!r}; e.g. {leaf.name}=({shown_item(leaf.default, leaf.item)!r},)."
            )
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            _check_type(leaf, item)
            _check_value(leaf, item)
        if leaf.length is not None and len(values) != leaf.length:
            raise InputError(f"{leaf.flag} takes {leaf.length} values, not {len(values)}.")


def shown_item(default: Any, item: type) -> Any:
    """An example item for a tuple option's message: its default's first, else a value of its type."""
    return default[0] if default else {str: "cup", int: 1, float: 1.0}.get(item, item())


def _check_type(leaf: Leaf, value: Any) -> None:
    """The value's Python type is the option's (an int for a float is fine, and a class's index
    among names): `steps="3"` from a script is refused here, not deep inside the run."""
    expected = leaf.item or leaf.base
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    fits = {
        int: number and isinstance(value, int),
        float: number,
        bool: isinstance(value, bool),
        str: isinstance(value, str) or (leaf.item is str and number and isinstance(value, int)),
    }.get(expected, True)
    if not fits:
        raise InputError(f"{leaf.name} must be {_TYPE_WORDS[expected]}, not {type(value).__name__} {value!r}.")


_TYPE_WORDS = {int: "a whole number", float: "a number", bool: "True or False", str: "a string"}


def _check_value(leaf: Leaf, value: Any) -> None:
    opt, name = leaf.option, leaf.flag.lstrip("-")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        choices = opt.choice_list()
        if choices is not None and value not in choices:
            raise InputError(f"{name} {value!r} is unknown; use {' or '.join(choices)}.")
        return
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, not {value}.")
    if opt.min is not None and value < opt.min:
        raise InputError(f"{name} must be at least {opt.min:g}, not {value:g}.")
    if opt.max is not None and value > opt.max:
        raise InputError(f"{name} must be at most {opt.max:g}, not {value:g}.")


def shown(value: Any) -> str:
    """A value as the CLI's help and the widgets show it: large floats in scientific notation."""
    if isinstance(value, tuple):
        return " ".join(shown(v) for v in value)
    return (
        f"{value:.3g}"
        if isinstance(value, float) and value >= 1e4
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )


def help_text(leaf: Leaf) -> str:
    """The option's help with its default and bounds, for `--help` and the widgets' tooltips."""
    opt = leaf.option
    bounds = ""
    if opt.min is not None and opt.max is not None:
        bounds = f"; {shown(opt.min)} to {shown(opt.max)}"
    if leaf.default is None or leaf.default == ():
        return opt.help + bounds
    return f"{opt.help} (default: {shown(leaf.default)}{bounds})"


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """An instance of `cls` from its `asdict` form (a manifest's record): lists become tuples,
    keys the tree does not know are ignored, missing ones keep their defaults."""
    values = {}
    for leaf in leaves(cls):
        node: Any = data
        for key in leaf.path:
            node = node.get(key, _MISSING) if isinstance(node, dict) else _MISSING
        if node is not _MISSING:
            values[leaf.path] = tuple(node) if isinstance(node, list) else node
    return build(cls, values)


_MISSING = object()


def options_markdown(cls: type) -> str:
    """A Markdown table of every option of `cls` (field, flag, napari label, default, bounds,
    help): docs/api.md carries it, and a test checks that it is this, so it cannot drift."""
    rows = [
        "| field | CLI flag | napari label | default | range or choices | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for leaf in leaves(cls):
        opt = leaf.option
        default = opt.none_text if leaf.default is None else shown(leaf.default) if leaf.default != () else "none"
        choices = opt.choice_list()
        span = (
            ", ".join(choices)
            if choices
            else (f"{shown(opt.min)} to {shown(opt.max)}" if opt.min is not None and opt.max is not None else "")
        )
        flag = f"`{leaf.flag}`" + (f" / `--no-{leaf.flag[2:]}`" if leaf.base is bool else "")
        rows.append(
            f"| `{'.'.join(leaf.path)}` | {flag} | {leaf.label} | {default} | {span} | {opt.help.replace('|', '/')} |"
        )
    return "\n".join(rows) + "\n"
