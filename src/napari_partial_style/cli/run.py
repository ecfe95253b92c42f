"""The commands that run one job: `run` (one content; several go to batches.py), `segment` and `demo`."""

from __future__ import annotations

import argparse

from napari_partial_style.cli.batches import is_batch, run_contents
from napari_partial_style.cli.clip import cmd_clip, is_clip
from napari_partial_style.cli.jobs import check_stdin, execute, job_params, read_styles
from napari_partial_style.core.errors import InputError

DEMO_DEFAULTS = {
    ("segment", "saliency", "targets"): ("cup",),
    ("segment", "saliency", "subtract"): ("dining table", "plate", "wooden spoon"),
}


def split_styles(args: argparse.Namespace) -> None:
    """The positional STYLE (the last positional) unless --style [REGION=]STYLE is given; then
    `args.region_styles` is (region, path, weight) for each, region "" meaning every target."""
    pairs = []
    for value in args.region_styles:
        region, sep, path = value.partition("=")
        if not sep:
            region, path = "", value
        if not path or (sep and not region):
            raise InputError(
                f"--style {value!r} is not [REGION=]STYLE; e.g. --style stone.jpg, --style cup=stone.jpg "
                "or --style 2=wood.jpg."
            )
        pairs.append((region, path))
    weights = args.style_blend or [1.0] * len(pairs)
    if args.style_blend is not None and len(args.style_blend) != len(pairs):
        raise InputError(
            f"--style-blend has {len(args.style_blend)} weights for {len(pairs)} --style images; give one "
            "weight per --style (e.g. --style a.jpg --style b.jpg --style-blend 0.7 0.3)."
        )
    if any(not w > 0 for w in weights):
        raise InputError("--style-blend weights must be above 0.")
    if "" in {r for r, _ in pairs} and len({r for r, _ in pairs}) > 1:
        raise InputError("a --style without REGION= is for every target; it cannot be mixed with REGION=STYLE ones.")
    args.region_styles = [(region, path, weight) for (region, path), weight in zip(pairs, weights)]
    if pairs:
        args.style = None
        return
    if len(args.content) < 2:
        raise InputError("give a content image and a style image (or --style REGION=STYLE).")
    args.content, args.style = args.content[:-1], args.content[-1]


def check_style_labels(args: argparse.Namespace) -> None:
    """--style-labels pairs one style image's labels with the content's: what it cannot pair is refused."""
    if is_batch(args.content):
        raise InputError("--style-labels is for one content at a time; its labels are paired with that content's.")
    if not args.labels:
        raise InputError(
            "--style-labels pairs label values: give the content's labels too, as --labels MASK with the same values."
        )
    if args.style_masks:
        raise InputError("--style-labels already says where each style comes from; drop --style-mask.")
    if job_params(args).style.style_region:
        raise InputError(
            "--style-labels already says where in the style image each region's statistics come from; "
            "drop --style-region."
        )
    if len(args.region_styles) > 1 or any(region for region, _, _ in args.region_styles):
        raise InputError(
            "--style-labels takes one style image (positional, or --style STYLE) and pairs its labels "
            "with the content's; REGION=STYLE and blends are the other way to give regions styles."
        )


def cmd_run(args: argparse.Namespace) -> int:
    from napari_partial_style.core.images import read_source_image
    from napari_partial_style.core.io.image_files import read_image_file

    job_params(args)  # bad options are refused before the images are read and torch is imported
    split_styles(args)
    styles = [args.style] + [path for _, path, _ in args.region_styles]
    check_stdin(
        [*args.content, *styles, args.labels, *args.style_masks, args.style_labels, *args.prompts],
        batch=is_batch(args.content),
    )
    if is_clip(args):
        return cmd_clip(args)
    if args.save_video:
        raise InputError(
            f"--save-video is for clips; {args.content[0]} is not one (a video file, an animated GIF, a multi-page TIFF, or a "
            "folder of frames with --out NAME.pstyle): use --save-image for a photo."
        )
    if args.style_labels:
        check_style_labels(args)
    if is_batch(args.content):
        return run_contents(args)
    if args.scheduler or args.workers != 1:
        raise InputError(
            "--workers and --scheduler spread a batch (several contents, a folder or a glob); "
            "one content runs as one job: drop them."
        )
    args.content = args.content[0]
    content = read_source_image(args.content, "content", args.max_pixels)
    labels = None if args.labels is None else read_image_file(args.labels, args.max_pixels)
    style, named = read_styles(args, labels)
    inputs = {
        "content": args.content,
        "style": named,
        **({"labels": args.labels} if args.labels else {}),
        **({"style_masks": ", ".join(args.style_masks)} if args.style_masks else {}),
        **({"style_labels": args.style_labels} if args.style_labels else {}),
    }
    execute(args, content, style, labels, inputs)
    return 0


def cmd_segment(args: argparse.Namespace) -> int:
    from napari_partial_style.core.images import read_source_image

    job_params(args)  # bad options first, before the image is read and torch is imported
    execute(args, read_source_image(args.image, "image", args.max_pixels), None, None, {"content": args.image})
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from napari_partial_style import samples
    from napari_partial_style.core.images import as_source_image

    content = as_source_image(samples.coffee(), "coffee sample")
    style = as_source_image(samples.stone(), "stone sample")
    inputs = {"content": "skimage.data.coffee", "style": samples.STONE_SOURCE}
    labels = None
    if args.labels:
        labels = samples.coffee_cup_labels()
        inputs["labels"] = samples.CUP_LABELS_FILE
    execute(args, content, style, labels, inputs, DEMO_DEFAULTS)
    return 0
