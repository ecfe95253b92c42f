import re
import sys

import numpy as np
import pytest
import torch

from napari_partial_style.core.errors import PartialStyleError, WeightsError
from napari_partial_style.core.io import weights
from napari_partial_style.core.progress import drain
from napari_partial_style.core.segment.classifier import load_checkpoint_classifier, save_checkpoint
from napari_partial_style.core.segment.crf import CRFParams, crf_stage
from napari_partial_style.core.segment.fcn import FCNClassifier
from napari_partial_style.core.segment.sources import imagenet


def test_imagenet_fcn_equals_torchvision_vgg16_on_a_224_window(hub):
    import torchvision

    path = weights.hub_folder() / weights.VGG16.filename
    fcn = imagenet.load({"vgg16": path}).eval()
    reference = torchvision.models.vgg16()
    reference.load_state_dict(torch.load(path, weights_only=True))
    reference.eval()
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        logits = fcn(x)
        expected = reference(fcn.normalize(x))
    assert logits.shape == (1, 1000, 1, 1)
    assert torch.allclose(logits[:, :, 0, 0], expected, atol=1e-4, rtol=1e-4)
    assert fcn.classes[0] == "tench" and len(fcn.classes) == 1000 and fcn.score_kind == "softmax"
    scores = fcn.scores(logits)
    assert torch.allclose(scores, torch.softmax(expected, dim=1), atol=1e-5)


def test_loaded_networks_hold_the_files_values_in_every_parameter(hub):
    """Loaders build their networks without torch's random initialisation (0.8 s of each VGG16
    classifier load) and fill them from the file: a parameter the file did not reach would hold
    whatever memory it was given."""
    from napari_partial_style.core.nets.vgg import load_tapped_vgg
    from napari_partial_style.core.segment.fcn import FC_INDEX, FC_SHAPES

    folder = weights.hub_folder()
    vgg19 = torch.load(folder / weights.VGG19.filename, weights_only=True)
    body = load_tapped_vgg(folder / weights.VGG19.filename, "vgg19", ("relu1_1", "relu5_1")).body
    assert len(body.state_dict()) == 26  # the 13 convolutions up to relu5_1
    for key, value in body.state_dict().items():
        assert torch.equal(value, vgg19[f"features.{key}"]), key
    vgg16 = torch.load(folder / weights.VGG16.filename, weights_only=True)
    fcn = imagenet.load({"vgg16": folder / weights.VGG16.filename})
    for key, value in fcn.body.state_dict().items():
        assert torch.equal(value, vgg16[f"features.{key}"]), key
    for layer, index in FC_INDEX.items():
        assert torch.equal(
            getattr(fcn.head, layer).weight, vgg16[f"classifier.{index}.weight"].reshape(FC_SHAPES[layer])
        )
        assert torch.equal(getattr(fcn.head, layer).bias, vgg16[f"classifier.{index}.bias"])


def test_shipped_imagenet_names_equal_torchvisions():
    from torchvision.models import VGG16_Weights

    assert imagenet.classes() == list(VGG16_Weights.IMAGENET1K_V1.meta["categories"])


@pytest.mark.slow  # a full-width VGG16 saved and loaded: the full run covers it
def test_checkpoint_round_trip_and_version_check(tmp_path):
    torch.manual_seed(0)
    model = FCNClassifier(["glass", "wood"], mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)).eval()
    path = tmp_path / "m.pt"
    save_checkpoint(model, path, {"training": {"epochs": 3}})
    back = load_checkpoint_classifier(path).eval()
    assert back.classes == ["glass", "wood"] and back.score_kind == "sigmoid"
    x = torch.rand(1, 3, 224, 256)
    with torch.no_grad():
        assert torch.equal(model(x), back(x))
    assert back(x).shape == (1, 2, 1, 2)
    state = torch.load(path, weights_only=True)
    state["version"] = 99
    torch.save(state, path)
    with pytest.raises(WeightsError, match="version 99"):
        load_checkpoint_classifier(path)


def test_missing_crf_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydensecrf", None)
    monkeypatch.setitem(sys.modules, "pydensecrf.densecrf", None)
    maps = np.full((1, 40, 40), 0.5, np.float32)
    img = np.zeros((40, 40, 3), np.uint8)
    with pytest.raises(PartialStyleError, match=r"napari-partial-style\[crf\].*`torch` \(the default\)"):
        drain(crf_stage(img, maps, CRFParams(method="pydensecrf")))
    for method in ("torch", "none"):  # what the default install has
        labels, _ = drain(crf_stage(img, maps, CRFParams(method=method)))
        assert labels.shape == (40, 40)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s.pop("classes"), '"classes" must be a list of class names, not None'),
        (lambda s: s.update(classes=5), '"classes" must be a list of class names, not 5'),
        (lambda s: s.update(classes=["glass", "Glass"]), '"classes" names a class twice'),
        (lambda s: s.update(score="bogus"), "\"score\" is 'bogus', not sigmoid or softmax"),
        (lambda s: s.update(state_dict=5), '"state_dict" is a int, not the network'),
        (lambda s: s["state_dict"]["body.0.weight"].fill_(float("nan")), "body.0.weight holds NaN or infinite values"),
    ],
)
def test_a_damaged_checkpoint_is_one_line_naming_the_field(tmp_path, change, words):
    """Each was a KeyError or TypeError from inside the loader, or NaN weights that surfaced as
    "no class above the threshold"."""
    from napari_partial_style.core.segment.classifier import class_names

    path = tmp_path / "m.pt"
    save_checkpoint(FCNClassifier(["glass", "wood"], widths=(8, 16, 32, 64, 64), hidden=64), path)
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)
    with pytest.raises(WeightsError, match=re.escape(words)):
        load_checkpoint_classifier(path)
    if "classes" in words or "score" in words:  # read without the network too (napari's class list)
        with pytest.raises(WeightsError, match=re.escape(words)):
            class_names(str(path))


def test_nan_in_vgg19_weights_is_named_as_such(tmp_path):
    from napari_partial_style.core.nets.vgg import load_tapped_vgg

    path = tmp_path / weights.VGG19.filename
    body = {f"features.{k}": v for k, v in first_block_state().items()}
    body["features.0.weight"][0, 0, 0, 0] = float("inf")
    torch.save(body, path)
    with pytest.raises(WeightsError, match="features.0.weight holds NaN or infinite values; delete it and download"):
        load_tapped_vgg(path, "vgg19", ("relu1_1",))


def first_block_state():
    """The tensors of a VGG19 body's first block, named as torchvision names them after 'features.'."""
    from napari_partial_style.core.nets.vgg import TappedVGG

    return TappedVGG("vgg19", ("relu1_1",)).body.state_dict()
