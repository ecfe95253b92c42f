"""Screenshots of the napari workflow for docs/napari.md, taken headless (run under xvfb-run).

    xvfb-run -a python scripts/screenshots.py [--steps 40] [--size 256]

With real pretrained weights in torch's hub cache it shows real results. Without them, pass
--random-weights: it writes random-weight checkpoints into a temporary TORCH_HOME, so the
pictures show the interface only (the saliency, labels and stylized images are then meaningless),
and the docs say so.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

import torchvision  # noqa: F401  (Triton's LLVM must load before Mesa's; see core/segment/classifier.py)

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"


def random_weights() -> None:
    import torch

    from napari_partial_style.core.io import weights

    home = tempfile.mkdtemp(prefix="pstyle-shots-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)  # 1.1 GB of random weights
    os.environ["TORCH_HOME"] = home
    folder = weights.hub_folder()
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.vgg19().state_dict(), folder / weights.VGG19.filename)
    torch.save(torchvision.models.vgg16().state_dict(), folder / weights.VGG16.filename)


def shoot(app, viewer, name: str) -> None:
    """Let the canvas take its final size (docks change it) before the picture, or the photo is squeezed."""
    for _ in range(5):
        app.processEvents()
    viewer.reset_view()
    app.processEvents()
    viewer.screenshot(str(OUT / name), canvas_only=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--random-weights", action="store_true")
    args = parser.parse_args()
    if args.random_weights:
        random_weights()

    import napari
    from qtpy.QtWidgets import QApplication

    OUT.mkdir(parents=True, exist_ok=True)
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 900)  # the screen the docs promise every dock fits
    app = QApplication.instance()
    viewer.open_sample("napari-partial-style", "coffee")
    viewer.open_sample("napari-partial-style", "stone")
    viewer.layers["stone"].visible = False
    _, flow = viewer.window.add_plugin_dock_widget("napari-partial-style", "Partial style (all steps)")
    segment, stylize = flow.segment, flow.stylize

    segment.image.value = viewer.layers["coffee"]
    segment.picker.above.value = False
    segment.picker.search.value = "cup"
    segment.picker.targets.value = ["cup"]
    segment.form["segment.saliency.subtract"].value = "dining table, plate, wooden spoon"
    segment.form["session.size"].value = args.size
    stylize.style.value = viewer.layers["stone"]
    stylize.form["session.size"].value, stylize.form["style.steps"].value = args.size, args.steps
    flow.quick.clicked()  # the quick look first, as the docs suggest
    while flow.quick_runner.running:
        app.processEvents()
        time.sleep(0.02)
    flow.tabs.setCurrentIndex(1)
    shoot(app, viewer, "0-quick-look.png")
    viewer.layers["coffee quick look"].visible = False
    flow.run_all.native.click()  # segment, stylize, composite and score, as a user would
    while flow.running_all:
        app.processEvents()
        time.sleep(0.02)
    for name in [n.name for n in viewer.layers if "saliency" in n.name]:
        viewer.layers[name].visible = False
    flow.tabs.setCurrentIndex(0)
    viewer.layers["coffee stylized"].visible = viewer.layers["coffee composite"].visible = False
    shoot(app, viewer, "1-segment.png")

    flow.tabs.setCurrentIndex(1)
    viewer.layers["coffee stylized"].visible, viewer.layers["coffee labels"].visible = True, False
    shoot(app, viewer, "2-stylize.png")

    flow.tabs.setCurrentIndex(2)
    viewer.layers["coffee stylized"].visible, viewer.layers["coffee composite"].visible = False, True
    shoot(app, viewer, "3-composite.png")

    viewer.window.remove_dock_widget("all")
    for name in ("Segment", "Stylize", "Composite and score"):  # the separate docks, all at once
        viewer.window.add_plugin_dock_widget("napari-partial-style", name)
    shoot(app, viewer, "4-separate-docks.png")
    print("\n".join(str(p) for p in sorted(OUT.glob("*.png"))))
    viewer.close()


if __name__ == "__main__":
    main()
