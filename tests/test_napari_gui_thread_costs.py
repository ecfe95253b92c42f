"""What a dock does on napari's GUI thread for a large photo stays small: a preview is shown at its
working size over the photo (no full-size texture), and preparing a job does not hash the photo."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari.components import ViewerModel  # noqa: E402

from napari_partial_style._napari import job_view  # noqa: E402
from napari_partial_style._napari.layers import over, put_image  # noqa: E402
from napari_partial_style.core.job import fingerprint  # noqa: E402


def corners(layer) -> np.ndarray:
    """Where the outer edges of a layer's first and last pixels lie in the world."""
    h, w = layer.data.shape[:2]
    return np.array([layer.data_to_world(p) for p in [(-0.5, -0.5), (-0.5, w - 0.5), (h - 0.5, w - 0.5)]])


def placed_photo(viewer, shape=(400, 600)):
    affine = np.array([[1.0, 0.2, 3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]])
    data = np.random.default_rng(0).integers(0, 256, (*shape, 3), np.uint8)
    return viewer.add_image(data, name="photo", rgb=True, scale=(2.0, 1.5), translate=(5, 7), rotate=30, affine=affine)


def test_a_preview_at_its_working_size_lies_on_the_photo_and_the_result_takes_its_place():
    viewer = ViewerModel()
    photo = placed_photo(viewer)
    preview = np.zeros((85, 128, 3), np.uint8)  # 128 px wide: rows and columns shrink by different factors
    layer = put_image(viewer, "photo stylized", preview, photo, {}, rgb=True, **over(photo, preview.shape[:2]))
    assert layer.data.shape == (85, 128, 3)
    np.testing.assert_allclose(corners(layer), corners(photo), atol=1e-9)
    # pixel (i, j)'s centre lies at the centre of the block of the photo's pixels it stands for
    centre = layer.data_to_world((10, 20))
    np.testing.assert_allclose(centre, photo.data_to_world((10.5 * 400 / 85 - 0.5, 20.5 * 600 / 128 - 0.5)))
    put_image(viewer, "photo stylized", preview[:42, :64].copy(), photo, {}, rgb=True, **over(photo, (42, 64)))
    np.testing.assert_allclose(corners(layer), corners(photo), atol=1e-9)  # a finer level: placed anew
    put_image(viewer, "photo stylized", np.zeros((400, 600, 3), np.uint8), photo, {}, rgb=True)
    assert layer.data.shape == (400, 600, 3)
    np.testing.assert_allclose(layer.scale, photo.scale)
    np.testing.assert_allclose(layer.translate, photo.translate)
    np.testing.assert_allclose(corners(layer), corners(photo), atol=1e-9)


def test_preparing_a_job_again_does_not_hash_the_photo_and_a_new_document_hashes_it_when_it_needs_to(
    monkeypatch,
):
    """Each Stylize click fingerprinted the photo twice on the GUI thread (0.1-0.5 s at 24 Mpx);
    the layer's data unchanged is the same memory, and a new document's fingerprint waits for its job."""
    viewer = ViewerModel()
    photo = placed_photo(viewer)
    hashed, of_array = [], fingerprint.of_array
    monkeypatch.setattr(
        fingerprint, "of_array", lambda a: (hashed.append(None if a is None else a.shape), of_array(a))[1]
    )
    doc = job_view.edit(viewer, photo, {}).document
    assert photo.data.shape not in hashed  # made: not fingerprinted yet
    assert job_view.edit(viewer, photo, {}).document is doc and photo.data.shape not in hashed
    key = doc.parts("stylize")["content"]  # what the worker's pipeline asks for first
    assert hashed.count(photo.data.shape) == 1 and key == fingerprint.of_image(doc.content)
    hashed.clear()
    photo.data = photo.data.copy()  # the same pixels in new memory: compared by their fingerprints
    assert job_view.edit(viewer, photo, {}).document is doc and hashed.count(photo.data.shape) == 2
    assert job_view.edit(viewer, photo, {}).document is doc and hashed.count(photo.data.shape) == 2  # held now
    changed = photo.data.copy()
    changed[0, 0] ^= 1
    photo.data = changed  # one pixel differs: a new document
    assert job_view.edit(viewer, photo, {}).document is not doc
