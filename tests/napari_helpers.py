"""What the napari tests share: opening a dock as the Plugins menu does, waiting for its job, and
the small scenes and jobs several docks' tests start from."""

from __future__ import annotations

import numpy as np
from synthetic import two_tone

from napari_partial_style._napari import CompositeWidget, SegmentWidget, StylizeWidget, WorkflowWidget

PLUGIN = "napari-partial-style"
TIMEOUT_MS = 120_000


def wait_done(qtbot, runner):
    qtbot.waitUntil(lambda: not runner.running, timeout=TIMEOUT_MS)


WIDGETS = {
    "Segment": SegmentWidget,
    "Stylize": StylizeWidget,
    "Composite and score": CompositeWidget,
    "Partial style (all steps)": WorkflowWidget,
}


def dock(viewer, name):
    """Open a widget the way Plugins › Partial Style Transfer › NAME does."""
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    step = getattr(widget, "step", widget)  # the separate steps scroll: the step is inside
    assert isinstance(step, WIDGETS[name])
    return step


# A window's title bar and a task bar take about this much of a screen's height.
SCREEN_FRAME_PX = 80


def small_scene(viewer):
    affine = np.array([[1.0, 0.2, 3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]])
    img = viewer.add_image(
        two_tone((64, 96)), name="img", rgb=True, scale=(2.0, 2.0), translate=(5, 7), rotate=30, affine=affine
    )
    style = viewer.add_image(two_tone((48, 48), rng=np.random.default_rng(5))[::-1], name="style", rgb=True)
    return img, style


def segment_for_cup(viewer, img, size=64, classifier="tiny"):
    """The Segment widget, opened from the menu, set to find a cup in `img` (with the tests' tiny
    network unless `classifier` says otherwise)."""
    segment = dock(viewer, "Segment")
    segment.image.value = img
    segment.classifier.set(classifier)
    segment.picker.above.value = False
    segment.picker.search.value = "cup"
    segment.picker.targets.value = ["cup"]
    segment.form["session.size"].value = size
    return segment


def composite_scene(viewer):
    content = two_tone((48, 64))
    stylized = np.full_like(content, 200)
    viewer.add_image(content, name="img", rgb=True)
    viewer.add_image(stylized, name="img stylized", rgb=True)
    labels = np.zeros((48, 64), np.uint8)
    labels[10:20, 10:20] = 1
    viewer.add_labels(labels, name="img labels")
    widget = dock(viewer, "Composite and score")
    widget.content.value = viewer.layers["img"]
    widget.stylized.value = viewer.layers["img stylized"]
    widget.labels_layer.value = viewer.layers["img labels"]
    return widget, content


def flow_for_cup(viewer, img, style):
    """The all-steps dock, opened from the menu, set to find a cup in `img` with the tests' tiny
    classifier and to stylize it with `style`."""
    flow = dock(viewer, "Partial style (all steps)")
    flow.segment.image.value, flow.stylize.style.value = img, style
    flow.segment.classifier.set("tiny")
    flow.segment.picker.above.value = False
    flow.segment.picker.search.value = "cup"
    flow.segment.picker.targets.value = ["cup"]
    return flow


def job_layers(viewer, qtbot, sizes=(64, 48, 64), steps=(2, 1), crf="none", crf_edge=0.0):
    """Segment, stylize, composite and score through the widgets, as a user would, at working
    `sizes` (segment, stylize, score) and `steps` (first and finer levels), with a CRF soft edge of
    `crf_edge` px set in Stylize and Composite; the scene and the docks."""
    from types import SimpleNamespace

    img, style = small_scene(viewer)
    segment = segment_for_cup(viewer, img, size=sizes[0])
    segment.form["segment.crf.method"].value = crf
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = img, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value = sizes[1], steps[0]
    stylize.form["style.fine_steps"].value = steps[1]
    stylize.form["composite.crf_edge"].value = crf_edge
    stylize.run.clicked()
    wait_done(qtbot, stylize.runner)
    composite = dock(viewer, "Composite and score")
    composite.content.value = img
    composite.labels_layer.value = viewer.layers["img labels"]
    composite.composite_form["composite.crf_edge"].value = crf_edge
    composite.composite_button.clicked()
    composite.style.value, composite.score_form["session.size"].value = style, sizes[2]
    composite.score_form["segment.classifier"].set("tiny")
    composite.score_button.clicked()
    wait_done(qtbot, composite.runner)
    for runner in (segment.runner, stylize.runner, composite.runner):
        assert runner.last_error is None, runner.status.value
    return SimpleNamespace(img=img, style=style, segment=segment, stylize=stylize, composite=composite)
