"""`sweep`: the same job at several style weights, side by side, the region segmented once."""

from __future__ import annotations

import argparse
from pathlib import Path

from napari_partial_style.cli.jobs import check_stdin, explicit_weights, job_params, read_style, style_masks
from napari_partial_style.core.errors import InputError


def sweep_defaults() -> dict:
    from napari_partial_style.core.job.contact_sheet import SWEEP_SIZE

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
    from napari_partial_style.core.job.result import from_bundle

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
