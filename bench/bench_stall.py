"""How long napari's event loop stalls while the plugin works, and how long Cancel takes.

Sections (`--only`): `single`, a first (cold) Segment and Stylize in a fresh process; `two`,
Segment and Stylize started together, twice; `cancel`, Stylize cancelled at a random moment of its
optimisation at several working sizes; `crf`, "Re-run CRF only" with the torch CRF against
pydensecrf; `preview`, Stylize on a 6000×4000 (24 Mpx) photo with a preview every step (each shown
at its working size, laid over the photo by its layer's scale); `prompts`, clicks and strokes of the
Segment dock's prompt tool on a 1 Mpx photo, each timed from the click to the labels updated.
`--load N` runs N busy processes beside it (a competing program on every core).

A 10 ms timer ticks on the event loop while widgets (opened as the Plugins menu opens them) run
jobs; the largest gap between ticks until the computation ends is the stall a user feels. Gaps in
which napari added a layer are reported apart: that is napari's own cost (drawing a new layer on
software OpenGL), the same for any plugin. Cancel is timed from the click to the moment the Run
button is back. Run under Xvfb:

    TORCH_HOME=/tmp/scratch/th xvfb-run -a -s "-screen 0 1600x900x24" python bench/bench_stall.py \
        [--load 2] [--only two cancel] [--size 1024] [--iterations 10] [--prompts 20]
"""

from __future__ import annotations

import argparse
import time

import torchvision  # noqa: F401  (Triton's LLVM must load before Mesa's; see core/segment/classifier.py)


def stall(app, viewer, runners, start) -> tuple[float, float, float, float, int]:
    """Largest gaps between 10 ms ticks while the jobs compute (layer additions left out, and all),
    the gap in which their results were shown (layers added or updated), the seconds computing, and
    how many gaps while computing were over 250 ms (the goal: none)."""
    from qtpy.QtCore import QTimer

    ticks, inserted = [time.perf_counter()], []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    viewer.layers.events.inserted.connect(lambda _e: inserted.append(time.perf_counter()))
    timer.start(10)
    begin = time.perf_counter()
    start()
    while any(runner.running for runner in runners):
        app.processEvents()
        time.sleep(0.001)
    for _ in range(5):  # the ticks after the result was shown
        app.processEvents()
        time.sleep(0.01)
    timer.stop()
    for runner in runners:
        assert runner.last_error is None, runner.status.value
    end = max(runner.computed_at for runner in runners)
    during = [t for t in ticks if t <= end] + [end]
    pairs = list(zip(during, during[1:]))
    plain = [b - a for a, b in pairs if not any(a <= t <= b for t in inserted)]
    after = [end] + [t for t in ticks if t > end]
    shown = max(b - a for a, b in zip(after, after[1:]))
    over = sum(b - a > 0.25 for a, b in pairs)
    return max(plain), max(b - a for a, b in pairs), shown, end - begin, over


def idle_gap(app, seconds: float) -> float:
    """The largest gap between 10 ms ticks while nothing runs: what the machine's load alone costs."""
    from qtpy.QtCore import QTimer

    ticks = [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    while time.perf_counter() < ticks[0] + seconds:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return max(b - a for a, b in zip(ticks, ticks[1:]))


def cancel_seconds(app, runner, button, rng) -> float:
    """Start the job, click Cancel at a random moment of its optimisation, and time the click to the
    moment the job is over (the Run button is back)."""
    button.clicked()
    while "style" not in runner.status.value:
        app.processEvents()
        time.sleep(0.005)
    wait_until = time.perf_counter() + rng.uniform(0.2, 3.0)
    while time.perf_counter() < wait_until:
        app.processEvents()
        time.sleep(0.005)
    click = time.perf_counter()
    button.clicked()
    while runner.running:
        app.processEvents()
        time.sleep(0.001)
    assert runner.cancelled and runner.last_error is None, runner.status.value
    return time.perf_counter() - click


def busy(count: int) -> list:
    """`count` processes that keep a core busy each, as another program would."""
    import subprocess
    import sys

    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    import napari
    import numpy as np
    from qtpy.QtWidgets import QApplication

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--load", type=int, default=0, help="busy processes beside the bench")
    parser.add_argument(
        "--only",
        nargs="+",
        default=["single", "two", "cancel", "crf"],
        choices=["single", "two", "cancel", "crf", "preview", "prompts"],
    )
    parser.add_argument(
        "--prompts", type=int, default=20, help="clicks in the `prompts` section (and a quarter as many strokes)"
    )
    parser.add_argument("--cancel-sizes", type=int, nargs="+", default=[256, 600, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    viewer = napari.Viewer()  # shown: a hidden window is never drawn, and drawing is part of the stall
    app = QApplication.instance()
    from napari_partial_style.samples import coffee

    small = viewer.add_image(coffee(), name="photo", rgb=True)  # 600×400, the bundled sample
    style = viewer.add_image(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), name="style", rgb=True)
    _, segment = viewer.window.add_plugin_dock_widget("napari-partial-style", "Segment")
    _, stylize = viewer.window.add_plugin_dock_widget("napari-partial-style", "Stylize")
    segment, stylize = getattr(segment, "step", segment), getattr(stylize, "step", stylize)
    segment.image.value = small
    segment.picker.above.value = False
    segment.picker.search.value = "cup"
    segment.picker.targets.value = ["cup"]
    segment.form["session.size"].value, segment.form["session.device"].value = 256, "cpu"
    stylize.content.value, stylize.style.value = small, style
    stylize.form["session.size"].value, stylize.form["session.device"].value = 128, "cpu"
    stylize.form["style.steps"].value = 5
    stylize.form["style.max_size"].set(256)  # two short levels: the stall, not the speed, is measured
    load = busy(args.load)
    print(f"{args.load} busy processes beside the bench")
    try:
        print(
            "| job | largest gap (ms) computing, layer additions left out | computing, all | showing the result | "
            "seconds |"
        )
        print("|---|---|---|---|---|")
        if "single" in args.only:
            for name, runner, button in (
                ("first Segment (cold)", segment.runner, segment.run),
                ("first Stylize (cold)", stylize.runner, stylize.run),
                ("second Stylize", stylize.runner, stylize.run),
            ):
                plain, worst, shown, seconds, _ = stall(app, viewer, [runner], button.clicked)
                print(f"| {name} | {plain * 1000:.0f} | {worst * 1000:.0f} | {shown * 1000:.0f} | {seconds:.2f} |")
        if "two" in args.only:
            for attempt in range(args.repeats):
                plain, worst, shown, seconds, _ = stall(
                    app,
                    viewer,
                    [segment.runner, stylize.runner],
                    lambda: (segment.run.clicked(), stylize.run.clicked()),
                )
                print(
                    f"| Segment and Stylize at once ({attempt + 1}) | {plain * 1000:.0f} | {worst * 1000:.0f} | "
                    f"{shown * 1000:.0f} | {seconds:.2f} |"
                )
        if "cancel" in args.only:
            from PIL import Image

            stylize.form["style.steps"].value = 5000
            for size in args.cancel_sizes:  # the photo resized so that its long side is `size`
                photo = Image.fromarray(coffee()).resize((size, size * 2 // 3), Image.Resampling.BICUBIC)
                stylize.content.value = viewer.add_image(np.asarray(photo), name=f"photo {size}", rgb=True)
                stylize.style.value = style
                stylize.form["session.size"].value = size
                stylize.form["style.max_size"].set(size)
                seconds = [cancel_seconds(app, stylize.runner, stylize.run, rng) for _ in range(args.repeats)]
                print(f"| Cancel during Stylize at {size} px | " + ", ".join(f"{s:.2f}" for s in seconds) + " s |")
        if "crf" in args.only:
            crf_section(app, viewer, segment, rng, args)
        if "preview" in args.only:
            preview_section(app, viewer, stylize, style, args)
        if "prompts" in args.only:
            prompts_section(app, viewer, segment, rng, args)
    finally:
        for process in load:
            process.kill()
    viewer.close()


def preview_section(app, viewer, stylize, style, args) -> None:
    """Stylize a 24 Mpx photo with a preview every step at a small working size: the previews, not
    the optimisation, are what could stall the viewer."""
    import numpy as np
    from PIL import Image

    from napari_partial_style.samples import coffee

    photo = np.asarray(Image.fromarray(coffee()).resize((6000, 4000), Image.Resampling.BILINEAR))
    for repeat in range(args.repeats):
        stylize.content.value = viewer.add_image(photo, name=f"photo 24 Mpx {repeat}", rgb=True)
        stylize.style.value = style
        stylize.form["session.size"].value, stylize.form["style.steps"].value = 128, 10
        stylize.form["style.max_size"].set(256)
        stylize.preview_every.value = 1
        plain, worst, shown, seconds, over = stall(app, viewer, [stylize.runner], stylize.run.clicked)
        print(
            f"| Stylize 6000×4000 with a preview every step ({repeat + 1}) | {plain * 1000:.0f} | "
            f"{worst * 1000:.0f} | {shown * 1000:.0f} | {seconds:.2f} | {over} gaps over 250 ms |"
        )


def prompts_section(app, viewer, segment, rng, args) -> None:
    """Segment a 1 Mpx photo, then add clicks to the prompt Points layer and strokes to the prompt
    Labels layer as napari's mouse callbacks do (a point added in add mode; a brush dragged over a
    few event-loop turns, one undo item), each waiting for its update. Per prompt: the click to the
    labels layer updated (a stroke: from its last brush step, so with the tool's wait for the stroke's
    end), and the largest gaps as `stall` measures them."""
    import statistics

    import numpy as np
    from PIL import Image

    from napari_partial_style._napari.job_view import view_of
    from napari_partial_style._napari.prompt_tool import NOT_THIS, STROKE_DELAY_MS, THIS
    from napari_partial_style.samples import coffee

    sample = Image.fromarray(coffee())
    scale = (1e6 / (sample.width * sample.height)) ** 0.5
    photo = np.asarray(
        sample.resize((round(sample.width * scale), round(sample.height * scale)), Image.Resampling.BICUBIC)
    )
    layer = viewer.add_image(photo, name="photo 1 Mpx", rgb=True)
    segment.image.value = layer
    plain, worst, shown, seconds, _ = stall(app, viewer, [segment.runner], segment.run.clicked)
    print(
        f"| Segment {photo.shape[1]}×{photo.shape[0]} (before the prompts) | {plain * 1000:.0f} | "
        f"{worst * 1000:.0f} | {shown * 1000:.0f} | {seconds:.2f} |"
    )
    print(f"| napari idle, nothing computing (3 s) | {idle_gap(app, 3.0) * 1000:.0f} | | | |")
    tool = segment.prompts
    tool.start.clicked()
    points, strokes = viewer.layers[f"{layer.name} prompts"], viewer.layers[f"{layer.name} prompt strokes"]
    doc_prompts = lambda: len(view_of(layer).document.prompts)  # noqa: E731

    finished: list[float] = []
    tool.runner.on_done.append(lambda _ok: finished.append(time.perf_counter()))

    def click(row: float, col: float):
        def start():
            begun.append(time.perf_counter())
            points.add([row, col])

        return start

    def stroke(row: float, col: float, label: int):
        def start():
            strokes.selected_label, strokes.brush_size, strokes.mode = label, 10, "paint"
            count = doc_prompts()
            with strokes.block_history():  # one drag: a brush step per event-loop turn
                last = (row, col)
                for step in range(1, 13):
                    here = (row + 3 * step, col + 5 * step)
                    strokes._draw(label, last, here)
                    last = here
                    app.processEvents()
            begun.append(time.perf_counter())
            while doc_prompts() == count:  # the tool waits for the stroke's end, then starts the CRF
                app.processEvents()
                time.sleep(0.001)

        return start

    height, width = photo.shape[:2]
    rows: dict[str, list[tuple[float, float, float, float]]] = {"click": [], "stroke": []}
    for index in range(args.prompts + args.prompts // 4):
        kind = "click" if index < args.prompts else "stroke"
        positive = index % 2 == 0
        tool.sign.value = THIS if positive else NOT_THIS
        row, col = rng.uniform(0.05, 0.8) * height, rng.uniform(0.05, 0.8) * width
        start = click(row, col) if kind == "click" else stroke(row, col, 1 if positive else 2)
        begun: list[float] = []
        finished.clear()
        plain, worst, shown, _, _ = stall(app, viewer, [tool.runner], start)
        assert finished, "the prompt's update never ended"
        rows[kind].append((finished[-1] - begun[0], plain, worst, shown))
    rows = {kind: found for kind, found in rows.items() if found}  # under 4 clicks: no strokes
    for kind, found in rows.items():
        print(
            f"{kind}s, each: update s / largest gap ms: "
            + ", ".join(f"{r[0]:.2f}/{max(r[2], r[3]) * 1000:.0f}" for r in found)
        )
    for kind, found in rows.items():
        updates = [r[0] for r in found]
        largest = max(max(r[2], r[3]) for r in found)
        over = sum(max(r[2], r[3]) > 0.1 for r in found)
        waits = f" (the tool waits {STROKE_DELAY_MS} ms for its end)" if kind == "stroke" else ""
        print(
            f"| {len(found)} prompt {kind}s on {width}×{height}{waits} | "
            f"{max(r[1] for r in found) * 1000:.0f} | {max(r[2] for r in found) * 1000:.0f} | "
            f"{max(r[3] for r in found) * 1000:.0f} | update median {statistics.median(updates):.3f}, "
            f"largest {max(updates):.3f} | largest gap {largest * 1000:.0f} ms, "
            f"{over} of {len(found)} with a gap over 100 ms |"
        )


def crf_section(app, viewer, segment, rng, args) -> None:
    import numpy as np

    img = viewer.add_image(rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8), name="img", rgb=True)
    yy, xx = np.mgrid[: args.size, : args.size] / args.size
    for name, centre in (("a", 0.3), ("b", 0.7)):
        bump = np.exp(-((yy - centre) ** 2 + (xx - centre) ** 2) / 0.02).astype(np.float32)
        viewer.add_image(bump, name=f"img saliency [{name}]")
    segment.image.value = img
    segment.form["session.size"].value = args.size
    segment.form["segment.crf.iterations"].value = args.iterations
    for method in ("torch", "pydensecrf", "torch", "pydensecrf"):
        segment.form["segment.crf.method"].value = method
        plain, worst, shown, seconds, _ = stall(app, viewer, [segment.crf_runner], segment.crf_only.clicked)
        print(
            f"| Re-run CRF only, {method}, {args.size}², {args.iterations} iterations | {plain * 1000:.0f} | "
            f"{worst * 1000:.0f} | {shown * 1000:.0f} | {seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
