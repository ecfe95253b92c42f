import numpy as np
import pytest
import torch
from tiny_classifier import TinyTapped

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import SaliencyParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.segment.canvas import canvas
from napari_partial_style.core.segment.fcn import FCNClassifier
from napari_partial_style.core.segment.guided_relu import GuidedReLUFunction, SwitchableReLU, guided
from napari_partial_style.core.segment.saliency import dcsm, tap_gradients
from napari_partial_style.core.segment.targets import resolve_class, subtraction_set

CPU = torch.device("cpu")


def red_blue(h=64, w=96):
    img = np.zeros((h, w, 3), np.float32)
    img[:, : w // 3, 0] = 1.0  # red on the left third
    img[:, 2 * w // 3 :, 2] = 1.0  # blue on the right third
    img[:, w // 3 : 2 * w // 3] = 0.5  # grey in the middle
    return img


def test_guided_relu_backward_rule():
    x = torch.tensor([-1.0, 2.0, 3.0, 0.5], requires_grad=True)
    GuidedReLUFunction.apply(x).backward(torch.tensor([1.0, -1.0, 2.0, 0.0]))
    assert x.grad.tolist() == [0.0, 0.0, 2.0, 0.0]
    relu = SwitchableReLU()
    y = torch.tensor([-1.0, 2.0], requires_grad=True)
    relu(y).backward(torch.tensor([1.0, -3.0]))
    assert y.grad.tolist() == [0.0, -3.0]  # plain ReLU outside `guided`
    with guided(relu):
        y.grad = None
        relu(y).backward(torch.tensor([1.0, -3.0]))
    assert y.grad.tolist() == [0.0, 0.0]


def test_dcsm_finds_each_class_where_its_evidence_is():
    img = red_blue()
    result = drain(dcsm(TinyTapped(), img, SaliencyParams(), CPU))
    assert result.target_names == ["red thing", "blue thing"]
    assert result.subtracted[:2] == [0, 1] and len(result.subtracted) == 4
    red, blue = result.maps
    assert red.shape == img.shape[:2] and red.dtype == np.float32
    assert 0 < red.min() and red.max() == pytest.approx(1.0)
    left, right = slice(0, 28), slice(68, 96)
    assert np.unravel_index(red.argmax(), red.shape)[1] < 32
    assert red[:, left].mean() > 0.8 and red[:, right].mean() < 0.05
    assert blue[:, right].mean() > 0.8 and blue[:, left].mean() < 0.05


def test_named_target_below_threshold_still_gets_a_map():
    img = red_blue()
    img[:, :32, 0] = 0.3  # weak red: its score (about 0.82) falls under the threshold
    params = SaliencyParams(threshold=0.9, targets=("red thing",), subtract=("blue thing",))
    result = drain(dcsm(TinyTapped(), img, params, CPU))
    assert result.scores[:, 0].max() < 0.9
    assert result.target_names == ["red thing"] and result.subtracted == [0, 1]
    assert result.maps[0][:, :28].mean() > result.maps[0][:, 68:].mean() + 0.5


def test_a_named_target_the_classifier_barely_sees_is_one_warning_line():
    from napari_partial_style.core.images import as_source_image
    from napari_partial_style.core.params import CRFParams, SegmentParams
    from napari_partial_style.core.segment.segmentation import segment_stage

    def segmented(img):
        params = SegmentParams(
            saliency=SaliencyParams(threshold=0.9, targets=("red thing",), subtract=("blue thing",)),
            crf=CRFParams(method="none"),
        )
        return drain(segment_stage(TinyTapped(), as_source_image(img), params, 96, CPU))

    weak = red_blue()
    weak[:, :32, 0] = 0.3  # its score (about 0.82) is under the threshold 0.9
    warning = segmented(weak).weak_targets()
    assert warning is not None and "\n" not in warning
    assert "'red thing' scores 0.8" in warning and "threshold 0.9" in warning and "--target" in warning
    assert segmented(red_blue()).weak_targets() is None  # full red scores above it


def test_named_classes_take_each_scales_scores_from_its_gradient_pass():
    """With targets and subtracted classes named (the demo, and every score stage), no separate scoring pass
    runs: one forward per scale instead of two, and the same scores as the scoring pass gives."""
    from napari_partial_style.core.nets.tensors import to_tensor
    from napari_partial_style.core.segment.canvas import min_canvas
    from napari_partial_style.core.segment.saliency import scores_per_scale

    img = red_blue()
    params = SaliencyParams(targets=("red thing",), subtract=("blue thing",), scales=(0.8, 1.0, 1.2))
    model, forwards = TinyTapped(), []
    plain_forward = model.forward_taps
    model.forward_taps = lambda x: forwards.append(x.requires_grad) or plain_forward(x)
    result = drain(dcsm(model, img, params, CPU))
    assert forwards == [True, True, True]  # the three gradient passes, no no-grad scoring pass before them
    side = max(*img.shape[:2], min_canvas(model.min_input, params.scales))
    board = to_tensor(canvas(img, side, model.mean)[0], CPU)
    np.testing.assert_allclose(result.scores, scores_per_scale(TinyTapped(), board, params.scales), rtol=1e-6)


def test_all_zero_map_is_a_clear_error():
    img = np.full((64, 64, 3), 0.5, np.float32)  # grey: no evidence for red
    with pytest.raises(InputError, match="all zero"):
        drain(dcsm(TinyTapped(), img, SaliencyParams(targets=("red thing",)), CPU))
    # scoring a composite asks for the expected class even where it has no evidence: no abort
    empty = drain(dcsm(TinyTapped(), img, SaliencyParams(targets=("red thing",)), CPU, empty_ok=True))
    assert empty.maps.shape == (1, 64, 64) and empty.maps.max() <= 1e-20


def test_no_evidence_is_refused_at_the_first_scale_without_running_the_others():
    img = np.full((64, 64, 3), 0.5, np.float32)  # grey: no evidence for red at any scale
    params = SaliencyParams(targets=("red thing",), scales=(0.8, 1.0, 1.2))
    stage, scales_run = dcsm(TinyTapped(), img, params, CPU), set()
    with pytest.raises(InputError, match=r"'red thing' is all zero at scale 0.8"):
        for event in stage:
            scales_run.add(event.message)
    assert {m for m in scales_run if m.startswith("scale")} == {"scale 0.8"}


def test_no_class_above_threshold_names_top_scorers():
    img = np.full((64, 64, 3), 0.5, np.float32)
    with pytest.raises(InputError, match=r"no class scores above the threshold 0.5; top scorers: .*thing \d\.\d{3}"):
        drain(dcsm(TinyTapped(), img, SaliencyParams(), CPU))


def test_unknown_class_lists_close_matches():
    with pytest.raises(InputError, match="Close matches: red thing"):
        resolve_class("red thin", TinyTapped.classes)
    with pytest.raises(InputError, match="out of range"):
        resolve_class("7", TinyTapped.classes)
    assert resolve_class("BLUE THING", TinyTapped.classes) == 1 and resolve_class(2, TinyTapped.classes) == 2


def test_subtraction_set_padding_and_override():
    scores = np.array([[0.9, 0.1, 0.8, 0.7, 0.2]])
    classes = list("abcde")
    assert subtraction_set([0], scores, classes) == [0, 2, 3, 4]
    assert subtraction_set([0], scores, classes, subtract=("b",)) == [0, 1]


@pytest.mark.parametrize(
    "model_factory", [TinyTapped, lambda: FCNClassifier(["a", "b", "c"]).eval().requires_grad_(False)]
)
def test_batched_gradients_equal_looped(model_factory):
    torch.manual_seed(0)
    model = model_factory()
    board, _ = canvas(red_blue(), 230 if isinstance(model, FCNClassifier) else 96, model.mean)
    x = torch.from_numpy(board.transpose(2, 0, 1))[None].requires_grad_(True)
    with guided(model):
        logits, taps = model.forward_taps(x)
        looped = tap_gradients(logits, taps, [0, 1, 2], batched=False)
        batched = tap_gradients(logits, taps, [0, 1, 2], batched=True)
    assert any(g.abs().sum() > 0 for g in looped)
    for a, b in zip(looped, batched):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-4)


def test_canvas_centres_the_image():
    board, (top, left) = canvas(np.ones((40, 60, 3), np.float32), 100, (0.25, 0.5, 0.75))
    assert (top, left) == (30, 20)
    assert board[top : top + 40, left : left + 60].min() == 1
    assert np.array_equal(board[0, 0], np.float32([0.25, 0.5, 0.75])) and np.array_equal(board[-1, -1], board[0, 0])


def test_a_job_leaving_guided_mode_leaves_it_on_for_another_still_inside():
    """Two threads share one cached classifier: the first to finish must not switch guided
    backprop off under the second (its maps would silently become plain gradients)."""
    from napari_partial_style.core.segment.guided_relu import SwitchableReLU

    model = TinyTapped()
    relu = next(m for m in model.modules() if isinstance(m, SwitchableReLU))
    with guided(model):
        with guided(model):
            pass
        assert relu.guided_depth == 1  # the outer job is still guided
        x = torch.tensor([-1.0, 2.0], requires_grad=True)
        relu(x).backward(torch.tensor([1.0, -1.0]))
        assert x.grad.tolist() == [0.0, 0.0]  # the guided rule: negative gradients are dropped
    assert relu.guided_depth == 0


def test_a_click_on_a_region_gives_that_regions_class():
    from napari_partial_style.core.segment.point_class import classes_at

    rgb = np.zeros((60, 80, 3), np.float32)
    rgb[5:30, 5:35, 0] = 1.0  # red top left
    rgb[30:55, 45:75, 2] = 1.0  # blue bottom right
    model = TinyTapped()
    red = classes_at(model, rgb, (15, 20), torch.device("cpu"))
    blue = classes_at(model, rgb, (42, 60), torch.device("cpu"), count=2)
    assert red[0][0] == "red thing" and blue[0][0] == "blue thing" and len(blue) == 2
    assert red[0][1] > red[1][1]
    with pytest.raises(InputError, match="outside the image"):
        classes_at(model, rgb, (70, 5), torch.device("cpu"))


def test_the_style_region_is_the_style_images_own_material_and_a_missing_one_is_named():
    """`--style-region`: a style photo of a red material beside a blue distraction gives its
    statistics from the red part only, found by the same classifier and CRF as the content's."""
    from napari_partial_style.core.images import as_source_image
    from napari_partial_style.core.params import SegmentParams
    from napari_partial_style.core.segment.style_region import style_region_stage

    style = np.zeros((64, 96, 3), np.float32)
    style[:, :56, 0] = 1.0  # the material, the larger part: the top class
    style[:, 64:, 2] = 1.0  # a distracting background
    source = as_source_image(style)
    mask, klass = drain(style_region_stage(TinyTapped(), source, "auto", SegmentParams(), 96, CPU))
    assert klass == "red thing"
    assert mask[:, 4:52].mean() > 0.95 and mask[:, 68:].mean() < 0.05
    blue, klass = drain(style_region_stage(TinyTapped(), source, "blue thing", SegmentParams(), 96, CPU))
    assert klass == "blue thing" and blue[:, 68:].mean() > 0.95 and blue[:, :52].mean() < 0.05
    with pytest.raises(InputError, match="shows no green thing region"):
        drain(style_region_stage(TinyTapped(), source, "green thing", SegmentParams(), 96, CPU))
