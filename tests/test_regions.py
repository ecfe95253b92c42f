"""Region-guided style transfer: the free band, crop, several regions, levels, guides, memory."""

import numpy as np
import pytest
import torch
from scipy.ndimage import distance_transform_edt

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import as_source_image
from napari_partial_style.core.nets.vgg import TappedVGG
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.style import pyramid
from napari_partial_style.core.style.guides import layer_guides
from napari_partial_style.core.style.objectives.gatys import STYLE_LAYERS, TAPS, gram
from napari_partial_style.core.style.pyramid import PyramidRequest, StyleRegion, crop_box, level_sizes, stylize_regions

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return TappedVGG("vgg19", TAPS).eval().requires_grad_(False)


def image(shape, seed):
    return (np.random.default_rng(seed).random((*shape, 3)) * 255).astype(np.uint8)


def stripes(shape, period, seed):
    """A style with an unmistakable texture: stripes of one colour pair."""
    colours = np.random.default_rng(seed).random((2, 3))
    y = np.arange(shape[0])[:, None] // period % 2
    return as_source_image((colours[np.broadcast_to(y, shape)] * 255).astype(np.uint8))


def run(net, content, regions, first, final, **params):
    request = PyramidRequest(net, as_source_image(content), regions, StyleParams(**params), CPU, first, final)
    return drain(stylize_regions(request))


def test_masked_changes_the_region_and_nothing_beyond_the_free_band(net):
    content = image((96, 128), 0)
    mask = np.zeros((96, 128), bool)
    mask[30:60, 40:80] = True
    result = run(net, content, [StyleRegion(stripes((48, 48), 4, 1), mask)], 64, 64, steps=6, band=8, crop=False)
    changed = (result.image != content).any(axis=2)
    assert changed[mask].mean() > 0.9
    band_px = 8 * 128 / 64  # the band drawn at the last level: within a level pixel or two
    assert distance_transform_edt(~mask)[changed].max() <= band_px + 2 * 128 / 64
    assert result.image.dtype == np.uint8 and result.image.shape == content.shape


def test_frozen_changes_only_the_region(net):
    content = image((64, 64), 2)
    mask = np.zeros((64, 64), bool)
    mask[16:48, 16:48] = True
    result = run(net, content, [StyleRegion(stripes((48, 48), 4, 1), mask)], 64, 64, steps=4, outside="frozen")
    assert not (result.image != content).any(axis=2)[~mask].any()


def test_a_crop_gives_the_uncropped_result_at_a_fraction_of_the_frame(net):
    content = image((160, 160), 3)
    mask = np.zeros((160, 160), bool)
    mask[64:96, 64:96] = True
    regions = [StyleRegion(stripes((48, 48), 4, 1), mask)]
    full = run(net, content, regions, 160, 160, steps=5, band=4, crop=False)
    cropped = run(net, content, regions, 160, 160, steps=5, band=4, crop=True, crop_margin=40)
    y0, y1, x0, x1 = cropped.boxes[0]
    assert (y1 - y0) * (x1 - x0) < 0.6 * 160 * 160
    difference = np.abs(full.image.astype(int) - cropped.image.astype(int))
    moved = np.abs(full.image.astype(int) - content.astype(int))[mask].mean()
    assert moved > 3 and difference[mask].mean() < 0.15 * moved


@pytest.mark.slow  # two regions' style transfers at once: the full run covers it
def test_two_regions_each_take_their_own_style(net):
    content = image((64, 128), 7)
    left, right = np.zeros((64, 128), bool), np.zeros((64, 128), bool)
    left[8:56, 8:56], right[8:56, 72:120] = True, True
    coarse, fine = stripes((64, 64), 8, 4), stripes((64, 64), 2, 5)
    result = run(
        net,
        content,
        [StyleRegion(coarse, left, "a"), StyleRegion(fine, right, "b")],
        128,
        128,
        steps=20,
        style_weight=1e10,
    )

    def distance(rgb, style):
        x = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]
        s = torch.from_numpy(style.native.astype(np.float32) / 255).permute(2, 0, 1)[None]
        return float(sum(((gram(net(x)[n]) - gram(net(s)[n])) ** 2).mean() for n in STYLE_LAYERS[:3]))

    for window, own, other in ((np.s_[16:48, 16:48], coarse, fine), (np.s_[16:48, 80:112], fine, coarse)):
        before, after = content[window], result.image[window]
        assert distance(after, own) < 0.85 * distance(before, own)
        assert distance(after, own) / distance(after, other) < 0.85 * distance(before, own) / distance(before, other)


def test_levels_end_at_the_result_size_and_keep_shape_and_dtype(net):
    assert level_sizes(256, 600) == [256, 600]
    assert level_sizes(256, 4096) == [256, 512, 1024, 2048, 4096]
    assert level_sizes(256, 280) == [256]
    content = (np.random.default_rng(6).random((100, 150, 3)) * 65535).astype(np.uint16)
    mask = np.zeros((100, 150), bool)
    mask[20:80, 30:120] = True
    events = []
    result = drain(
        stylize_regions(
            PyramidRequest(
                net,
                as_source_image(content),
                [StyleRegion(stripes((40, 40), 4, 1), mask)],
                StyleParams(steps=3, fine_steps=2),
                CPU,
                48,
                150,
            )
        ),
        events.append,
    )
    assert result.levels == [48, 96, 150]
    assert result.image.shape == content.shape and result.image.dtype == np.uint16
    assert [e.step for e in events] == list(range(1, 8)) and events[-1].total == 7
    assert events[-1].message == "level 3/3 at 150 px"
    # the time estimate weighs each step by the pixels its level optimises, known from the first step
    assert {e.work[1] for e in events} == {events[-1].work[0]}
    costs = np.diff([0.0] + [e.work[0] for e in events])
    assert costs[-1] / costs[0] == pytest.approx((150 / 48) ** 2, rel=0.1)


def test_a_tiny_region_never_gives_an_empty_guide(net):
    guide = torch.zeros(1, 1, 64, 64)
    guide[..., 30:33, 30:33] = 1.0
    for mode in ("inside", "simple", "all"):
        guides = layer_guides(net.body, net.names, guide, STYLE_LAYERS, mode, grow=-2)
        assert all(bool((g > 0).any()) for g in guides.values())
    with pytest.raises(InputError, match="region is empty"):
        layer_guides(net.body, net.names, torch.zeros(1, 1, 64, 64), STYLE_LAYERS)


def test_crop_box_grows_to_the_minimum_and_stays_in_the_frame():
    mask = np.zeros((100, 200), bool)
    mask[0:2, 195:200] = True
    assert crop_box(mask, (100, 200), 3, 40) == (0, 40, 160, 200)


def test_without_a_region_both_methods_stylize_the_whole_frame(net):
    content, style = image((64, 64), 1), stripes((32, 32), 4, 1)
    masked = run(net, content, [StyleRegion(style)], 64, 64, steps=3)
    composite = run(net, content, [StyleRegion(style)], 64, 64, steps=3, method="composite")
    assert np.array_equal(masked.image, composite.image) and masked.boxes == [(0, 64, 0, 64)]
    with pytest.raises(InputError, match="each needs its region"):
        run(net, content, [StyleRegion(style), StyleRegion(style, np.ones((64, 64), bool))], 64, 64, steps=1)


def test_running_out_of_memory_says_what_to_lower(net, monkeypatch):
    def failing(*args, **kwargs):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
            "you tried to allocate 123456789 bytes."
        )
        yield

    monkeypatch.setattr(pyramid, "optimise_level", failing)
    mask = np.ones((64, 64), bool)
    with pytest.raises(InputError, match=r"cpu ran out of memory stylizing at 64 px .*lower --size") as caught:
        run(net, image((64, 64), 1), [StyleRegion(stripes((32, 32), 4, 1), mask)], 64, 64, steps=1)
    assert "alloc_cpu" not in str(caught.value)


def test_tiles_cover_the_frame_with_overlaps_that_blend_to_one():
    from napari_partial_style.core.style.tiles import blend_weights, tile_boxes

    boxes = tile_boxes((100, 230), 64)
    covered = np.zeros((100, 230), np.float32)
    for box in boxes:
        y0, y1, x0, x1 = box
        assert y1 - y0 <= 64 and x1 - x0 <= 64
        covered[y0:y1, x0:x1] += blend_weights(box, (100, 230), 64)
    assert covered.min() > 0.2 and len(boxes) == 2 * 5
    assert tile_boxes((50, 60), 64) == [(0, 50, 0, 60)]


def test_a_tiled_level_optimises_tiles_no_larger_than_the_tile_and_skips_tiles_with_nothing_free(net, monkeypatch):
    from napari_partial_style.core.style import tiles

    seen, real, stats, real_stats = [], tiles.optimise, [], pyramid.style_stats

    def recording(request):
        seen.append(request.content.shape[:2])
        return (yield from real(request))

    def counted(*args):
        stats.append(args)
        return real_stats(*args)

    monkeypatch.setattr(tiles, "optimise", recording)
    monkeypatch.setattr(pyramid, "style_stats", counted)
    content = image((96, 160), 3)
    events = []
    params = StyleParams(steps=2, tile=64, crop=False)
    whole = drain(
        stylize_regions(
            PyramidRequest(net, as_source_image(content), [StyleRegion(stripes((48, 48), 4, 1))], params, CPU, 160, 160)
        ),
        events.append,
    )
    boxes = tiles.tile_boxes((96, 160), 64)
    assert seen == [(b[1] - b[0], b[3] - b[2]) for b in boxes] and whole.image.shape == content.shape
    assert len(stats) == 1  # the style's Gram targets are computed once for the level, not per tile
    assert events[-1].step == events[-1].total == 2 * len(boxes) and "tile" in events[-1].message
    assert {e.total for e in events if e.stage == "style"} == {2 * len(boxes)}  # known from the first step
    assert set(np.diff([0.0] + [e.work[0] for e in events])) == {64 * 64}  # a step optimises one tile
    assert (whole.image != content).any()
    seen.clear()
    mask = np.zeros((96, 160), bool)
    mask[4:20, 4:24] = True  # a corner: tiles beyond the band have nothing free
    corner = run(
        net, content, [StyleRegion(stripes((48, 48), 4, 1), mask)], 160, 160, steps=2, tile=64, crop=False, band=4
    )
    assert 0 < len(seen) < len(boxes)
    assert np.array_equal(corner.image[60:, 100:], content[60:, 100:])


def test_style_labels_pair_each_content_label_with_the_same_style_label_and_name_what_is_missing():
    from napari_partial_style.core.style.regions import styles_by_label

    style = as_source_image(image((40, 48), 1))
    style_labels = np.zeros((40, 48), np.uint8)
    style_labels[:, :10], style_labels[:, 10:25], style_labels[:, 25:] = 1, 2, 7  # 7: not in the content
    content_labels = np.zeros((20, 20), np.uint8)
    content_labels[:10], content_labels[10:] = 2, 1
    paired = styles_by_label(style, style_labels, content_labels)
    assert sorted(paired) == ["1", "2"]
    for value, chosen in paired.items():
        assert np.array_equal(chosen.alpha > 0, style_labels == int(value))
        assert np.array_equal(chosen.native, style.native)
    content_labels[0, 0] = 3
    with pytest.raises(InputError, match=r"content label 3 has no pixel in the style labels \(which hold 1, 2, 7\)"):
        styles_by_label(style, style_labels, content_labels)
    assert sorted(styles_by_label(style, style_labels.astype(np.float32), content_labels[1:])) == ["1", "2"]
    with pytest.raises(InputError, match="style labels: float values that are not whole numbers"):
        styles_by_label(style, style_labels + np.float32(0.5), content_labels)
    only = styles_by_label(style, np.where(style_labels == 2, 0, style_labels), content_labels, values=(1,))
    assert list(only) == ["1"]  # label 2 is not being changed, so the style needs no pixel of it
    with pytest.raises(InputError, match="no pixel has label 5 of the label values to change"):
        styles_by_label(style, style_labels, content_labels, values=(5,))


def test_style_regions_take_plain_arrays_as_documented():
    """`with_style_region(array, mask)` and `styles_by_label(array, ...)` said '96×96 differs from the
    style image's 96×96': an array's shape has a channel axis that a SourceImage's has not."""
    from napari_partial_style.core.style.regions import styles_by_label, with_style_region

    style = np.zeros((96, 96, 3), np.uint8)
    mask = np.zeros((96, 96), bool)
    mask[10:50, 10:50] = True
    assert with_style_region(style, mask).alpha.sum() == mask.sum()
    paired = styles_by_label(style, mask.astype(np.uint8), mask.astype(np.uint8))
    assert list(paired) == ["1"] and paired["1"].alpha.sum() == mask.sum()
