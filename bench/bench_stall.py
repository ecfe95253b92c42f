"""How long napari's event loop stalls while the plugin works: a first (cold) Segment and Stylize in a
fresh process, then "Re-run CRF only" with the torch CRF against pydensecrf.

A 10 ms timer ticks on the event loop while a widget (opened as the Plugins menu opens it) runs a
job; the largest gap between ticks until the computation ends is the stall a user feels. Gaps in
which napari added a layer are reported apart: that is napari's own cost (drawing a new layer on
software OpenGL), the same for any plugin. Run under Xvfb:

    TORCH_HOME=/tmp/scratch/th xvfb-run -a python bench/bench_stall.py [--size 1024] [--iterations 10]
"""

from __future__ import annotations

import argparse
import time

import torchvision  # noqa: F401  (Triton's LLVM must load before Mesa's; see core/segment/classifier.py)


def stall(app, viewer, runner, start) -> tuple[float, float, float, float]:
    """Largest gaps between 10 ms ticks while the job computes (layer additions left out, and all),
    the gap in which its result was shown (layers added or updated), and the seconds computing."""
    from qtpy.QtCore import QTimer

    ticks, inserted = [time.perf_counter()], []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    viewer.layers.events.inserted.connect(lambda _e: inserted.append(time.perf_counter()))
    timer.start(10)
    begin = time.perf_counter()
    start()
    while runner.running:
        app.processEvents()
        time.sleep(0.001)
    for _ in range(5):  # the ticks after the result was shown
        app.processEvents()
        time.sleep(0.01)
    timer.stop()
    assert runner.last_error is None, runner.status.value
    end = runner.computed_at
    during = [t for t in ticks if t <= end] + [end]
    pairs = list(zip(during, during[1:]))
    plain = [b - a for a, b in pairs if not any(a <= t <= b for t in inserted)]
    after = [end] + [t for t in ticks if t > end]
    shown = max(b - a for a, b in zip(after, after[1:]))
    return max(plain), max(b - a for a, b in pairs), shown, end - begin


def main() -> None:
    import napari
    import numpy as np
    from qtpy.QtWidgets import QApplication

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    viewer = napari.Viewer()  # shown: a hidden window is never drawn, and drawing is part of the stall
    app = QApplication.instance()
    from napari_partial_style.samples import coffee

    small = viewer.add_image(coffee(), name="photo", rgb=True)  # 600×400, the bundled sample
    style = viewer.add_image(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), name="style", rgb=True)
    _, segment = viewer.window.add_plugin_dock_widget("napari-partial-style", "Segment")
    _, stylize = viewer.window.add_plugin_dock_widget("napari-partial-style", "Stylize")
    segment.image.value = small
    segment.picker.above.value = False
    segment.picker.search.value = "cup"
    segment.picker.targets.value = ["cup"]
    segment.form["session.size"].value, segment.form["session.device"].value = 256, "cpu"
    stylize.content.value, stylize.style.value = small, style
    stylize.form["session.size"].value, stylize.form["session.device"].value = 128, "cpu"
    stylize.form["style.steps"].value = 5
    stylize.form["style.max_size"].set(256)  # two short levels: the stall, not the speed, is measured
    print("| job | largest gap (ms) computing, layer additions left out | computing, all | showing the result | "
          "seconds |")
    print("|---|---|---|---|---|")
    for name, widget, runner, button in (("first Segment (cold)", segment, segment.runner, segment.run),
                                         ("first Stylize (cold)", stylize, stylize.runner, stylize.run),
                                         ("second Stylize", stylize, stylize.runner, stylize.run)):
        plain, worst, shown, seconds = stall(app, viewer, runner, button.clicked)
        print(f"| {name} | {plain * 1000:.0f} | {worst * 1000:.0f} | {shown * 1000:.0f} | {seconds:.2f} |")

    img = viewer.add_image(rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8), name="img", rgb=True)
    yy, xx = np.mgrid[:args.size, :args.size] / args.size
    for name, centre in (("a", 0.3), ("b", 0.7)):
        bump = np.exp(-((yy - centre) ** 2 + (xx - centre) ** 2) / 0.02).astype(np.float32)
        viewer.add_image(bump, name=f"img saliency [{name}]")
    segment.image.value = img
    segment.form["session.size"].value = args.size
    segment.form["segment.crf.iterations"].value = args.iterations
    for method in ("torch", "pydensecrf", "torch", "pydensecrf"):
        segment.form["segment.crf.method"].value = method
        plain, worst, shown, seconds = stall(app, viewer, segment.crf_runner, segment.crf_only.clicked)
        print(f"| Re-run CRF only, {method}, {args.size}², {args.iterations} iterations | {plain * 1000:.0f} | "
              f"{worst * 1000:.0f} | {shown * 1000:.0f} | {seconds:.2f} |")
    viewer.close()


if __name__ == "__main__":
    main()
