import sys

import numpy as np
import pytest
import torch

from napari_partial_style.core.io import weights
from napari_partial_style.core.segment.sources import imagenet
from napari_partial_style.core.segment.classifier import (
    FCNClassifier,
    load_checkpoint_classifier,
    save_checkpoint,
)
from napari_partial_style.core.segment.crf import CRFParams, crf_stage
from napari_partial_style.core.errors import PartialStyleError, WeightsError
from napari_partial_style.core.progress import drain


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


def test_shipped_imagenet_names_equal_torchvisions():
    from torchvision.models import VGG16_Weights

    assert imagenet.classes() == list(VGG16_Weights.IMAGENET1K_V1.meta["categories"])


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
