"""`replay`: recompute a result bundle's job and say, per layer, how far the result is from it."""

from __future__ import annotations

import argparse

from napari_partial_style.cli.jobs import explicit_weights
from napari_partial_style.core.errors import EXIT_SOME_FAILED


def cmd_replay(args: argparse.Namespace) -> int:
    """Exit 0 when the replay matches (bit for bit in the recorded environment, else within the
    tolerance), 1 with the differences, 2 on bad input (raised as InputError, as every command)."""
    from napari_partial_style.core.job.replay import TOLERANCE, replay
    from napari_partial_style.core.progress import drain

    result = drain(replay(args.bundle, explicit_weights(args)), args.printer)
    args.printer.info("")
    if result.exact:
        args.printer.info("same environment as the bundle records: every layer must match bit for bit")
    else:
        args.printer.info(
            "another environment than the bundle records ("
            + ", ".join(f"{key}: {then!r} then, {now!r} now" for key, (then, now) in result.changed_environment.items())
            + f"); tolerance: mean image difference ≤ {TOLERANCE['mean_difference']:g}, "
            f"labels agreeing on ≥ {TOLERANCE['labels_agreement']:.0%} of the pixels"
        )
    for layer in result.layers:
        verdict = "ok" if layer.within(result.exact) else "DIFFERS"
        unit = "of the pixels differ" if layer.layer == "labels" else "mean difference"
        print(f"{layer.layer:10s} {verdict:8s} largest {layer.largest:.6g}, {layer.mean:.6g} {unit}")
    for key, (saved, made) in result.scores.items():
        print(f"{key:18s} saved {saved}, replayed {made}")
    print("replay matches" if result.matches else "replay differs")
    return 0 if result.matches else EXIT_SOME_FAILED
