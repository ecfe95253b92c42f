"""The `.pstyle` reader: what it claims, how a bundle opens (File › Open, a drop), damaged files."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import PLUGIN, dock, job_layers  # noqa: E402
from synthetic import two_tone  # noqa: E402


def test_reader_ignores_other_paths_and_names_a_damaged_file(tmp_path):
    from napari_partial_style._napari.reader import get_reader
    from napari_partial_style.core.errors import BundleError

    assert get_reader(str(tmp_path / "photo.png")) is None
    assert get_reader([str(tmp_path / "a.pstyle"), str(tmp_path / "b.pstyle")]) is None
    assert get_reader(str(tmp_path / "missing.pstyle")) is None
    broken = tmp_path / "broken.pstyle"
    broken.mkdir()
    reader = get_reader(str(broken))
    with pytest.raises(BundleError, match="manifest.json"):
        reader(str(broken))
    notes = tmp_path / "notes.pstyle"
    notes.write_text("not a bundle")
    with pytest.raises(BundleError, match="is not a result bundle: it is a text file"):
        get_reader(str(notes))(str(notes))


def test_a_fresh_napari_opens_a_bundle_without_asking_by_open_and_drop(make_napari_viewer, tmp_path, monkeypatch):
    """No reader preference is set (the plugin never ran in this viewer), yet `viewer.open`, File ›
    Open and drag-and-drop (both `_qt_open`) open the bundle with no reader chooser."""
    from napari.settings import get_settings

    from napari_partial_style.core.io.bundle import Bundle, write_bundle

    path = write_bundle(
        Bundle(manifest={"targets": ["cup"]}, content=two_tone((48, 64)), labels=np.ones((48, 64), np.uint8)),
        tmp_path / "job.pstyle",
    )
    viewer = make_napari_viewer()
    assert not any("pstyle" in pattern for pattern in get_settings().plugins.extension2reader)
    viewer.open(str(path), plugin=None)  # `napari job.pstyle` and scripts
    assert [layer.name for layer in viewer.layers] == ["job content", "job labels"]
    chooser = []
    monkeypatch.setattr("napari._qt.qt_viewer.handle_gui_reading", lambda *a, **k: chooser.append(a))
    viewer.layers.clear()
    viewer.window._qt_viewer._qt_open([str(path)], stack=False)  # File › Open and a drop
    assert chooser == [] and [layer.name for layer in viewer.layers] == ["job content", "job labels"]
    # napari's folder reader claims every folder; once the plugin has run, unzipped and 0.1 bundles come to us too
    assert get_settings().plugins.extension2reader["*.pstyle/"] == PLUGIN
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "old.pstyle")
    viewer.window._qt_viewer._qt_open([str(tmp_path / "old.pstyle")], stack=False)
    assert chooser == [] and viewer.layers[-1].name == "old labels"


def test_the_crf_soft_edge_uses_the_labels_probabilities_also_after_a_bundle_round_trip(
    make_napari_viewer, qtbot, hub, tmp_path
):
    viewer = make_napari_viewer()
    job_layers(viewer, qtbot)
    probabilities = viewer.layers["img labels"].metadata["crf_probabilities"]
    assert probabilities.shape == (2, 64, 96)
    viewer.layers["img stylized"].data = np.zeros((64, 96, 3), np.uint8)  # black, so alpha shows in the composite
    composite = dock(viewer, "Composite and score")
    composite.composite_form["composite.crf_edge"].value = 3
    composite.composite_button.clicked()
    content, mask = viewer.layers["img"].data, viewer.layers["img labels"].data > 0
    alpha = 1 - viewer.layers["img composite"].data.astype(float).sum(2) / np.maximum(content.astype(float).sum(2), 1)
    assert ((alpha > 0.05) & (alpha < 0.95)).any(), "no soft edge"
    assert np.all(alpha[mask] > 0.45) and np.all(alpha[~mask] < 0.55)
    job = [viewer.layers[n] for n in ("img", "img labels", "img stylized", "img composite")]
    viewer.layers.selection = set(job)
    written = viewer.layers.save(str(tmp_path / "job.pstyle"), selected=True, plugin=PLUGIN)
    reopened = make_napari_viewer()
    reopened.open(written[0], plugin=PLUGIN)
    assert np.allclose(reopened.layers["job labels"].metadata["crf_probabilities"], probabilities)
