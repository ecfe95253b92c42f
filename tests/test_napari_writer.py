"""The `.pstyle` writer: a job's layers saved as a bundle, what it records, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import PLUGIN, composite_scene, dock, job_layers, wait_done  # noqa: E402
from synthetic import two_tone  # noqa: E402


def test_reader_writer_round_trip_with_painted_labels(make_napari_viewer, tmp_path, rng):
    from napari_partial_style._napari.writer import write_bundle_layers
    from napari_partial_style.core.io.bundle import Bundle, read_bundle, write_bundle

    content = two_tone((48, 64))
    labels = np.zeros((48, 64), np.uint8)
    labels[5:15, 5:15] = 1
    source = write_bundle(
        Bundle(
            manifest={"targets": ["cup"]},
            content=content,
            stylized=content[::-1].copy(),
            composite=content,
            labels=labels,
            saliency=rng.random((1, 48, 64)).astype(np.float32),
        ),
        tmp_path / "job.pstyle",
    )
    viewer = make_napari_viewer()
    viewer.open(str(source), plugin=PLUGIN)
    names = [layer.name for layer in viewer.layers]
    assert names == ["job content", "job saliency [cup]", "job stylized", "job composite", "job labels"]
    from napari_partial_style._napari.layers import LABELS_CONTOUR

    assert viewer.layers["job labels"].contour == LABELS_CONTOUR  # outlines, as the job drew them
    assert "outline_when_added" not in viewer.layers["job labels"].metadata
    viewer.layers["job labels"].data_setitem((np.array([40]), np.array([60])), 1)
    data = [layer.as_layer_data_tuple() for layer in viewer.layers]
    written = write_bundle_layers(str(tmp_path / "edited.pstyle"), data)
    back = read_bundle(written[0])
    assert back.labels[40, 60] == 1 and back.labels.sum() == labels.sum() + 1
    assert np.array_equal(back.content, content) and back.manifest["targets"] == ["cup"]
    assert back.saliency.shape == (1, 48, 64)


def test_writer_errors_reach_the_user(make_napari_viewer, tmp_path):
    from napari_partial_style.core.errors import BundleError

    viewer = make_napari_viewer()
    viewer.add_labels(np.zeros((48, 64), np.uint8), name="img labels")
    viewer.layers.select_all()
    with pytest.raises(BundleError, match="select the content image layer too"):
        viewer.layers.save(str(tmp_path / "x.pstyle"), selected=True, plugin=PLUGIN)
    assert not (tmp_path / "x.pstyle").exists()


def test_saving_all_layers_of_a_job_records_what_was_done(make_napari_viewer, qtbot, hub, tmp_path):
    from napari_partial_style.core.io.bundle import read_bundle

    viewer = make_napari_viewer()
    job = job_layers(viewer, qtbot)
    job.composite.composite_button.clicked()  # a new composite: the scores shown measured the old one
    assert job.composite.scores.value.startswith("Out of date") and "mean IU" in job.composite.scores.value
    job.composite.score_button.clicked()
    wait_done(qtbot, job.composite.runner)
    assert not job.composite.scores.value.startswith("Out of date") and "mean IU" in job.composite.scores.value
    viewer.layers["img labels"].data_setitem((np.array([1]), np.array([1])), 1)  # painted after the job
    viewer.add_labels(np.zeros((64, 96), np.uint8), name="img labels [2]")
    viewer.add_points([[3, 4]], name="clicks")
    viewer.layers.select_all()
    written = viewer.layers.save(str(tmp_path / "job.pstyle"), selected=True, plugin=PLUGIN)
    bundle = read_bundle(written[0])
    manifest = bundle.manifest
    assert manifest["targets"] == ["cup"] and manifest["parameters"]["score"]["enabled"] is True
    assert manifest["parameters"]["segment"]["saliency"]["targets"] == ["cup"]
    assert manifest["parameters"]["style"]["steps"] == 2 and manifest["scores"] == bundle.scores
    assert 0 <= bundle.scores["mean_iu"] <= 1 and len(manifest["classifier_classes"]) == 1000
    assert bundle.labels.max() == 0  # the newest of the job's labels layers: `img labels [2]`
    seen = viewer.layers["img re-segmentation"]  # what the classifier saw in the composite, hidden at first
    assert (
        seen.data.shape == (64, 96)
        and not seen.visible
        and "mean IU" in dock(viewer, "Composite and score").scores.value
    )
    assert bundle.stylized.shape == bundle.composite.shape == (64, 96, 3) and bundle.saliency.shape == (1, 64, 96)


@pytest.mark.parametrize("crf_edge", [0.0, 6.0])
def test_the_docks_compute_what_session_run_computes(make_napari_viewer, qtbot, hub, tmp_path, crf_edge):
    """One job through the docks, stage by stage (Segment, Stylize, Composite, Score), and through
    `Session.run` with the parameters the docks show: the same bundle, array for array; also with a
    CRF soft edge, which softens masked's style guides as well as the composite's alpha."""
    from dataclasses import replace

    from napari_partial_style.api import Session
    from napari_partial_style.core.io.bundle import read_bundle
    from napari_partial_style.core.params import JobParams

    viewer = make_napari_viewer()
    job = job_layers(viewer, qtbot, sizes=(48, 48, 48), steps=(3, 2), crf="torch", crf_edge=crf_edge)
    img, style, segment, stylize, composite = job.img, job.style, job.segment, job.stylize, job.composite
    viewer.layers.selection = {lyr for lyr in viewer.layers if lyr.name.startswith("img") and "re-seg" not in lyr.name}
    docks = read_bundle(viewer.layers.save(str(tmp_path / "docks.pstyle"), selected=True, plugin=PLUGIN)[0])

    shown = stylize.params()
    params = replace(
        JobParams(),
        session=shown.session,
        segment=segment.params().segment,
        style=shown.style,
        composite=composite.composite_form.params().composite,
        score=composite.score_form.params().score,
    )
    assert params.segment.classifier == "tiny" and params.segment.saliency.targets == ("cup",)
    assert params.composite.crf_edge == crf_edge
    ran = read_bundle(Session(params.session).run(img.data, style.data, params).result().save(tmp_path / "run.pstyle"))
    for name in ("labels", "saliency", "crf_probabilities", "stylized", "composite", "style", "preview"):
        assert np.array_equal(getattr(docks, name), getattr(ran, name)), name
    for key in ("expected_class", "pixel_accuracy", "mean_iu", "class_set"):
        assert docks.scores[key] == ran.scores[key], key


@pytest.mark.slow  # a whole job end to end: the full run covers it
def test_a_bundle_saved_from_napari_carries_the_job_back(make_napari_viewer, qtbot, hub, tmp_path):
    """Saved from napari, a job's bundle holds what the CLI's holds (the style included, though its
    layer is not selected, and the preview); reopened in a fresh viewer, its layers sit where they
    were with the user's metadata, and Score and Composite run without naming anything again."""
    from napari_partial_style.core.errors import BundleError
    from napari_partial_style.core.io.bundle import LAYERS, read_bundle

    viewer = make_napari_viewer()
    img = job_layers(viewer, qtbot).img
    img.scale, img.translate, img.units = (0.5, 0.25), (10, -3), ("mm", "mm")
    img.metadata.update(mine={"taken": "2026-12-01", "exposure": [1, 2]}, opaque=object())
    viewer.layers["img composite"].metadata["note"] = "keep"
    viewer.layers.selection = {lyr for lyr in viewer.layers if lyr.name.startswith("img") and "re-seg" not in lyr.name}
    assert viewer.layers["style"] not in viewer.layers.selection
    path = viewer.layers.save(str(tmp_path / "job.pstyle"), selected=True, plugin=PLUGIN)[0]
    bundle = read_bundle(path)
    assert set(bundle.manifest["files"]) == set(LAYERS)  # everything a CLI job with a segmentation writes
    assert np.array_equal(bundle.style, viewer.layers["style"].data)
    assert bundle.preview.shape[0] == 384 and bundle.preview.shape[2] == 3
    assert bundle.scores["expected_class"] and bundle.manifest["targets"] == ["cup"]
    assert bundle.manifest["napari"]["metadata_left_out"] == ["content: opaque"]  # named, not silently dropped

    fresh = make_napari_viewer()
    fresh.open(path, plugin=PLUGIN)
    content, composite = fresh.layers["job content"], fresh.layers["job composite"]
    for layer in (content, composite, fresh.layers["job labels"], fresh.layers["job saliency [cup]"]):
        assert tuple(layer.scale) == (0.5, 0.25) and tuple(layer.translate) == (10, -3), layer.name
        assert [str(u) for u in layer.units] == ["millimeter", "millimeter"]
    assert tuple(fresh.layers["job style"].scale) == (1, 1)  # the style has a grid of its own
    assert content.metadata["mine"] == {"taken": "2026-12-01", "exposure": [1, 2]}
    assert composite.metadata["note"] == "keep"
    dock_ = dock(fresh, "Composite and score")
    dock_.content.value = content
    assert dock_.style.value is fresh.layers["job style"]
    dock_.score_form["segment.classifier"].set("tiny")
    dock_.score_form["session.size"].value = 64
    dock_.score_button.clicked()
    wait_done(qtbot, dock_.runner)
    assert dock_.runner.last_error is None and "mean IU" in dock_.scores.value, dock_.status.value
    dock_.composite_button.clicked()
    assert "px changed region" in dock_.status.value

    stack = fresh.add_image(np.zeros((3, 64, 80, 3), np.uint8), name="movie", rgb=True)
    fresh.layers.selection = {stack}
    fresh.layers.save(str(tmp_path / "movie.pstyle"), selected=True, plugin=PLUGIN)  # a clip: one frame axis
    assert read_bundle(tmp_path / "movie.pstyle").content.shape == (3, 64, 80, 3)
    gray = fresh.add_image(np.zeros((2, 3, 64, 80), np.uint8), name="volume")
    fresh.layers.selection = {gray}
    with pytest.raises(BundleError, match=r"'volume' has 2 axes before its planes .*a single frame axis"):
        fresh.layers.save(str(tmp_path / "volume.pstyle"), selected=True, plugin=PLUGIN)
    assert not (tmp_path / "volume.pstyle").exists()


def save_as(monkeypatch, path):
    """The Save bundle… dialog answers `path`, as a user typing it would."""
    from qtpy.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(path), "")))


def test_save_bundle_writes_the_contents_job_from_either_dock(make_napari_viewer, qtbot, hub, tmp_path, monkeypatch):
    """The docks' Save bundle… writes a .pstyle with the plugin's writer, whatever type napari's own
    Save dialog offers first (napari-svg took `cup-stone.pstyle` there)."""
    from napari_partial_style.core.io.bundle import read_bundle

    viewer = make_napari_viewer()
    composite, content = composite_scene(viewer)
    composite.composite_button.clicked()
    viewer.add_image(two_tone((40, 56)), name="camera", rgb=True)  # another image: not part of the job
    save_as(monkeypatch, tmp_path / "cup-stone.pstyle")
    composite.save.clicked()
    assert composite.status.value == f"Saved {tmp_path / 'cup-stone.pstyle'}"
    bundle = read_bundle(tmp_path / "cup-stone.pstyle")
    assert np.array_equal(bundle.content, content) and np.array_equal(bundle.labels, viewer.layers["img labels"].data)
    assert np.array_equal(bundle.composite, viewer.layers["img composite"].data)

    flow = dock(viewer, "Partial style (all steps)")
    flow.segment.image.value = viewer.layers["img"]
    save_as(monkeypatch, tmp_path / "flow")  # no suffix typed: the bundle's is added
    flow.save.clicked()
    assert np.array_equal(read_bundle(tmp_path / "flow.pstyle").stylized, viewer.layers["img stylized"].data)
    assert flow.all_status.value == f"Saved {tmp_path / 'flow.pstyle'}"

    volume = viewer.add_image(np.stack([np.full((2, 40, 56), i, np.uint8) for i in range(3)]), name="volume")
    composite.content.value = volume
    viewer.dims.set_current_step(0, 2)
    save_as(monkeypatch, tmp_path / "slice.pstyle")
    composite.save.clicked()  # two leading axes: the slice shown, as a bundle holds one image or one clip
    assert read_bundle(tmp_path / "slice.pstyle").content.shape == (40, 56), composite.status.value
    assert read_bundle(tmp_path / "slice.pstyle").content.max() == 2


def test_save_bundle_writes_a_whole_clip_with_the_frame_axis_in_every_layer(
    make_napari_viewer, tmp_path, monkeypatch, rng
):
    """Save bundle… on a clip writes all its frames, every layer of the job with the frame axis, and
    the bundle reopens in napari as stacks the slider moves through together."""
    from napari_partial_style.core.io.bundle import read_bundle

    viewer = make_napari_viewer()
    frames = np.stack([two_tone((36, 48), rng=np.random.default_rng(i)) for i in range(4)])
    labels = np.zeros((4, 36, 48), np.uint8)
    for i in range(4):
        labels[i, 5 + i : 15 + i, 5:20] = 1
    viewer.add_image(frames, name="movie", rgb=True)
    viewer.add_image(frames[:, ::-1].copy(), name="movie stylized", rgb=True)
    viewer.add_image(frames // 2, name="movie composite", rgb=True)
    viewer.add_image(rng.random((4, 36, 48)).astype(np.float32), name="movie saliency [cup]")
    viewer.add_labels(labels, name="movie labels")
    composite = dock(viewer, "Composite and score")
    composite.content.value = viewer.layers["movie"]
    composite.labels_layer.value = viewer.layers["movie labels"]
    viewer.dims.set_current_step(0, 2)
    save_as(monkeypatch, tmp_path / "movie.pstyle")
    composite.save.clicked()
    assert composite.status.value == f"Saved {tmp_path / 'movie.pstyle'}"
    bundle = read_bundle(tmp_path / "movie.pstyle")
    assert bundle.frames == 4
    assert np.array_equal(bundle.content, frames) and np.array_equal(bundle.labels, labels)
    assert np.array_equal(bundle.stylized, frames[:, ::-1]) and np.array_equal(bundle.composite, frames // 2)
    assert bundle.saliency.shape == (4, 1, 36, 48)

    fresh = make_napari_viewer()
    fresh.open(str(tmp_path / "movie.pstyle"), plugin=PLUGIN)
    for name in ("movie content", "movie stylized", "movie composite", "movie labels", "movie saliency [cup]"):
        assert fresh.layers[name].data.shape[0] == 4, name
