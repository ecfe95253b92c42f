"""`train` the material classifier, and fetch its data set with `datasets`."""

from __future__ import annotations

import argparse
from pathlib import Path

from napari_partial_style.cli.jobs import explicit_weights
from napari_partial_style.core.errors import Cancelled, InputError


def cmd_train(args: argparse.Namespace) -> int:
    from napari_partial_style.cli.options import params_from
    from napari_partial_style.core.io import weights
    from napari_partial_style.core.params import JobParams, TrainParams
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.runtime.device import get_device
    from napari_partial_style.core.train.datasets import load_dataset
    from napari_partial_style.core.train.training import Trainer, check_outputs, output_paths

    params = params_from(args, TrainParams)
    if args.resume and args.overwrite:
        raise InputError("--resume continues the run of --out and --overwrite starts it afresh; give one of them.")
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    twice = sorted({c for c in classes or () if [x.lower() for x in classes].count(c.lower()) > 1})
    if twice:
        raise InputError(f"--classes names {', '.join(twice)} more than once; give each class once.")
    out = check_outputs(Path(args.out), resume=args.resume, overwrite=args.overwrite)
    printer = args.printer
    dataset = load_dataset(args.data, classes)
    for _, problem in dataset.skipped:
        printer.info(f"skipped {problem}")
    device = get_device(params_from(args, JobParams).session.device)
    vgg16 = None
    if params.pretrained and not args.resume:
        vgg16 = drain(weights.ensure_steps([weights.VGG16], explicit_weights(args)), printer)["vgg16"]
    trainer = Trainer(dataset, params, out, device, vgg16, resume=args.resume)
    printer.info(
        f"{len(dataset)} images, {len(dataset.classes)} classes ({', '.join(dataset.classes)}); "
        f"{len(trainer.train_idx)} train / {len(trainer.val_idx)} validation; batch {trainer.batch_size} "
        f"on {device}; from epoch {trainer.epoch + 1} of {params.epochs}"
    )
    try:
        summary = drain(trainer.run(), printer)
    except (
        KeyboardInterrupt,
        Cancelled,
    ):  # the state on disk is the last whole epoch's: the one in memory is mid-epoch
        state = output_paths(out)[2]
        args.on_interrupt = (
            f"the state of the last finished epoch is in {state}; continue with --resume."
            if state.is_file()
            else "no epoch finished, so there is nothing to resume."
        )
        raise
    if dataset.skipped:
        printer.info(f"{len(dataset.skipped)} unreadable image(s) were skipped (listed above).")
    printer.info(f"best checkpoint: {summary['checkpoint']} (log: {summary['log']})")
    printer.info(
        f"use it:  napari-partial-style run CONTENT STYLE --classifier {summary['checkpoint']} --out RESULT.pstyle"
    )
    if args.quiet:
        print(summary["checkpoint"])
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.train.datasets import fmd_steps

    path = drain(fmd_steps(args.dest), args.printer)
    print(f"FMD is in {path}; train with:  napari-partial-style train {path} --out fmd.pt")
    return 0
