"""The plugin as napari shows it: its manifest, the Plugins menu, the docks' sizes on small
screens, and the choices and defaults every dock starts with."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import PLUGIN, SCREEN_FRAME_PX, WIDGETS, dock  # noqa: E402
from synthetic import two_tone  # noqa: E402

from napari_partial_style._napari import WorkflowWidget  # noqa: E402


def test_manifest_is_valid_and_complete():
    import subprocess
    import sys

    from npe2 import PluginManifest

    check = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "--imports", PLUGIN], capture_output=True, text=True
    )
    assert check.returncode == 0 and "valid" in check.stdout, check.stdout + check.stderr

    manifest = PluginManifest.from_distribution(PLUGIN)
    manifest.validate_imports()
    contributions = manifest.contributions
    assert {w.display_name for w in contributions.widgets} == set(WIDGETS)
    assert contributions.readers[0].filename_patterns == ["*.pstyle"]
    assert contributions.writers[0].filename_extensions == [".pstyle"]
    assert {s.key for s in contributions.sample_data} >= {"coffee", "coffee_labels", "stone"}


@pytest.mark.parametrize("name", list(WIDGETS))
def test_every_widget_opens_from_the_plugins_menu(make_napari_viewer, name):
    viewer = make_napari_viewer()
    viewer.add_image(two_tone((48, 64)), name="img", rgb=True)
    widget = dock(viewer, name)
    first = {"Segment": lambda: widget.image, "Partial style (all steps)": lambda: widget.segment.image}.get(
        name, lambda: widget.content
    )()
    assert first.value is not None and first.value.name == "img"


@pytest.mark.parametrize("screen, names", [((1366, 768), [name]) for name in WIDGETS] + [((1600, 900), list(WIDGETS))])
def test_the_docks_fit_a_small_screen_alone_and_all_together_a_larger_one(make_napari_viewer, qtbot, screen, names):
    """Docks opened from the Plugins menu, with their Advanced sections open: the window can
    shrink to the screen: each dock scrolls."""
    viewer = make_napari_viewer(show=True)
    viewer.add_image(two_tone((48, 64)), name="img", rgb=True)
    for name in names:
        step = dock(viewer, name)
        steps = [step.segment, step.stylize, step.composite] if isinstance(step, WorkflowWidget) else [step]
        forms = [
            form
            for each in steps
            for form in (
                getattr(each, "form", None),
                getattr(each, "composite_form", None),
                getattr(each, "score_form", None),
            )
            if form and len(form.advanced)
        ]
        assert forms
        for form in forms:
            form._toggle()
            assert form.advanced_open
    window = viewer.window._qt_window
    qtbot.wait(50)
    width, height = window.minimumSizeHint().width(), window.minimumSizeHint().height()
    assert width <= screen[0] and height <= screen[1] - SCREEN_FRAME_PX, (width, height)
    window.resize(screen[0], screen[1] - SCREEN_FRAME_PX)
    qtbot.wait(50)
    assert window.height() <= screen[1] - SCREEN_FRAME_PX


def test_step_docks_opened_one_under_another_share_the_height(make_napari_viewer, qtbot):
    """Qt left the first dock its whole height and squeezed the next ones to two rows each."""
    from qtpy.QtWidgets import QDockWidget

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 900 - SCREEN_FRAME_PX)
    viewer.add_image(two_tone((48, 64)), name="img", rgb=True)
    steps = ["Segment", "Stylize", "Composite and score"]
    for name in steps:
        dock(viewer, name)
        qtbot.wait(20)
    qtbot.wait(50)
    heights = {
        d.windowTitle().split(" (")[0]: d.height()
        for d in viewer.window._qt_window.findChildren(QDockWidget)
        if d.isVisible() and d.windowTitle().split(" (")[0] in steps
    }
    assert len(heights) == 3 and min(heights.values()) >= 200, heights


def test_the_widgets_offer_every_option_of_the_cli_with_the_same_defaults(make_napari_viewer):
    from napari_partial_style._napari.composite_widget import NOT_IN_NAPARI
    from napari_partial_style._napari.forms import read
    from napari_partial_style.core.errors import InputError
    from napari_partial_style.core.options import leaves
    from napari_partial_style.core.params import JobParams

    viewer = make_napari_viewer()
    composite = dock(viewer, "Composite and score")
    forms = [dock(viewer, "Segment").form, dock(viewer, "Stylize").form, composite.composite_form, composite.score_form]
    shown = set()
    for form in forms:
        for leaf in form.leaves:
            assert read(form.fields[".".join(leaf.path)]) == leaf.default, leaf.path
            shown.add(leaf.path)
        assert not form.advanced_open  # advanced settings start collapsed
    assert shown | set(NOT_IN_NAPARI) == {leaf.path for leaf in leaves(JobParams)}
    stylize = forms[1]
    stylize.toggle.clicked()
    assert stylize.advanced_open and stylize["style.history_size"].value == 100
    stylize.toggle.clicked()
    assert not stylize.advanced_open
    stylize["style.style_weight"].value = "1e7"
    assert stylize.params().style.style_weight == 1e7
    stylize["style.style_weight"].value = "lots"
    with pytest.raises(InputError, match="style weight: 'lots' is not a number"):
        stylize.params()


def test_device_default_comes_from_the_plugin_settings(make_napari_viewer):
    from napari.settings import get_plugin_settings

    settings = get_plugin_settings(PLUGIN).general
    before = settings.device
    settings.device = "cpu"
    try:
        widget = dock(make_napari_viewer(), "Stylize")
        device = widget.form["session.device"]
        assert device.value == "cpu" and "cpu" in device.choices
    finally:
        settings.device = before


def test_defaults_follow_the_user_and_errors_keep_the_dock_narrow(make_napari_viewer, tmp_path, errors):
    """The active layer is the content; a reopened bundle pairs its layers, keeps the job's class
    colours and carries the style to Score; a long error wraps; Composite's errors say Composite."""
    from napari_partial_style._napari.stable_colors import class_color
    from napari_partial_style.core.io.bundle import Bundle, write_bundle

    viewer = make_napari_viewer()
    viewer.add_image(two_tone((32, 48)), name="marble", rgb=True)  # opened first: the style
    photo = viewer.add_image(two_tone((48, 64)), name="photo", rgb=True)
    viewer.layers.selection.active = photo
    assert dock(viewer, "Segment").image.value is photo and dock(viewer, "Stylize").content.value is photo

    labels = np.zeros((48, 64), np.uint8)
    labels[5:20, 5:20] = 1
    content = two_tone((48, 64))
    write_bundle(
        Bundle(
            manifest={"targets": ["cup"]},
            content=content,
            stylized=content[::-1].copy(),
            composite=content,
            labels=labels,
        ),
        tmp_path / "job.pstyle",
    )
    viewer.open(str(tmp_path / "job.pstyle"), plugin=PLUGIN)
    reopened = viewer.layers["job labels"]
    assert np.allclose(reopened.colormap.map(np.array([1]))[0], class_color("cup"))
    viewer.layers["job stylized"].metadata["partial_style"] = {"style_layer": "marble"}
    composite = dock(viewer, "Composite and score")
    composite.content.value = viewer.layers["job content"]
    assert composite.stylized.value is viewer.layers["job stylized"] and composite.labels_layer.value is reopened
    assert composite.style.value is viewer.layers["marble"]  # the style Stylize used goes to Score

    width = composite.native.sizeHint().width()
    composite.runner.report_error(ValueError("a very long message " * 30), "Composite")
    assert composite.status.native.wordWrap() and composite.native.sizeHint().width() <= width + 5
    viewer.layers.remove("job stylized")
    composite.stylized.value = None
    composite.composite_button.clicked()
    assert errors and errors[-1].startswith("Composite failed")


DOCK_IN_A_FRESH_PROCESS = """
import json, sys, threading, time
import napari
from qtpy.QtWidgets import QApplication

importers = []


class Watch:  # which thread imports torch
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            importers.append(threading.current_thread().name)
        return None


sys.meta_path.insert(0, Watch())
viewer = napari.Viewer(show=False)
_, widget = viewer.window.add_plugin_dock_widget("napari-partial-style", "Segment")
device = getattr(widget, "step", widget).form["session.device"]
deadline = time.perf_counter() + 60
while "torch" not in sys.modules:
    QApplication.processEvents()
    time.sleep(0.05)
    if time.perf_counter() > deadline:
        break
for _ in range(40):
    QApplication.processEvents()
    time.sleep(0.05)
print(json.dumps({"opened_without_torch": "MainThread" not in importers[:1], "listed_later": "torch" in sys.modules,
                  "choices": list(device.choices), "value": device.value}))
viewer.close()
"""


@pytest.mark.slow
def test_a_dock_opens_without_importing_torch_and_lists_the_devices_after(tmp_path):
    """Opening the Segment dock took 6.9 s: torch was imported to list the devices."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", DOCK_IN_A_FRESH_PROCESS], capture_output=True, text=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["opened_without_torch"] and result["listed_later"], out.stderr[-2000:]
    assert result["choices"][0] == "auto" and result["choices"][-1] == "cpu" and result["value"] in result["choices"]
