"""The workflow dock's Quick look on the bundled coffee photo with the Stone texture, then (with
--full) Run all with the same settings, to compare Run all's time with the quick look's estimate.
Opened as the Plugins menu opens it, in a fresh napari process (the networks load in the run):

    TORCH_HOME=/tmp/scratch/th xvfb-run -a -s "-screen 0 1600x900x24" python bench/bench_quick_look.py [--full]
"""

from __future__ import annotations

import argparse
import time

import torchvision  # noqa: F401  (Triton's LLVM must load before Mesa's; see core/segment/classifier.py)


def wait(app, busy) -> float:
    start = time.perf_counter()
    while busy():
        app.processEvents()
        time.sleep(0.01)
    return time.perf_counter() - start


def main() -> None:
    import napari
    from qtpy.QtWidgets import QApplication

    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="also run Run all and time it")
    args = parser.parse_args()
    viewer = napari.Viewer()
    app = QApplication.instance()
    viewer.open_sample("napari-partial-style", "coffee")
    viewer.open_sample("napari-partial-style", "stone")
    _, flow = viewer.window.add_plugin_dock_widget("napari-partial-style", "Partial style (all steps)")
    flow.segment.picker.above.value = False
    flow.segment.picker.search.value = "cup"
    flow.segment.picker.targets.value = ["cup"]
    start = time.perf_counter()
    flow.quick.clicked()
    wait(app, lambda: flow.quick_runner.running)
    print(f"quick look: {time.perf_counter() - start:.1f} s; {flow.quick_status.value}")
    if args.full:
        start = time.perf_counter()
        flow.run_all.native.click()
        print(flow.status.value)
        wait(app, lambda: flow.running_all)
        print(f"Run all: {time.perf_counter() - start:.1f} s; estimated {flow._estimate[1]:.0f} s")
    viewer.close()


if __name__ == "__main__":
    main()
