"""What every job command shares: its parameters and weight files from the flags, the checks of its
inputs, and running one job with progress bars into its bundle."""

from __future__ import annotations

import argparse
from pathlib import Path

from napari_partial_style.core.errors import InputError


def job_params(args: argparse.Namespace, overrides: dict | None = None):
    from napari_partial_style.cli.options import params_from
    from napari_partial_style.core.params import JobParams

    return params_from(args, JobParams, overrides)


def explicit_weights(args: argparse.Namespace) -> dict[str, str]:
    return {key: getattr(args, key) for key in ("vgg19", "vgg16") if getattr(args, key, None)}


def check_stdin(paths: list[str | None], batch: bool = False) -> None:
    """Standard input ('-') holds one image, and a batch's workers read files, not a pipe."""
    from napari_partial_style.core.io.image_files import STDIN

    piped = sum(path == STDIN for path in paths)
    if piped and batch:
        raise InputError("'-' (standard input) is for one content at a time; a batch reads files: give their paths.")
    if piped > 1:
        raise InputError(f"'-' (standard input) is given {piped} times; it holds one image: give the others as files.")


def read_style(path: str, what: str, mask: str | None, max_pixels: int):
    """A style image file, with the region of a --style-mask file when one is given."""
    from napari_partial_style.core.images import read_source_image
    from napari_partial_style.core.io.image_files import read_image_file
    from napari_partial_style.core.style.regions import with_style_region

    image = read_source_image(path, what, max_pixels)
    if mask is None:
        return image
    return with_style_region(image, read_image_file(mask, max_pixels), f"--style-mask {mask} (for {path})")


def style_masks(args: argparse.Namespace, count: int) -> list[str | None]:
    """The --style-mask files matched to `count` style images in order (None: no mask)."""
    if not args.style_masks:
        return [None] * count
    if len(args.style_masks) != count:
        raise InputError(
            f"{len(args.style_masks)} --style-mask for {count} style image(s); give one mask per style "
            "image, in the order the styles are given."
        )
    return list(args.style_masks)


def read_prompt_files(args: argparse.Namespace, shape: tuple[int, int]):
    """The --prompts [REGION=]FILE files as one Prompts (None without), refused before any work when
    they cannot correct this job (given labels, a file that is not a prompts file, pixels outside)."""
    from napari_partial_style.core.segment.prompts import Prompts, check_prompts, read_prompts

    values = getattr(args, "prompts", None) or []
    if not values:
        return None
    if getattr(args, "labels", None):
        raise InputError("--prompts correct a segmentation, and --labels gives the region already; drop one of them.")
    items = []
    for value in values:
        region, sep, path = value.partition("=")
        if not sep:
            region, path = "1", value
        if not region or not path:
            raise InputError(f"--prompts {value!r} is not [REGION=]FILE; e.g. --prompts clicks.csv or cup=strokes.png.")
        prompts = read_prompts(path, region, shape, args.max_pixels)
        check_prompts(prompts, shape)
        items += prompts.items
    return Prompts(tuple(items))


def check_save_image(args: argparse.Namespace, content) -> Path | None:
    """The picture's path, refused before any work if it cannot be written as asked."""
    from napari_partial_style.core.io.atomic import check_parent
    from napari_partial_style.core.io.image_files import image_suffix

    if getattr(args, "save_image", None) is None:
        return None
    path = Path(args.save_image)
    wanted = image_suffix(content.dtype)
    if path.suffix.lower() not in ((".tif", ".tiff") if wanted == ".tif" else (".png",)):
        raise InputError(
            f"--save-image {path}: a {content.dtype} composite is written as {wanted}; name it "
            f"{path.with_suffix(wanted).name}."
        )
    check_parent(path)
    if path.is_dir() or (path.exists() and not args.overwrite):
        raise InputError(f"--save-image {path} exists; pass --overwrite to replace it, or choose another name.")
    return path


def execute(
    args: argparse.Namespace, content, style, labels, inputs: dict[str, str], overrides: dict | None = None
) -> Path:
    """Check everything, run the job with progress bars, write the bundle; return its path."""
    from napari_partial_style.api import Session
    from napari_partial_style.core.io.bundle import check_target

    out = check_target(args.out, args.overwrite)
    picture = check_save_image(args, content) if style is not None else None
    params = job_params(args, overrides)
    given = job_params(args).segment.saliency  # what the user typed, without a command's own defaults
    if labels is not None and (given.targets or given.subtract):
        raise InputError(
            "--target and --subtract choose what segmentation finds, but --labels gives the region "
            "already; drop them, or drop --labels."
        )
    prompts = read_prompt_files(args, content.shape)
    if prompts:
        inputs = {**inputs, "prompts": ", ".join(args.prompts)}
    printer = args.printer
    session = Session(params.session, weights=explicit_weights(args))
    size = session.size_for(content.shape)
    chosen = "given" if params.session.size else f"default for {session.device.type}"
    steps = (
        f", {params.style.steps} steps at {_precision(params.style.precision, session.device)}"
        if style is not None
        else ""
    )
    printer.info(f"device {session.device}, working size {size} px ({chosen}){steps}")
    result = session.run(content, style, params, labels, inputs, prompts).result(printer)
    path = result.save(out, overwrite=args.overwrite)
    if picture is not None:
        from napari_partial_style.core.io.atomic import atomic_file
        from napari_partial_style.core.io.image_files import write_encoded

        with atomic_file(picture) as tmp, open(tmp, "wb") as fh:
            write_encoded(result.composite, picture.suffix, fh, picture.name)
        printer.info(f"wrote {picture}")
    if result.segmentation is not None:
        printer.info("targets: " + ", ".join(f"{k} ({v:.3f})" for k, v in result.segmentation.class_scores().items()))
        if (weak := result.segmentation.weak_targets()) is not None:
            printer.warn(weak)
    if result.scores is not None:
        from napari_partial_style.core.segment.score_meaning import summary

        printer.info(f"score: {summary(result.scores)}")
    printer.info(f"wrote {path}")
    printer.info(f"open it in napari:  napari {path}")
    printer.info(f"or unpack its images (a zip):  unzip {path} -d {path.with_suffix('')}")
    if args.quiet:
        print(path)
    return path


def _precision(asked: str, device) -> str:
    """The network's precision as the job will run it: `auto`'s choice comes with its reason."""
    from napari_partial_style.core.runtime.precision import auto_precision

    if asked != "auto":
        return asked
    chosen, why = auto_precision(device)
    return f"{chosen} (auto: {why})"


def read_styles(args: argparse.Namespace, labels) -> tuple[object, str]:
    """The job's style (one image, a blend, one per region, or paired by label) and how the
    manifest names it."""
    from napari_partial_style.core.images import read_source_image
    from napari_partial_style.core.io.image_files import read_image_file

    if args.style_labels:
        from napari_partial_style.core.style.regions import styles_by_label

        named = args.style or args.region_styles[0][1]
        style = styles_by_label(
            read_source_image(named, "style", args.max_pixels),
            read_image_file(args.style_labels, args.max_pixels),
            labels,
            f"--style-labels {args.style_labels}",
            job_params(args).composite.label_values,
            f"--labels {args.labels}",
        )
    elif args.region_styles:
        groups: dict[str, list] = {}
        masks = style_masks(args, len(args.region_styles))
        for (region, path, weight), mask in zip(args.region_styles, masks):
            what = f"style for {region}" if region else "style"
            groups.setdefault(region, []).append((read_style(path, what, mask, args.max_pixels), weight))
        style = groups[""] if list(groups) == [""] else groups  # each a blend (of one, unless repeated)
        blend = args.style_blend is not None
        named = ", ".join(
            f"{region + '=' if region else ''}{path}" + (f" ({weight:g})" if blend else "")
            for region, path, weight in args.region_styles
        )
    else:
        style, named = read_style(args.style, "style", style_masks(args, 1)[0], args.max_pixels), args.style
    return style, named
