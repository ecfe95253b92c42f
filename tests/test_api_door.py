"""The API's door: each public method checks its arguments' types and shapes first, in one line
naming the argument (an InputError), before any network loads; never a raw TypeError,
AttributeError, IndexError or ValueError from deep inside."""

import numpy as np
import pytest
from synthetic import two_tone

from napari_partial_style.api import Session, run
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import CompositeParams, JobParams, SessionParams, StyleParams

CONTENT = two_tone((48, 64))
STYLE = two_tone((40, 40), rng=np.random.default_rng(7))
MASK = np.zeros((48, 64), bool)
MASK[12:36, 16:40] = True
MAPS = np.zeros((1, 48, 64), np.float32)
FOUR_D = np.zeros((2, 48, 64, 3), np.uint8)


def no_network(*args, **kwargs):
    raise AssertionError("a network or weight file was loaded before the arguments were checked")


@pytest.fixture
def session(monkeypatch):
    from napari_partial_style.core.job.runtime import Runtime

    for method in ("classifier", "style_network", "find_weights"):
        monkeypatch.setattr(Runtime, method, no_network)
    return Session(SessionParams(device="cpu", size=48))


CASES = {
    "Session(weights=list)": (lambda s: Session(weights=["vgg19.pth"]), "weights must map a weight key to a file"),
    "Session(weights_folder=int)": (lambda s: Session(weights_folder=3), "weights_folder must be a folder's path"),
    "run(params=dict)": (lambda s: s.run(CONTENT, STYLE, {}), "params must be JobParams (or None), not dict"),
    "run(params=StyleParams)": (lambda s: s.run(CONTENT, STYLE, StyleParams()), "not StyleParams"),
    "module run(params=dict)": (lambda s: run(CONTENT, STYLE, {}), "params must be JobParams"),
    "run(content=None)": (lambda s: s.run(None, STYLE, labels=MASK), "content must be an image"),
    "run(content=4-D)": (lambda s: s.run(FOUR_D, STYLE, labels=MASK), "content: shape (2, 48, 64, 3) is not an image"),
    "run(style=path)": (lambda s: s.run(CONTENT, "stone.jpg", labels=MASK), "not 'stone.jpg'; read an image file"),
    "run(style=[])": (lambda s: s.run(CONTENT, [], labels=MASK), "a blend needs at least one"),
    "run(labels=4-D)": (lambda s: s.run(CONTENT, STYLE, labels=FOUR_D), "is not a 2D label image"),
    "run(inputs=list)": (lambda s: s.run(CONTENT, STYLE, None, MASK, ["a"]), "inputs must map an input's name"),
    "document(params=dict)": (lambda s: s.document(CONTENT, STYLE, {}), "params must be JobParams"),
    "compute(None)": (lambda s: s.compute(None), "compute takes a JobDocument"),
    "result(None)": (lambda s: s.result(None), "result takes a JobDocument"),
    "segment(None)": (lambda s: s.segment(None), "image must be an image"),
    "segment(params=StyleParams)": (lambda s: s.segment(CONTENT, StyleParams()), "params must be SegmentParams"),
    "recrf(targets=[])": (lambda s: s.recrf(CONTENT, MAPS, []), "recrf needs the targets' names"),
    "recrf(targets=None)": (lambda s: s.recrf(CONTENT, MAPS, None), "targets must be a list of class names"),
    "recrf(targets=str)": (lambda s: s.recrf(CONTENT, MAPS, "cup"), "targets must be a list of class names"),
    "recrf(maps=dict)": (lambda s: s.recrf(CONTENT, {}, ["cup"]), "maps must be an array, not dict"),
    "stylize(params=CompositeParams)": (
        lambda s: s.stylize(CONTENT, STYLE, CompositeParams()),
        "params must be StyleParams (or None), not CompositeParams",
    ),
    "stylize(style=None)": (lambda s: s.stylize(CONTENT, None), "style must be an image (a numpy array) or a list"),
    "stylize(style=[1])": (lambda s: s.stylize(CONTENT, [1]), "style must be an image (a numpy array) or a list"),
    "stylize(mask=dict)": (lambda s: s.stylize(CONTENT, STYLE, None, {}), "mask must be an array, not dict"),
    "stylize(preview_every=str)": (lambda s: s.stylize(CONTENT, STYLE, preview_every="x"), "preview_every must"),
    "composite(stylized=None)": (lambda s: Session.composite(CONTENT, None, MASK), "stylized must be an image"),
    "composite(stylized=4-D)": (lambda s: Session.composite(CONTENT, FOUR_D, MASK), "stylized: shape (2, 48, 64, 3)"),
    "composite(mask=None)": (lambda s: Session.composite(CONTENT, CONTENT, None), "mask must be an array, not None"),
    "composite(mask=3-D)": (lambda s: Session.composite(CONTENT, CONTENT, FOUR_D[0]), "the mask has shape (48, 64, 3)"),
    "composite(params=StyleParams)": (
        lambda s: Session.composite(CONTENT, CONTENT, MASK, StyleParams()),
        "params must be CompositeParams",
    ),
    "target_mask(shape=None)": (lambda s: Session.target_mask(MASK, None), "shape must be (height, width)"),
    "size_for(None)": (lambda s: s.size_for(None), "shape must be (height, width)"),
    "score(mask=wrong shape)": (lambda s: s.score(CONTENT, MASK[:40], STYLE), "the mask has shape (40, 64)"),
    "score(mask=None)": (lambda s: s.score(CONTENT, None, STYLE), "mask must be an array, not None"),
    "score(score=StyleParams)": (lambda s: s.score(CONTENT, MASK, STYLE, None, StyleParams()), "score must be"),
    "score(original_targets=None)": (
        lambda s: s.score(CONTENT, MASK, STYLE, original_targets=None),
        "original_targets must be a list of class names",
    ),
    "classes_at(point=None)": (lambda s: s.classes_at(CONTENT, None), "point must be (row, column)"),
    "classes_at(point=(1,))": (lambda s: s.classes_at(CONTENT, (1,)), "point must be (row, column)"),
    "classes_at(count=str)": (lambda s: s.classes_at(CONTENT, (5, 5), count="3"), "count must be a whole number"),
    "sweep(weights=None)": (lambda s: s.sweep(CONTENT, STYLE, None), "weights must be a list of style weights"),
    "sweep(weights=[str])": (lambda s: s.sweep(CONTENT, STYLE, ["a"]), "each a finite number"),
    "sweep(params=StyleParams)": (lambda s: s.sweep(CONTENT, STYLE, [1e5], StyleParams()), "params must be JobParams"),
    "sweep(params=dict)": (lambda s: s.sweep(CONTENT, STYLE, [1e5], {}), "params must be JobParams"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_wrong_argument_is_one_line_naming_it_before_any_network(case, session):
    call, words = CASES[case]
    with pytest.raises(InputError) as caught:
        value = call(session)
        if hasattr(value, "result"):
            value.result()
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_composite_takes_a_gray_stylized_image_as_three_equal_channels():
    gray = np.full((48, 64), 200, np.uint8)
    image, alpha = Session.composite(CONTENT, gray, MASK)
    assert np.array_equal(image[MASK], np.full((int(MASK.sum()), 3), 200, np.uint8))
    assert np.array_equal(image[~MASK], CONTENT[~MASK]) and alpha.max() == 1


def test_the_door_still_lets_the_documented_forms_through(session):
    """Tuples and numpy arrays where the docs give lists: the door checks kinds, not spellings."""
    doc = session.document(CONTENT, {"1": [(STYLE, 0.7), (STYLE[::-1], 0.3)]}, JobParams(), MASK.astype(np.uint8))
    assert [key for key, _ in doc.styles] == ["1"]
    assert Session.target_mask(MASK, [48, 64]).sum() == MASK.sum()
    with pytest.raises(AssertionError, match="a network or weight file was loaded"):  # past the door
        session.classes_at(CONTENT, np.array([5.0, 6.0])).result()
