"""The `napari-partial-style` command: run, demo, weights.

Bad input ends with one line naming the problem and the fix, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from napari_partial_style.core.errors import PartialStyleError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def add_style_options(parser: argparse.ArgumentParser) -> None:
    from napari_partial_style.core.style import DEFAULT_STYLE_WEIGHT, INITS

    parser.add_argument("--size", type=int, help="working long side in px (default: 256 on CPU, 384 on MPS, 512 on CUDA)")
    parser.add_argument("--steps", type=int, default=300, help="L-BFGS loss evaluations (default: 300)")
    parser.add_argument("--style-size", type=int, help="long side the style image is scaled to; smaller gives a coarser texture (default: --size)")
    parser.add_argument("--content-weight", type=float, default=1.0, help="content loss weight (default: 1)")
    parser.add_argument("--style-weight", type=float, default=DEFAULT_STYLE_WEIGHT, help=f"style loss weight (default: {DEFAULT_STYLE_WEIGHT:.3g})")
    parser.add_argument("--tv-weight", type=float, default=0.0, help="total-variation weight, smooths the result (default: 0)")
    parser.add_argument("--init", choices=INITS, default="content", help="start from the content image or from noise (default: content)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--feather", type=float, default=0.0, help="width in px of a soft edge around the region (default: 0, hard mask)")
    parser.add_argument("--vgg19", metavar="PATH", help="VGG19 weights file (default: looked up, see `weights`)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing bundle")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors and the bundle's path")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="napari-partial-style",
        description="Change the style or material of part of an image.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="stylize the labelled region of an image", description="Stylize the target region of CONTENT with STYLE and write a result bundle.")
    run.add_argument("content", help="content image (PNG, JPEG, TIFF)")
    run.add_argument("style", help="style image (PNG, JPEG, TIFF)")
    run.add_argument("--labels", required=True, metavar="MASK", help="label image of the content's size; nonzero pixels are the target")
    run.add_argument("--out", required=True, metavar="DIR.pstyle", help="result bundle folder to write")
    add_style_options(run)

    demo = sub.add_parser("demo", help="the main job on the bundled sample", description="Turn the cup in scikit-image's coffee photo to stone.")
    demo.add_argument("--out", default="demo.pstyle", metavar="DIR.pstyle", help="result bundle folder (default: demo.pstyle)")
    add_style_options(demo)

    weights = sub.add_parser("weights", help="where pretrained weights are looked for and which are present")
    weights.add_argument("--vgg19", metavar="PATH", help="an explicit VGG19 weights file to check")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"run": cmd_run, "demo": cmd_demo, "weights": cmd_weights}[args.command](args)
    except PartialStyleError as exc:
        print(f"napari-partial-style: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nnapari-partial-style: interrupted; nothing was written.", file=sys.stderr)
        return EXIT_INTERRUPTED


def job_params(args: argparse.Namespace):
    from napari_partial_style.core.pipeline import JobParams
    from napari_partial_style.core.style import StyleParams

    style = StyleParams(
        steps=args.steps, content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, init=args.init, seed=args.seed,
    )
    return JobParams(size=args.size, style_size=args.style_size, device=args.device, feather=args.feather, style=style)


def execute(args: argparse.Namespace, content, style, labels, inputs: dict[str, str]) -> Path:
    """Check everything, run the job with progress bars, write the bundle; return its path."""
    from napari_partial_style._terminal import ProgressPrinter
    from napari_partial_style.core.bundle import check_target, write_bundle
    from napari_partial_style.core.device import get_device
    from napari_partial_style.core.images import target_mask
    from napari_partial_style.core.pipeline import run_job, to_bundle, working_size
    from napari_partial_style.core.progress import drain

    out = check_target(args.out, args.overwrite)
    mask = target_mask(labels, content.shape, name=f"labels ({inputs.get('labels', 'mask')})")
    params = job_params(args)
    printer = ProgressPrinter(quiet=args.quiet)
    device = get_device(params.device)
    size = working_size(params, device, content)
    chosen = "given" if args.size else f"default for {device.type}"
    printer.info(f"device {device}, working size {size} px ({chosen}), {params.style.steps} steps")
    explicit = {"vgg19": args.vgg19} if args.vgg19 else None
    result = drain(run_job(content, style, mask, params, explicit, printer.download, inputs), printer)
    path = write_bundle(to_bundle(result), out, overwrite=args.overwrite)
    printer.info(f"wrote {path}  (preview: {path / 'preview.png'})")
    printer.info(f"open it in napari:  napari {path}")
    if args.quiet:
        print(path)
    return path


def cmd_run(args: argparse.Namespace) -> int:
    from napari_partial_style.core.image_files import read_image_file
    from napari_partial_style.core.images import read_source_image

    content = read_source_image(args.content, "content")
    style = read_source_image(args.style, "style")
    labels = read_image_file(args.labels)
    execute(args, content, style, labels, {"content": args.content, "style": args.style, "labels": args.labels})
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from napari_partial_style import samples
    from napari_partial_style.core.images import as_source_image

    content = as_source_image(samples.coffee(), "coffee sample")
    style = as_source_image(samples.stone(), "stone sample")
    inputs = {"content": "skimage.data.coffee", "style": samples.STONE_SOURCE, "labels": samples.CUP_LABELS_FILE}
    execute(args, content, style, samples.coffee_cup_labels(), inputs)
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    from napari_partial_style.core import weights

    print("Weights are looked for in this order:")
    print("  1. an explicit path option (--vgg19 PATH)")
    folder = f" = {weights.search_folders()[0]}" if len(weights.search_folders()) > 1 else " (not set)"
    print(f"  2. the folder in ${weights.WEIGHTS_ENV}{folder}")
    print(f"  3. torch's hub cache: {weights.hub_folder()}")
    print(f"  4. a download from the URL below into the hub cache ({'off: ' + weights.OFFLINE_ENV + ' is set' if weights.offline() else 'on'})")
    for weight, path in weights.report({"vgg19": args.vgg19} if args.vgg19 else None):
        state = f"found: {path}" if path else "missing"
        print(f"\n{weight.filename}  ({weight.purpose})\n  {state}")
        if path is None:
            print(f"  get it: curl -L -o {weights.hub_folder() / weight.filename} {weight.url}")
    return 0
