"""The argument parser: the program's own flags, then one function per command adding its subparser."""

from __future__ import annotations

import argparse

from napari_partial_style.cli.options import (
    add_batch_options,
    add_flat,
    add_job_options,
    add_prompts,
    add_save_image,
    add_style_mask,
    add_tree,
    add_weight_options,
    finite_float,
    positive_int,
)

ALL_PARTS = ("session", "segment", "style", "composite", "score")
SEGMENT_PARTS = ("session", "segment")


def build_parser() -> argparse.ArgumentParser:
    from napari_partial_style import __version__

    parser = argparse.ArgumentParser(
        prog="napari-partial-style", description="Change the style or material of part of an image."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        add_run,
        add_evaluate,
        add_sweep,
        add_segment,
        add_demo,
        add_replay,
        add_train,
        add_datasets,
        add_weights,
    ):
        add(sub)
    return parser


def add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        help="stylize the target region of an image (or of many)",
        description="Segment CONTENT (or take --labels), stylize the target region with STYLE, score it, and "
        "write a result bundle. Several contents (files, folders, globs) make a batch: one bundle "
        "each in --out DIR/bundles, resumable, on Dask.",
    )
    run.add_argument(
        "content",
        nargs="+",
        metavar="CONTENT... STYLE",
        help="content image(s) (PNG, JPEG, TIFF), folders or glob patterns, then the style image; "
        "with --style, every positional is a content; '-' reads one image from standard input",
    )
    run.add_argument(
        "--style",
        dest="region_styles",
        action="append",
        default=[],
        metavar="[REGION=]STYLE",
        help="a style for one region (a target class or a label value, '=', an image) or, without "
        "REGION=, for every target; repeat for several regions in one job, or for one region to "
        "blend its styles (replaces the positional STYLE)",
    )
    run.add_argument(
        "--style-blend",
        type=finite_float,
        nargs="+",
        metavar="W",
        help="one weight per --style: styles of the same region are blended, their Gram targets mixed "
        "by these weights (default: equal)",
    )
    add_style_mask(run, "one per style image, in the order the styles are given")
    run.add_argument(
        "--style-labels",
        metavar="MASK",
        help="a label image of the style image's size: each content label N (of --labels) takes its "
        "style from the style's pixels labelled N (Luan et al.'s semantic pairing), for one style image",
    )
    run.add_argument(
        "--labels",
        metavar="MASK",
        help="label image of the content's size, nonzero pixels are the target; for a batch, "
        "a folder of masks named like the contents (default: CONTENT_mask.* beside "
        "each content, else segment automatically)",
    )
    run.add_argument(
        "-o",
        "--out",
        required=True,
        metavar="NAME.pstyle",
        help="result bundle file to write (a batch: a folder for all results)",
    )
    add_prompts(run)
    add_save_image(run)
    run.add_argument(
        "--save-video",
        metavar="PATH",
        help="a clip (a video file, an animated GIF, a multi-page TIFF, or a folder of frames with --out NAME.pstyle): also "
        "write the composite frames as a video (.mp4, .mkv, .webm, .avi, .mov; needs PyAV)",
    )
    add_job_options(run, ALL_PARTS)
    add_batch_options(run)


def add_evaluate(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser(
        "evaluate",
        help="the paper's evaluation: every content × style, re-segmented and scored",
        description="Stylize every content with every style image of a folder of class folders, "
        "composite into the target region, re-segment with the classifier and score "
        "against the style's class; write results.csv, Table 1, Figures 7-9 and "
        "report.md to --out. Resumable.",
    )
    evaluate.add_argument(
        "--contents",
        nargs="+",
        required=True,
        metavar="CONTENT",
        help="content images, folders or globs; each target mask is CONTENT_mask.* beside it or in "
        "FMD's mask/ folder (else the content is segmented)",
    )
    evaluate.add_argument(
        "--styles", required=True, metavar="DIR", help="folder of class folders of style images (FMD: its image/)"
    )
    evaluate.add_argument(
        "-o", "--out", required=True, metavar="REPORT_DIR", help="folder for the results and the report"
    )
    evaluate.add_argument(
        "--per-class", type=positive_int, metavar="N", help="use the first N style images of each class (default: all)"
    )
    evaluate.add_argument("--no-bundles", action="store_true", help="keep only thumbnails, not each job's bundle")
    add_job_options(evaluate, ("session", "segment", "style", "composite"))
    add_batch_options(evaluate)


def add_sweep(sub: argparse._SubParsersAction) -> None:
    from napari_partial_style.core.options import shown
    from napari_partial_style.core.params import StyleParams

    sweep = sub.add_parser(
        "sweep",
        help="the same job at several style weights, side by side",
        description="Run the job once per --style-weight on the region only, at a small size (the "
        "result's long side defaults to 256 px and scoring is off), and write DIR/sweep.png "
        "(one tile per weight, labelled) and one bundle per weight. The region is segmented "
        "once (or taken from --labels), so every tile shows the same region.",
    )
    sweep.add_argument("content", help="content image (PNG, JPEG, TIFF; '-' reads it from standard input)")
    sweep.add_argument("style", help="style image")
    add_style_mask(sweep, "of the style image")
    sweep.add_argument(
        "--style-weight",
        dest="sweep_weights",
        nargs="+",
        type=finite_float,
        required=True,
        metavar="W",
        help=f"style weights to try, e.g. 1e5 1e6 1e7 (a job's default is {shown(StyleParams().style_weight)})",
    )
    sweep.add_argument(
        "--labels",
        metavar="MASK",
        help="label image of the content's size, nonzero pixels are the target (default: segment automatically, once)",
    )
    sweep.add_argument("-o", "--out", required=True, metavar="DIR", help="folder for sweep.png and the bundles")
    add_job_options(sweep, ALL_PARTS, exclude=(("style", "style_weight"),))


def add_segment(sub: argparse._SubParsersAction) -> None:
    segment = sub.add_parser(
        "segment",
        help="saliency maps and CRF labels only",
        description="Segment IMAGE with DCSM saliency and a dense CRF; write a bundle.",
    )
    segment.add_argument("image", help="image to segment (PNG, JPEG, TIFF; '-' reads it from standard input)")
    segment.add_argument("-o", "--out", required=True, metavar="NAME.pstyle", help="result bundle file to write")
    add_prompts(segment)
    add_job_options(segment, SEGMENT_PARTS)


def add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="the main job on the bundled sample",
        description="Find the cup in scikit-image's coffee photo with the ImageNet classifier and turn it to stone.",
    )
    demo.add_argument(
        "-o", "--out", default="demo.pstyle", metavar="NAME.pstyle", help="result bundle file (default: demo.pstyle)"
    )
    add_save_image(demo)
    demo.add_argument("--labels", action="store_true", help="use the bundled cup labels instead of segmenting")
    add_job_options(demo, ALL_PARTS)


def add_train(sub: argparse._SubParsersAction) -> None:
    from napari_partial_style.core.params import JobParams, TrainParams

    train = sub.add_parser(
        "train",
        help="train the material classifier from image-level labels",
        description="Fine-tune the VGG16 FCN on DATA (a folder of class folders such as FMD's, or a CSV with path,labels) and write a checkpoint usable with --classifier.",
    )
    train.add_argument(
        "data", help="folder of class folders (FMD: the folder holding image/), or a .csv with columns path,labels"
    )
    train.add_argument(
        "-o",
        "--out",
        required=True,
        metavar="CKPT",
        help="checkpoint to write (the best epoch); a .csv log and a .resume.pt state go beside it",
    )
    train.add_argument("--classes", metavar="A,B,...", help="class list and order (default: every label found, sorted)")
    train.add_argument("--resume", action="store_true", help="continue the interrupted run of --out")
    train.add_argument(
        "--overwrite", action="store_true", help="replace an existing checkpoint, its log and its resume state"
    )
    train.add_argument("--quiet", action="store_true", help="print nothing but errors and the checkpoint's path")
    add_weight_options(train, ("vgg16",))
    add_flat(train, TrainParams, "training")
    add_tree(train, JobParams, ("session",), exclude=(("session", "size"),))  # --device, as every job takes it


def add_datasets(sub: argparse._SubParsersAction) -> None:
    datasets = sub.add_parser("datasets", help="download a dataset")
    datasets.add_argument(
        "name", choices=["fmd"], help="fmd: the Flickr Material Database (10 materials, 100 images each)"
    )
    datasets.add_argument("--dest", required=True, metavar="DIR", help="folder to put it in (as DIR/FMD)")


def add_weights(sub: argparse._SubParsersAction) -> None:
    weights = sub.add_parser("weights", help="where pretrained weights are looked for and which are present")
    add_weight_options(weights, what="to check instead of the one looked up")


def add_replay(sub: argparse._SubParsersAction) -> None:
    replay = sub.add_parser(
        "replay",
        help="recompute a result bundle's job and compare it with the bundle",
        description="Read BUNDLE's inputs, parameters and labels, run its job again and print, per layer, the "
        "largest and mean difference and the scores side by side. Exit 0 when it matches (bit for bit on "
        "the machine, device, versions, threads and weight files it records; within a stated tolerance "
        "elsewhere), 1 when it differs, 2 on bad input. Nothing is written.",
    )
    replay.add_argument("bundle", metavar="BUNDLE", help="a .pstyle file or unzipped bundle folder")
    add_weight_options(replay)
