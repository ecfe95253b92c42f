"""Clicks needed to segment an object: ours (the CRF with prompts) against scikit-image's random
walker and OpenCV's GrabCut, by the standard interactive-segmentation protocol (bench/click_protocol.py).

Scene sets (bench/click_scenes.py): the bundled coffee photo with its cup labels, and `--scenes`
generated scenes (an ellipse or polygon of one scikit-image texture on another), each with a
saliency map carrying evidence (the true mask blurred, with noise) and with a flat one. Every
method gets its clicks as the same 5 px disks, and the image's frame as background; per method and set: mean NoC@85 and NoC@90 (cap 20),
mean IoU after 1, 3 and 5 clicks, and the mean seconds of one update after a click (wall, and CPU
over all threads: steadier on a busy machine). "IoU, no click"
is ours from the saliency and the frame alone (the anchors have nothing to go on before a click); the anchors
never see the saliency, so they run once per scene and their rows repeat in its two sets.
`--threads` (default 1) caps torch's and OpenCV's threads for every method alike: on a machine
other jobs load, two torch threads spin on each other (a click's CRF took 0.8–2.0 CPU s with two,
0.26 with one, in one measurement here). Needs opencv-python-headless (GrabCut). Usage:
    python bench/bench_prompts_noc.py [--scenes 6] [--seed 0] [--threads 1] [--only coffee|textures] [--ours-only]
        [--out out/prompts_noc.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import click_ours  # noqa: E402
from click_anchors import ANCHORS  # noqa: E402
from click_protocol import MAX_CLICKS, Trace, iou, run_clicks  # noqa: E402
from click_scenes import Scene, scene_sets  # noqa: E402

HEADER = (
    "| method | NoC@85 | NoC@90 | IoU, no click | IoU@1 | IoU@3 | IoU@5 | s per click | CPU s per click |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def traces(
    scene: Scene, with_ours: bool, anchors: dict[str, dict[str, Trace]]
) -> tuple[dict[str, Trace], dict[str, float]]:
    """Each method's trace on one scene, and each variant of ours's IoU from the saliency alone.
    The anchors never see the saliency: their traces are run once per scene name and kept in `anchors`."""
    if scene.name not in anchors:
        anchors[scene.name] = {name: run_clicks(make(scene.image), scene.truth) for name, make in ANCHORS.items()}
    out, before = dict(anchors[scene.name]), {}
    for name, changes in (click_ours.variants() if with_ours else {}).items():
        predict = click_ours.crf_with_prompts(scene.image, scene.saliency, changes)
        before[name] = iou(predict(()), scene.truth)  # also builds this size's spatial lattice, as a session has
        out[name] = run_clicks(predict, scene.truth)
    return out, before


def row(name: str, runs: list[Trace], before: list[float]) -> str:
    mean = lambda values: float(np.mean(values))  # noqa: E731
    seconds = mean([s for t in runs for s in t.seconds])
    cpu = mean([s for t in runs for s in t.cpu_seconds])
    no_click = f"{mean(before):.3f}" if before else "–"
    return (
        f"| {name} | {mean([t.noc(0.85) for t in runs]):.2f} | {mean([t.noc(0.90) for t in runs]):.2f} | {no_click} | "
        + " | ".join(f"{mean([t.iou_at(k) for t in runs]):.3f}" for k in (1, 3, 5))
        + f" | {seconds:.3f} | {cpu:.3f} |"
    )


def table(title: str, scenes: list[Scene], with_ours: bool, anchors: dict[str, dict[str, Trace]]) -> str:
    runs: dict[str, list[Trace]] = {}
    before: dict[str, list[float]] = {}
    for scene in scenes:
        found, no_click = traces(scene, with_ours, anchors)
        for name, trace in found.items():
            runs.setdefault(name, []).append(trace)
        for name, value in no_click.items():
            before.setdefault(name, []).append(value)
    lines = [f"**{title}** ({len(scenes)} scene{'s' * (len(scenes) > 1)}, cap {MAX_CLICKS} clicks)", "", HEADER]
    lines += [row(name, found, before.get(name, [])) for name, found in runs.items()]
    return "\n".join(lines) + "\n"


def limit_threads(count: int) -> None:
    import cv2
    import torch

    torch.set_num_threads(count)
    cv2.setNumThreads(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=6, help="generated scenes per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/prompts_noc.md"), help="where the tables are written")
    parser.add_argument("--only", choices=("coffee", "textures"), help="one kind of scene set (run both side by side)")
    parser.add_argument("--ours-only", action="store_true", help="skip the anchors (e.g. after changing ours)")
    parser.add_argument("--threads", type=int, default=1, help="torch's and OpenCV's threads, for every method")
    args = parser.parse_args()
    limit_threads(args.threads)
    missing = click_ours.available()
    if missing:
        print(missing, flush=True)
    tables, sets = [], scene_sets(args.scenes, args.seed)
    anchors = {scene.name: {} for scenes in sets.values() for scene in scenes} if args.ours_only else {}
    for title, scenes in sets.items():
        if args.only and (args.only == "coffee") != title.startswith("coffee"):
            continue
        tables.append(table(title, scenes, missing is None, anchors))
        print(tables[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(tables))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
