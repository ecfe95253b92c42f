import numpy as np
import pytest
import torch
from synthetic import two_tone

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.nets.tensors import to_tensor
from napari_partial_style.core.nets.vgg import TappedVGG, layer_names
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.style.objectives import StyleImage, Target
from napari_partial_style.core.style.objectives.gatys import (
    CONTENT_LAYER,
    STYLE_LAYERS,
    gram,
    style_stats,
    total_variation,
)
from napari_partial_style.core.style.objectives.gatys import (
    TAPS as STYLE_TAPS,
)
from napari_partial_style.core.style.objectives.gatys import (
    GatysObjective as StyleObjective,
)
from napari_partial_style.core.style.transfer import LevelRequest, make_closure, make_optimizer, optimise
from napari_partial_style.core.style.transfer import style_stats as stats_of_arrays


def test_gram_by_hand():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    expected = torch.tensor([[1 + 4, 3 + 8], [3 + 8, 9 + 16]]) / 2
    assert torch.allclose(gram(f)[0], expected)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_gram_gradient_is_the_true_one_in_either_layout(layout):
    """The Gram's backward is written by hand (one product instead of autograd's two): checked
    against finite differences with gradients that are not symmetric, in both memory layouts."""
    from napari_partial_style.core.style.guides import products

    f = torch.rand(2, 3, 4, 5, dtype=torch.float64).contiguous(memory_format=layout).requires_grad_(True)
    assert torch.autograd.gradcheck(products, (f,))


def test_total_variation_by_hand():
    img = torch.tensor([[0.0, 1.0], [3.0, 3.0]]).reshape(1, 1, 2, 2)
    assert total_variation(img).item() == pytest.approx(1 + 0 + 3 + 2)


def fake_net(x):
    """Features that are simple functions of the image, so losses can be computed by hand."""
    return {name: x * (i + 1) for i, name in enumerate((*STYLE_LAYERS, CONTENT_LAYER))}


def test_losses_by_hand():
    content = torch.zeros(1, 3, 2, 2)
    style = torch.ones(1, 3, 2, 2)
    params = StyleParams(content_weight=2.0, style_weight=9.0, tv_weight=0.5)
    objective = StyleObjective(fake_net, content, [Target(style_stats(fake_net, [StyleImage(style)], params))], params)
    image = torch.full((1, 3, 2, 2), 0.5)
    parts = objective.parts(image)
    # content: features of relu4_2 are 6·x, target 0 → 2 · mean((3)^2)
    assert parts["content"].item() == pytest.approx(2.0 * 9.0)
    # style layer i: G = (k·0.5)² for all entries vs target k²: mean((k²/4 − k²)²) = (3k²/4)², weight 9/N² with N = 3
    expected = sum(9.0 / 9 * (0.75 * k * k) ** 2 for k in range(1, 6))
    assert parts["style"].item() == pytest.approx(expected)
    assert parts["tv"].item() == 0.0


def tiny_net():
    torch.manual_seed(0)
    return TappedVGG("vgg19", STYLE_TAPS).eval().requires_grad_(False)


def test_truncated_after_last_tap():
    net = tiny_net()
    assert net.names[-1] == "relu5_1"
    assert len(net.body) == layer_names("vgg19").index("relu5_1") + 1


def test_total_loss_falls_and_progress_is_reported():
    content = two_tone((40, 40)).astype(np.float32) / 255
    style = np.random.default_rng(3).random((40, 40, 3)).astype(np.float32)
    net, cpu = tiny_net(), torch.device("cpu")
    targets = [(stats_of_arrays(net, [(style, 1.0, None)], StyleParams(), cpu), None)]
    gen = optimise(LevelRequest(net, content, targets, StyleParams(), cpu, 12, preview_every=5))
    events = []
    result = drain(gen, events.append)
    totals = [e.values["total"] for e in events]
    assert [e.step for e in events] == list(range(1, 13))
    assert totals[-1] < 0.5 * totals[0]
    assert [e.step for e in events if e.preview is not None] == [5, 10, 12]
    assert result.shape == content.shape and result.dtype == np.float32
    assert 0 <= result.min() and result.max() <= 1
    assert not np.allclose(result, content)


@pytest.mark.parametrize("history", [100, 3])
def test_stepping_follows_one_long_torch_lbfgs_call(history):
    """Our device-resident L-BFGS, stepped one evaluation at a time, against torch.optim.LBFGS run
    as one call of the same length (history 3 also exercises the eviction of old pairs)."""
    net = tiny_net()
    cpu = torch.device("cpu")
    content = to_tensor(two_tone((36, 36)).astype(np.float32) / 255, cpu)
    style = to_tensor(np.random.default_rng(4).random((36, 36, 3)).astype(np.float32), cpu)
    params = StyleParams(steps=10, history_size=history)

    reference = content.clone().requires_grad_(True)
    lbfgs = torch.optim.LBFGS(
        [reference], lr=1, max_iter=params.steps, tolerance_grad=-1, tolerance_change=-1, history_size=history
    )
    targets = [Target(style_stats(net, [StyleImage(style)], params))]
    lbfgs.step(make_closure(StyleObjective(net, content, targets, params), reference, lbfgs, {}))

    image = content.clone().requires_grad_(True)
    ours = make_optimizer(image, history)
    closure = make_closure(StyleObjective(net, content, targets, params), image, ours, {})
    for _ in range(params.steps):
        ours.step(closure)
    moved = (reference.detach() - content).abs().max()
    assert moved > 0.05
    difference = (image.detach() - reference.detach()).abs()
    # Float32 rounding differs between the two-loop and the compact form; a wrong formula would
    # put whole images apart by the size of a step, not a few pixels by a fraction of a percent.
    assert difference.max() < 5e-3 * moved and difference.mean() < 1e-4 * moved


def test_stylize_stops_between_steps():
    content = two_tone((36, 36)).astype(np.float32) / 255
    net, cpu = tiny_net(), torch.device("cpu")
    gen = optimise(
        LevelRequest(
            net,
            content,
            [(stats_of_arrays(net, [(content, 1.0, None)], StyleParams(), cpu), None)],
            StyleParams(),
            cpu,
            100,
        )
    )
    assert next(gen).step == 1
    gen.close()  # what Cancel does: no further evaluation happens
    with pytest.raises(StopIteration):
        next(gen)


@pytest.mark.parametrize("kwargs", [{"steps": 0}, {"style_weight": -1.0}, {"init": "blank"}])
def test_bad_style_params(kwargs):
    with pytest.raises(InputError):
        StyleParams(**kwargs)


def test_a_blend_targets_the_weighted_mix_of_its_styles_grams():
    torch.manual_seed(1)
    net = tiny_net()
    a, b = (torch.rand(1, 3, 40, 40) for _ in range(2))
    blended = style_stats(net, [StyleImage(a, 0.7), StyleImage(b, 0.3)], StyleParams())
    alone = [style_stats(net, [StyleImage(s)], StyleParams()) for s in (a, b)]
    for name, target in blended.items():
        assert torch.allclose(target, 0.7 * alone[0][name] + 0.3 * alone[1][name], rtol=1e-5, atol=1e-9)


def test_a_style_guide_takes_the_grams_of_its_region_only():
    """A style image whose right half is a distracting background: with a guide on the left half
    its targets are those of the left half alone, not of the whole image. Checked up to relu3_1:
    deeper, a random network's features of a 64 px image are mostly its padding's."""
    torch.manual_seed(2)
    net = tiny_net()
    material, background = torch.rand(1, 3, 64, 32), torch.rand(1, 3, 64, 32) * 0.2 + 0.8
    photo = torch.cat([material, background], dim=3)
    guide = torch.zeros(1, 1, 64, 64)
    guide[..., :32] = 1
    params = StyleParams(guide="simple")
    region = style_stats(net, [StyleImage(photo, guide=guide)], params)
    whole = style_stats(net, [StyleImage(photo)], params)
    alone = style_stats(net, [StyleImage(material)], params)
    for name in STYLE_LAYERS[:3]:
        to_alone = torch.linalg.norm(region[name] - alone[name]) / torch.linalg.norm(alone[name])
        whole_to_alone = torch.linalg.norm(whole[name] - alone[name]) / torch.linalg.norm(alone[name])
        assert to_alone < 0.5 * whole_to_alone, name


def test_channels_last_gives_the_same_loss_and_gradient():
    """The CPU runs VGG19 channels-last (faster convolutions); the Gram matrices read that layout
    without a copy and must give the contiguous run's loss and gradient."""
    torch.manual_seed(3)
    content, style = torch.rand(1, 3, 40, 56), torch.rand(1, 3, 48, 48)
    guide = torch.zeros(1, 1, 40, 56)
    guide[..., 5:30, 10:40] = 1
    params = StyleParams()
    results = []
    for last in (False, True):
        net = tiny_net()
        if last:
            net.channels_last()
        assert net(content)["relu1_1"].is_contiguous(memory_format=torch.channels_last) == last
        targets = [Target(style_stats(net, [StyleImage(style)], params), guide)]
        image = content.clone().requires_grad_(True)
        objective = StyleObjective(net, content, targets, params, outside=1 - guide)
        loss = sum(
            objective.parts(image + 0.1 * torch.rand_like(image, generator=torch.Generator().manual_seed(1))).values()
        )
        loss.backward()
        results.append((loss.detach(), image.grad))
    assert torch.allclose(results[0][0], results[1][0], rtol=1e-4)
    assert torch.allclose(results[0][1], results[1][1], rtol=1e-3, atol=1e-6 * results[0][1].abs().max())
