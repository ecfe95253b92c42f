"""How long napari's event loop stalls while "Re-run CRF only" runs, torch CRF against pydensecrf.

A 10 ms timer ticks on the event loop while the Segment widget (opened as the Plugins menu opens it)
re-runs the CRF on a SIZE² image with two saliency layers; the largest gap between ticks until the
computation ends is the stall a user feels. Run under Xvfb:

    xvfb-run -a python bench/bench_crf_stall.py [--size 1024] [--iterations 10]
"""

from __future__ import annotations

import argparse
import time

import torchvision  # noqa: F401  (Triton's LLVM must load before Mesa's; see core/classifier.py)


def stall(viewer, app, widget, method: str) -> tuple[float, float]:
    """(largest gap between 10 ms ticks, seconds) while the CRF runs with `method`."""
    from qtpy.QtCore import QTimer

    widget.crf_method.value = method
    ticks = [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    start = time.perf_counter()
    widget.crf_only.clicked()
    while widget.crf_runner.running:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    end = widget.crf_runner.computed_at or time.perf_counter()
    ticks = [t for t in ticks if t <= end] + [end]
    assert widget.crf_runner.last_error is None, widget.status.value
    return max(b - a for a, b in zip(ticks, ticks[1:])), end - start


def main() -> None:
    import napari
    import numpy as np
    from qtpy.QtWidgets import QApplication

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    viewer = napari.Viewer(show=False)
    app = QApplication.instance()
    img = viewer.add_image(rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8), name="img", rgb=True)
    yy, xx = np.mgrid[:args.size, :args.size] / args.size
    for name, centre in (("a", 0.3), ("b", 0.7)):
        bump = np.exp(-((yy - centre) ** 2 + (xx - centre) ** 2) / 0.02).astype(np.float32)
        viewer.add_image(bump, name=f"img saliency [{name}]")
    _, widget = viewer.window.add_plugin_dock_widget("napari-partial-style", "Segment")
    widget.image.value = img
    widget.size.value, widget.iterations.value, widget.device.value = args.size, args.iterations, "cpu"
    print(f"CRF on {args.size}², {args.iterations} iterations, 'Re-run CRF only' in napari (CPU)")
    print("| CRF | largest event-loop gap (ms) | seconds |")
    print("|---|---|---|")
    for method in ("torch", "pydensecrf", "torch", "pydensecrf"):
        gap, seconds = stall(viewer, app, widget, method)
        print(f"| {method} | {gap * 1000:.0f} | {seconds:.2f} |")
    viewer.close()


if __name__ == "__main__":
    main()
