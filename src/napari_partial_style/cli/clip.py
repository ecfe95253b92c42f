"""`run CLIP STYLE --out NAME.pstyle`: one region of a clip restyled in every frame (core/video/clip.py).

A clip is a video file, a multi-page TIFF, an animated GIF (core/video/frames.py's is_clip_file, as
a batch decides), or a folder of frames written to one bundle (`--out` ending in .pstyle; a folder
with `--out DIR` stays a batch). A single photo (a still GIF too) keeps the one-image job. The bundle is written a frame at a time, with a frame axis in every layer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from napari_partial_style.core.errors import InputError


def is_clip(args: argparse.Namespace) -> bool:
    """One content that is a clip file (a video, a TIFF of several pages, an animated GIF), or a folder bound for one bundle."""
    from napari_partial_style.core.io.bundle import SUFFIX
    from napari_partial_style.core.video.frames import is_clip_file

    if len(args.content) != 1:
        return False
    path = Path(args.content[0])
    if path.is_dir():
        return Path(args.out).suffix == SUFFIX
    return is_clip_file(path)


def cmd_clip(args: argparse.Namespace) -> int:
    """The clip job with progress, its bundle written a frame at a time, and --save-video's video."""
    from napari_partial_style.api import Session
    from napari_partial_style.cli.jobs import explicit_weights, job_params, read_styles
    from napari_partial_style.core.io.image_files import read_image_file
    from napari_partial_style.core.video.clip import run_clip
    from napari_partial_style.core.video.clip_bundle import write_clip
    from napari_partial_style.core.video.frames import open_frames

    _refuse(args)
    params = job_params(args)
    content = args.content[0]
    try:
        frames = open_frames(content, args.max_pixels)
    except InputError as exc:
        if not Path(content).is_dir():
            raise
        raise InputError(f"{exc} (a folder with --out NAME.pstyle is one clip; for a batch give --out DIR)") from exc
    labels = None if args.labels is None else read_image_file(args.labels, args.max_pixels)
    if labels is not None and (params.segment.saliency.targets or params.segment.saliency.subtract):
        raise InputError(
            "--target and --subtract choose what segmentation finds, but --labels gives frame 0's region already; drop one."
        )
    style, named = read_styles(args, labels)
    session = Session(params.session, weights=explicit_weights(args))
    printer = args.printer
    count = f"{frames.count} frames" if frames.count else "frames"
    printer.info(f"{content}: {count} of {frames.shape[1]}×{frames.shape[0]} px, device {session.device}")
    inputs = {"content": content, "style": named, **({"labels": args.labels} if args.labels else {})}
    job = run_clip(session, frames, style, params, labels)
    path, record = write_clip(job, args.out, style, inputs, args.overwrite, args.save_video, printer)
    if args.save_video:
        printer.info(f"wrote {args.save_video}")
    printer.info(f"wrote {path} ({record.frames} frames)")
    printer.info(f"open it in napari:  napari {path}")
    if args.quiet:
        print(path)
    return 0


def _refuse(args: argparse.Namespace) -> None:
    """What a clip does not take, named before any work."""
    for flag, given in (
        ("--prompts", args.prompts),
        ("--style-labels", args.style_labels),
        ("--save-image", args.save_image),
        ("--workers", args.workers != 1),
        ("--scheduler", args.scheduler),
    ):
        if given:
            raise InputError(
                f"{flag} is for photos; a clip takes --labels (frame 0's) or --target, and --save-video for the composite."
            )
    if any(region for region, _, _ in args.region_styles):
        raise InputError(
            "a clip takes one style for its region (positional, or --style STYLE); REGION=STYLE is for photos."
        )
