"""The `napari-partial-style` command: run, segment, demo, weights.

Bad input ends with one line naming the problem and the fix, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from napari_partial_style._entry import EXIT_INTERRUPTED, EXIT_TERMINATED
from napari_partial_style.cli_options import finite_float
from napari_partial_style.core.errors import Cancelled, InputError, PartialStyleError
from napari_partial_style.core.runtime.cancel import cancellable

EXIT_SOME_FAILED = 1
EXIT_BAD_INPUT = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM (what cluster schedulers and `kill` send), handled like Ctrl-C: clean up, save, exit."""


class Stop(threading.Event):
    """Set by Ctrl-C or SIGTERM, which also raise in the main thread as usual. The job checks it
    after every network layer and before every final rename (core/cancel.py), so an interrupt
    that a library swallowed (a bare `except:` around an import) still stops the job, and nothing
    is written after it."""

    signum: int = signal.SIGINT

    def handle(self, signum: int, _frame) -> None:
        self.signum = signum
        self.set()
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def status(self, exc: BaseException) -> int:
        terminated = isinstance(exc, Terminated) or (
            not isinstance(exc, KeyboardInterrupt) and self.signum == signal.SIGTERM
        )
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


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
    from napari_partial_style.cli_options import add_tree
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


ALL_PARTS = ("session", "segment", "style", "composite", "score")
SEGMENT_PARTS = ("session", "segment")
DEMO_DEFAULTS = {
    ("segment", "saliency", "targets"): ("cup",),
    ("segment", "saliency", "subtract"): ("dining table", "plate", "wooden spoon"),
}


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


def build_parser() -> argparse.ArgumentParser:
    from napari_partial_style import __version__
    from napari_partial_style.cli_options import add_flat, add_tree
    from napari_partial_style.core.options import shown
    from napari_partial_style.core.params import JobParams, StyleParams, TrainParams

    parser = argparse.ArgumentParser(
        prog="napari-partial-style", description="Change the style or material of part of an image."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
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
    add_save_image(run)
    add_job_options(run, ALL_PARTS)
    add_batch_options(run)

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

    segment = sub.add_parser(
        "segment",
        help="saliency maps and CRF labels only",
        description="Segment IMAGE with DCSM saliency and a dense CRF; write a bundle.",
    )
    segment.add_argument("image", help="image to segment (PNG, JPEG, TIFF; '-' reads it from standard input)")
    segment.add_argument("-o", "--out", required=True, metavar="NAME.pstyle", help="result bundle file to write")
    add_job_options(segment, SEGMENT_PARTS)

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

    datasets = sub.add_parser("datasets", help="download a dataset")
    datasets.add_argument(
        "name", choices=["fmd"], help="fmd: the Flickr Material Database (10 materials, 100 images each)"
    )
    datasets.add_argument("--dest", required=True, metavar="DIR", help="folder to put it in (as DIR/FMD)")

    weights = sub.add_parser("weights", help="where pretrained weights are looked for and which are present")
    add_weight_options(weights, what="to check instead of the one looked up")
    return parser


def main(argv: list[str] | None = None) -> int:
    stop = Stop()
    previous = {signum: signal.signal(signum, stop.handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    args = argparse.Namespace(printer=None)
    try:
        from napari_partial_style._terminal import ProgressPrinter

        args = build_parser().parse_args(argv)
        commands = {
            "run": cmd_run,
            "sweep": cmd_sweep,
            "segment": cmd_segment,
            "demo": cmd_demo,
            "evaluate": cmd_evaluate,
            "train": cmd_train,
            "datasets": cmd_datasets,
            "weights": cmd_weights,
        }
        args.printer = ProgressPrinter(quiet=getattr(args, "quiet", False))
        with _claim(args), cancellable(stop):
            return commands[args.command](args)
    except (KeyboardInterrupt, Cancelled) as exc:
        _end_line(args)
        print(
            f"napari-partial-style: interrupted; {getattr(args, 'on_interrupt', 'nothing was written.')}",
            file=sys.stderr,
        )
        return stop.status(exc)
    except PartialStyleError as exc:
        _end_line(args)
        print(f"napari-partial-style: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _end_line(args: argparse.Namespace) -> None:
    if args.printer is not None:
        args.printer.end_line()


WRITERS = ("run", "sweep", "segment", "demo", "evaluate", "train")


def _claim(args: argparse.Namespace):
    """A writing command claims its --out before any work (core/io/claim.py); others claim nothing."""
    from contextlib import nullcontext

    from napari_partial_style.core.io.claim import claimed

    return claimed(args.out) if args.command in WRITERS and getattr(args, "out", None) else nullcontext()


def job_params(args: argparse.Namespace, overrides: dict | None = None):
    from napari_partial_style.cli_options import params_from
    from napari_partial_style.core.params import JobParams

    return params_from(args, JobParams, overrides)


def explicit_weights(args: argparse.Namespace) -> dict[str, str]:
    return {key: getattr(args, key) for key in ("vgg19", "vgg16") if getattr(args, key, None)}


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
    printer = args.printer
    session = Session(params.session, weights=explicit_weights(args))
    size = session.size_for(content.shape)
    chosen = "given" if params.session.size else f"default for {session.device.type}"
    steps = f", {params.style.steps} steps" if style is not None else ""
    printer.info(f"device {session.device}, working size {size} px ({chosen}){steps}")
    result = session.run(content, style, params, labels, inputs).result(printer)
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


def is_batch(contents: list[str]) -> bool:
    return len(contents) > 1 or Path(contents[0]).is_dir() or any(ch in contents[0] for ch in "*?[")


def run_batch(args: argparse.Namespace, steps) -> int:
    """Drive a batch or an evaluation; exit status 1 when some jobs failed."""
    from napari_partial_style.batch.runner import describe
    from napari_partial_style.core.progress import drain

    args.on_interrupt = (
        f"the jobs that finished are in {Path(args.out) / 'results.csv'}; run the same command "
        "again to go on from there."
    )
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


def check_stdin(paths: list[str | None], batch: bool = False) -> None:
    """Standard input ('-') holds one image, and a batch's workers read files, not a pipe."""
    from napari_partial_style.core.io.image_files import STDIN

    piped = sum(path == STDIN for path in paths)
    if piped and batch:
        raise InputError("'-' (standard input) is for one content at a time; a batch reads files: give their paths.")
    if piped > 1:
        raise InputError(f"'-' (standard input) is given {piped} times; it holds one image: give the others as files.")


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
        [*args.content, *styles, args.labels, *args.style_masks, args.style_labels], batch=is_batch(args.content)
    )
    if args.style_labels:
        check_style_labels(args)
    if is_batch(args.content):
        from napari_partial_style.batch.runner import batch_steps

        if [region for region, _, _ in args.region_styles] == [""]:  # --style STYLE: the batch's one style
            args.style = args.region_styles[0][1]
        elif any(region for region, _, _ in args.region_styles):
            raise InputError(
                "--style REGION=STYLE is for one content at a time; a batch takes one style "
                "(positional, or --style STYLE)."
            )
        elif args.region_styles:
            raise InputError(
                "a batch takes one style; blending several (--style A --style B) is for one content at a time."
            )
        if args.style_masks:
            raise InputError("--style-mask is for one content at a time; a batch can use --style-region auto.")
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
    if args.scheduler or args.workers != 1:
        raise InputError(
            "--workers and --scheduler spread a batch (several contents, a folder or a glob); "
            "one content runs as one job: drop them."
        )
    args.content = args.content[0]
    content = read_source_image(args.content, "content", args.max_pixels)
    labels = None if args.labels is None else read_image_file(args.labels, args.max_pixels)
    if args.style_labels:
        from napari_partial_style.core.style.regions import styles_by_label

        named = args.style or args.region_styles[0][1]
        style = styles_by_label(
            read_source_image(named, "style", args.max_pixels),
            read_image_file(args.style_labels, args.max_pixels),
            labels,
            f"--style-labels {args.style_labels}",
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
    inputs = {
        "content": args.content,
        "style": named,
        **({"labels": args.labels} if args.labels else {}),
        **({"style_masks": ", ".join(args.style_masks)} if args.style_masks else {}),
        **({"style_labels": args.style_labels} if args.style_labels else {}),
    }
    execute(args, content, style, labels, inputs)
    return 0


def sweep_defaults() -> dict:
    from napari_partial_style.core.contact_sheet import SWEEP_SIZE

    return {("style", "max_size"): SWEEP_SIZE, ("score", "enabled"): False}


def cmd_sweep(args: argparse.Namespace) -> int:
    """One job per style weight, the region segmented once; a labelled contact sheet and the bundles."""
    from PIL import Image

    from napari_partial_style.api import Session, sweep_job
    from napari_partial_style.core.images import read_source_image
    from napari_partial_style.core.io.atomic import atomic_file, check_parent
    from napari_partial_style.core.io.image_files import STDIN, read_image_file

    out = Path(args.out)
    check_stdin([args.content, args.style, args.labels, *args.style_masks])
    weights = list(dict.fromkeys(args.sweep_weights))
    if any(w < 0 for w in weights):
        raise InputError("style weights must be 0 or more.")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder for the sheet and the bundles.")
    check_parent(out)
    params = job_params(args, sweep_defaults())
    bundles = {w: out / f"style-weight-{w:g}.pstyle" for w in weights}
    sheet_path = out / "sweep.png"
    inputs = {
        "content": args.content,
        "style": args.style,
        **({"labels": args.labels} if args.labels else {}),
        **({"style_masks": args.style_masks[0]} if args.style_masks else {}),
    }
    piped = STDIN in (args.content, args.style)
    if piped and not args.overwrite and any(path.exists() for path in bundles.values()):
        raise InputError(
            f"{out} holds bundles of an earlier sweep, and an image read from standard input cannot be "
            "matched to them; pass --overwrite to replace them, or choose another --out."
        )
    finished = (
        {}
        if args.overwrite
        else {w: finished_job(path, sweep_job(params, w), inputs) for w, path in bundles.items() if path.exists()}
    )
    if len(finished) == len(weights) and sheet_path.exists():
        args.printer.info(
            f"nothing to do: {out} holds this sweep (its sheet and {len(weights)} bundles); "
            "pass --overwrite to make it again."
        )
        if args.quiet:
            print(sheet_path)
        return 0
    content = read_source_image(args.content, "content", args.max_pixels)
    style = read_style(args.style, "style", style_masks(args, 1)[0], args.max_pixels)
    labels = None if args.labels is None else read_image_file(args.labels, args.max_pixels)
    out.mkdir(parents=True, exist_ok=True)
    check_parent(sheet_path)
    session = Session(params.session, weights=explicit_weights(args))
    kept = sorted(finished)

    def save(weight: float, job) -> None:
        job.save(bundles[weight], overwrite=args.overwrite)
        kept.append(weight)
        args.on_interrupt = (
            f"the bundles of style weight {', '.join(f'{w:g}' for w in kept)} are in {out}; "
            "run the same command again to make the rest."
        )

    if kept:
        args.printer.info(f"style weight {', '.join(f'{w:g}' for w in kept)}: kept from the earlier run in {out}")
    swept = session.sweep(content, style, weights, params, labels, inputs, finished, save).result(args.printer)
    with atomic_file(sheet_path) as tmp:
        Image.fromarray(swept.sheet).save(tmp, format="PNG")
    args.printer.info(f"wrote {sheet_path} and {len(bundles)} bundles in {out}")
    if args.quiet:
        print(sheet_path)
    return 0


def finished_job(path: Path, params, inputs: dict[str, str]):
    """The job of an earlier sweep's bundle, if it was made with these settings and inputs."""
    import json
    from dataclasses import asdict

    from napari_partial_style.core.io.bundle import read_bundle
    from napari_partial_style.core.job import from_bundle

    bundle = read_bundle(path)
    same = (
        bundle.manifest.get("parameters") == json.loads(json.dumps(asdict(params)))
        and bundle.manifest.get("inputs") == inputs
        and bundle.composite is not None
    )
    if not same:
        raise InputError(
            f"{path} exists from a run with other settings or inputs; pass --overwrite to replace the "
            "sweep, or choose another --out."
        )
    return from_bundle(bundle, params.composite.label_values)


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


def cmd_train(args: argparse.Namespace) -> int:
    from napari_partial_style.cli_options import params_from
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


def cmd_weights(args: argparse.Namespace) -> int:
    from napari_partial_style.core.io import weights

    folders = weights.search_folders()
    print("Weights are looked for in this order:")
    print("  1. an explicit path option (--vgg19 PATH, --vgg16 PATH)")
    print(f"  2. the folder in ${weights.WEIGHTS_ENV}" + (f" = {folders[0]}" if len(folders) > 1 else " (not set)"))
    print(f"  3. torch's hub cache: {weights.hub_folder()}")
    state = f"off: {weights.OFFLINE_ENV} is set" if weights.offline() else "on"
    print(f"  4. a download from the URL below into the hub cache ({state})")
    usable = True
    for weight, path in weights.report(explicit_weights(args)):
        print(f"\n{weight.filename}  ({weight.purpose})\n  " + (f"found: {path}" if path else "missing"))
        if path is None:
            print(f"  get it: curl -L -o {weights.hub_folder() / weight.filename} {weight.url}")
            continue
        ok, line = weights.verdict(weight, path)
        usable &= ok
        print(f"  {line}")
    return 0 if usable else 1
