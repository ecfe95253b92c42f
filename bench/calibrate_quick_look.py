"""Calibrate the quick look's estimate of Run all's time (core/job/quick_look.py) against measured runs.

Headless, as the workflow dock runs them: one Session, the networks loaded first, then for each case
the quick look (`quick_params`) and the full job (`Session.run`) on the bundled coffee photo resized to
a long side, with the Stone texture and the target `cup`, every stage's seconds from the manifest's
`timings_s`. `--sizes` are calibration cases (with `--steps`/`--fine-steps` turned down to keep them
short: the model is per step; `--no-score` leaves the score out); `--photo` adds the bundled photo at
its own size with every default, the case the estimate is checked on. Each case prints one JSON line; the table at the end is the
estimate (`full_job_seconds`) against the measurement. With random weights (TORCH_HOME of
bench/make_random_weights.py) the pictures mean nothing; the times do. `--fit FILE` reads such
JSON lines and fits quick_look's SEGMENT_PIXELS and STEP_PIXELS to the calibration cases (the sizes,
not the photo): each stage's estimate against its measured time, least squares on the log ratio;
SCORE_SEGMENTATIONS is the measured score over segment time (geometric mean).
Usage:

    TORCH_HOME=/tmp/scratch/th python bench/calibrate_quick_look.py [--sizes 192 320] [--steps 100] [--fine-steps 20] [--photo] | tee runs.txt
    python bench/calibrate_quick_look.py --fit runs.txt
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np


def case(session, params, long_side: int | None) -> dict:
    """The quick look and the full job on the coffee photo at `long_side` (None: its own size)."""
    from napari_partial_style import samples
    from napari_partial_style.core.images import resize_native, to_uint8, working_shape
    from napari_partial_style.core.job.quick_look import full_job_seconds, quick_params

    content = samples.coffee()
    if long_side is not None:
        content = to_uint8(resize_native(content, working_shape(content.shape[:2], long_side)))
    quick = quick_params(params)
    runs = {}
    for name, job in (("quick", quick), ("full", params)):
        start = time.perf_counter()
        result = session.run(content, samples.stone(), job).result()
        runs[name] = {"wall": time.perf_counter() - start, "timings": result.record["timings_s"]}
    size = session.size_for(content.shape[:2])
    estimate = full_job_seconds(runs["quick"]["timings"], params, max(content.shape[:2]), size, size, segments=True)
    measured = sum(runs["full"]["timings"].values())
    return {"long_side": max(content.shape[:2]), "size": size, "estimate": estimate, "measured": measured} | runs


def _params(row: dict):
    """The job of a case: the target `cup`, its steps, every other setting at its default."""
    from napari_partial_style.core.params import JobParams, SaliencyParams, ScoreParams, SegmentParams, StyleParams

    return JobParams(
        segment=SegmentParams(saliency=SaliencyParams(targets=("cup",))),
        style=StyleParams(steps=row["steps"], fine_steps=row["fine_steps"]),
        score=ScoreParams(enabled=row.get("scored", True)),
    )


def _estimate(row: dict, timings: dict[str, float], scored: bool = True) -> float:
    """`full_job_seconds` for a case from `timings`, with quick_look's constants as they are set now."""
    from napari_partial_style.core.job.quick_look import full_job_seconds

    params = _params(row)
    if not scored:
        params = replace(params, score=replace(params.score, enabled=False))
    return full_job_seconds(timings, params, row["long_side"], row["size"], row["size"], segments=True)


def stage_ratio(row: dict, stage: str) -> float:
    """One stage's estimate over its measured time in a case (segmentation once: no score)."""
    return _estimate(row, {stage: row["quick"]["timings"][stage]}, scored=False) / row["full"]["timings"][stage]


def fit(path: str) -> None:
    """SEGMENT_PIXELS, STEP_PIXELS and SCORE_SEGMENTATIONS from the cases in `path` at sizes other
    than the bundled photo's own (those are the check); each stage's ratio and the whole job's."""
    from napari_partial_style import samples
    from napari_partial_style.core.job import quick_look

    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    calibration = [r for r in rows if r["long_side"] != max(samples.coffee().shape[:2])]
    grid = [0.0, *np.geomspace(1e3, 1e6, 61)]

    def table(title: str) -> None:
        print(f"\n{title}\n\n| long side | steps | segment | style | whole job: estimated s | measured s | ratio |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            whole = _estimate(r, r["quick"]["timings"])
            print(
                f"| {r['long_side']} | {r['steps']}+{r['fine_steps']} | {stage_ratio(r, 'segment'):.2f} | "
                f"{stage_ratio(r, 'style'):.2f} | {whole:.0f} | {r['measured']:.0f} | {whole / r['measured']:.2f} |"
            )

    names = ("SEGMENT_PIXELS", "STEP_PIXELS", "SCORE_SEGMENTATIONS")

    def constants() -> str:
        return ", ".join(f"{name} = {getattr(quick_look, name):g}" for name in names)

    shipped = {name: getattr(quick_look, name) for name in names}
    for name, value in zip(names, (0.0, 0.0, 1.0)):  # pixels only, as before the calibration
        setattr(quick_look, name, value)
    table(f"estimate / measured by pixels alone: {constants()}")
    for name, value in shipped.items():
        setattr(quick_look, name, value)
    table(f"estimate / measured as shipped: {constants()}")
    scored = [
        r["full"]["timings"]["score"] / r["full"]["timings"]["segment"] for r in calibration if r.get("scored", True)
    ]
    quick_look.SCORE_SEGMENTATIONS = float(np.exp(np.mean(np.log(scored))))
    for stage, name in (("segment", "SEGMENT_PIXELS"), ("style", "STEP_PIXELS")):

        def error(value: float, stage: str = stage, name: str = name) -> float:
            setattr(quick_look, name, value)
            return sum(np.log(stage_ratio(r, stage)) ** 2 for r in calibration)

        setattr(quick_look, name, min(grid, key=error))
    table(f"fitted on {len(calibration)} cases: {constants()}")


def main() -> None:
    from napari_partial_style.api import Session
    from napari_partial_style.core.params import JobParams, SaliencyParams, SegmentParams
    from napari_partial_style.core.progress import drain

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[192, 320])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--fine-steps", type=int, default=20)
    parser.add_argument("--photo", action="store_true", help="also the bundled photo with every default")
    parser.add_argument("--no-score", action="store_true", help="calibration cases without the score stage")
    parser.add_argument("--fit", help="fit the constants to the JSON lines of an earlier run")
    args = parser.parse_args()
    if args.fit:
        fit(args.fit)
        return
    params = JobParams(segment=SegmentParams(saliency=SaliencyParams(targets=("cup",))))
    session = Session()
    drain(session.classifier(params.segment.classifier))
    drain(session.style_network(params.style))
    short = replace(params, style=replace(params.style, steps=args.steps, fine_steps=args.fine_steps))
    if args.no_score:
        short = replace(short, score=replace(short.score, enabled=False))
    cases = [(short, size) for size in args.sizes] + ([(params, None)] if args.photo else [])
    rows = []
    for job, size in cases:
        row = case(session, job, size) | {
            "steps": job.style.steps,
            "fine_steps": job.style.fine_steps,
            "scored": job.score.enabled,
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("\n| long side | steps | quick look s | Run all s (measured) | estimated s | estimate / measured |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        quick = sum(r["quick"]["timings"].values())
        ratio = r["estimate"] / r["measured"]
        print(
            f"| {r['long_side']} | {r['steps']}+{r['fine_steps']} | {quick:.1f} | {r['measured']:.1f} | "
            f"{r['estimate']:.1f} | {ratio:.2f} |"
        )
    print(
        f"\ngeometric mean of estimate / measured: {np.exp(np.mean([np.log(r['estimate'] / r['measured']) for r in rows])):.2f}"
    )


if __name__ == "__main__":
    main()
