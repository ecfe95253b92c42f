"""The commands' options: those made from the parameter tree (core/params.py), one flag per option
with its default, bounds and help from the tree, so the CLI cannot drift from the widgets; and the
hand-written ones several commands share (files and output, weights, batches, style masks)."""

from __future__ import annotations

import argparse
import math
from typing import Any

from napari_partial_style.core.options import Leaf, build, help_text, leaves

GROUP_TITLES = {
    "session": "device and size",
    "segment": "segmentation",
    "style": "style transfer",
    "composite": "compositing",
    "score": "scoring",
}


def finite_float(text: str) -> float:
    """argparse type: a float that is a real number (nan and inf would give a black result)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


TYPES = {int: whole_number, float: finite_float, str: str}


def add_leaf(group: argparse._ArgumentGroup, leaf: Leaf) -> None:
    opt = leaf.option
    metavar = opt.metavar or leaf.flag.lstrip("-").upper().replace("-", "_")
    kwargs: dict[str, Any] = {"dest": leaf.dest, "help": help_text(leaf)}
    if leaf.base is bool:
        kwargs.update(action=argparse.BooleanOptionalAction, default=None)  # None: not given, so overrides apply
    elif leaf.item is not None:
        kwargs.update(type=TYPES[leaf.item], default=None, metavar=metavar)
        if leaf.length is None:
            kwargs.update(nargs="+", action="extend")
        else:
            kwargs.update(nargs=leaf.length)
    else:
        choices = opt.choice_list()
        kwargs.update(type=TYPES[leaf.base], default=None, choices=choices, metavar=None if choices else metavar)
    group.add_argument(leaf.flag, **kwargs)


def add_tree(
    parser: argparse.ArgumentParser, cls: type, parts: tuple[str, ...], exclude: tuple[tuple[str, ...], ...] = ()
) -> None:
    """The options of the subtrees `parts` of `cls`, one argument group each, less the leaves in
    `exclude` (a command that takes several values of one, as `sweep` does for the style weight)."""
    for part in parts:
        group = parser.add_argument_group(GROUP_TITLES.get(part, part))
        for leaf in leaves(cls):
            if leaf.path[0] == part and leaf.path not in exclude:
                add_leaf(group, leaf)


def add_flat(parser: argparse.ArgumentParser, cls: type, title: str, exclude: tuple[tuple[str, ...], ...] = ()) -> None:
    """Every option of a flat parameter dataclass (TrainParams) as one argument group."""
    group = parser.add_argument_group(title)
    for leaf in leaves(cls):
        if leaf.path not in exclude:
            add_leaf(group, leaf)


def params_from(args: argparse.Namespace, cls: type, overrides: dict[tuple[str, ...], Any] | None = None) -> Any:
    """The tree built from the parsed flags; `overrides` replace the defaults of flags not given."""
    values = dict(overrides or {})
    for leaf in leaves(cls):
        value = getattr(args, leaf.dest, None)
        if value is None:
            continue
        if isinstance(value, list):
            value = tuple(dict.fromkeys(value)) if leaf.length is None else tuple(value)
        values[leaf.path] = value
    return build(cls, values)


def dests(parser: argparse.ArgumentParser) -> set[str]:
    """Every destination a parser fills (for the test that the CLI covers the tree)."""
    return {action.dest for action in parser._actions}


def add_io_options(parser: argparse.ArgumentParser) -> None:
    """Options of the command itself, not of the job (files, output, printing)."""
    from napari_partial_style.core.io.image_files import DEFAULT_MAX_PIXELS

    group = parser.add_argument_group("files and output")
    group.add_argument("--overwrite", action="store_true", help="replace an existing bundle")
    group.add_argument("--quiet", action="store_true", help="print nothing but errors and the bundle's path")
    group.add_argument(
        "--max-pixels",
        type=positive_int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"refuse input images with more pixels, read from the file's header before decoding "
        f"(default: {DEFAULT_MAX_PIXELS:.0e})",
    )
    add_weight_options(group)


def add_save_image(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--save-image",
        metavar="PATH",
        help="also write the composite alone as an image "
        "(.png for 8- and 16-bit content, .tif for float), for tools that do not open bundles",
    )


def add_weight_options(
    group, keys: tuple[str, ...] = ("vgg16", "vgg19"), what: str = "instead of the one looked up (see `weights`)"
) -> None:
    """--vgg16 PATH, --vgg19 PATH: an explicit weight file, one flag per known file (core/io/weights.py)."""
    from napari_partial_style.core.io.weights import KNOWN

    for key in keys:
        weight = KNOWN[key]
        group.add_argument(
            f"--{key}", metavar="PATH", help=f"{weight.key.upper()} weights file for {weight.purpose}, {what}"
        )


def add_job_options(
    parser: argparse.ArgumentParser, parts: tuple[str, ...], exclude: tuple[tuple[str, ...], ...] = ()
) -> None:
    from napari_partial_style.core.params import JobParams

    add_io_options(parser)
    add_tree(parser, JobParams, parts, exclude)


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("batches (Dask)")
    group.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="jobs at once in this process (default: 1; each job already uses every core)",
    )
    group.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the jobs on a dask.distributed cluster, e.g. tcp://host:8786"
    )


def add_style_mask(parser: argparse.ArgumentParser, which: str) -> None:
    parser.add_argument(
        "--style-mask",
        dest="style_masks",
        action="append",
        default=[],
        metavar="MASK",
        help=f"a mask of the style image's size whose nonzero pixels are its material: the style's "
        f"statistics come only from there, not from its background ({which})",
    )


def add_prompts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prompts",
        dest="prompts",
        action="append",
        default=[],
        metavar="[REGION=]FILE",
        help="corrections the segmentation's CRF obeys: napari's Points CSV (a point per row; a column "
        "'positive' true/false or 'sign' +/- marks points that are not the region) or a prompt label image "
        "of the content's size (1 = the region, 2 = not the region); REGION is a target class or a label "
        "value (default: 1, the first target); repeat for several files or regions",
    )
