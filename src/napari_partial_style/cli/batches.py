"""Many jobs in one command: `run` given several contents (a folder, a glob), and `evaluate`.
Both are resumable and end with exit status 1 when some jobs failed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from napari_partial_style.cli.jobs import explicit_weights, job_params
from napari_partial_style.core.errors import EXIT_SOME_FAILED, InputError


def is_batch(contents: list[str]) -> bool:
    return len(contents) > 1 or Path(contents[0]).is_dir() or any(ch in contents[0] for ch in "*?[")


def run_contents(args: argparse.Namespace) -> int:
    """`run` on several contents: one style for all (checked here), one bundle each in --out."""
    from napari_partial_style.batch.runner import batch_steps

    if [region for region, _, _ in args.region_styles] == [""]:  # --style STYLE: the batch's one style
        args.style = args.region_styles[0][1]
    elif any(region for region, _, _ in args.region_styles):
        raise InputError(
            "--style REGION=STYLE is for one content at a time; a batch takes one style (positional, or --style STYLE)."
        )
    elif args.region_styles:
        raise InputError(
            "a batch takes one style; blending several (--style A --style B) is for one content at a time."
        )
    if args.style_masks:
        raise InputError("--style-mask is for one content at a time; a batch can use --style-region auto.")
    if args.prompts:
        raise InputError("--prompts correct one content's segmentation; give one content with its prompts.")
    if args.save_image:
        raise InputError(
            "--save-image is for one content at a time; a batch's composites are in its bundles "
            "(unzip them, or open them in napari)."
        )

    return run_batch(
        args,
        batch_steps(
            args.content,
            args.style,
            job_params(args),
            args.out,
            args.labels,
            args.workers,
            args.scheduler,
            args.overwrite,
            args.max_pixels,
            explicit_weights(args),
        ),
    )


def run_batch(args: argparse.Namespace, steps) -> int:
    """Drive a batch or an evaluation; exit status 1 when some jobs failed."""
    from napari_partial_style.batch.runner import InterruptNote, describe
    from napari_partial_style.core.progress import drain

    args.on_interrupt = InterruptNote(args.out)
    summary = drain(steps, args.printer)
    for line in describe(summary):
        args.printer.info(line)
    if args.quiet:
        print(summary.out)
    return EXIT_SOME_FAILED if summary.failures else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from napari_partial_style.batch.runner import evaluate_steps

    command = "napari-partial-style " + " ".join(sys.argv[1:])
    return run_batch(
        args,
        evaluate_steps(
            args.contents,
            args.styles,
            job_params(args),
            args.out,
            args.per_class,
            args.workers,
            args.scheduler,
            not args.no_bundles,
            args.max_pixels,
            explicit_weights(args),
            command,
            args.overwrite,
        ),
    )
