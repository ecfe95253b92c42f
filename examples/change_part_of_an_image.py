"""The whole job through the Python API: find the cup in the coffee photo, turn it to stone.

    python examples/change_part_of_an_image.py [--size 256] [--steps 300] [--fine-steps 60] [--out cup.pstyle]

Needs the VGG16 and VGG19 weights (downloaded on first use; `napari-partial-style weights` says
where they are looked for). Open the result with `napari cup.pstyle`.
"""

from __future__ import annotations

import argparse

from napari_partial_style import samples
from napari_partial_style.api import Session
from napari_partial_style.core.params import JobParams, SaliencyParams, SegmentParams, SessionParams, StyleParams


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="working long side in px (default: by device)")
    parser.add_argument("--steps", type=int, default=300, help="L-BFGS steps at the working size")
    parser.add_argument("--fine-steps", type=int, default=60, help="steps at each finer level, up to full resolution")
    parser.add_argument("--out", default="cup.pstyle")
    args = parser.parse_args(argv)

    params = JobParams(
        session=SessionParams(size=args.size),
        segment=SegmentParams(saliency=SaliencyParams(targets=("cup",), subtract=("dining table", "plate"))),
        style=StyleParams(steps=args.steps, fine_steps=args.fine_steps),
    )
    session = Session(params.session)
    result = session.run(samples.coffee(), samples.stone(), params).result(
        lambda event: print(f"\r{event.stage} {event.step}/{event.total}", end="", flush=True)
    )
    print(
        f"\nthe region now reads as {result.scores['expected_class']!r}: "
        f"pixel accuracy {result.scores['pixel_accuracy']:.3f}, mean IU {result.scores['mean_iu']:.3f}"
    )
    print("wrote", result.save(args.out, overwrite=True))


if __name__ == "__main__":
    main()
