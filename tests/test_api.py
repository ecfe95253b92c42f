"""The public API: what scripts and notebooks use, and what the CLI and the widgets go through."""

import runpy
import sys
from dataclasses import replace

import numpy as np
import pytest
import tiny_networks
from synthetic import two_tone

from napari_partial_style.api import Session, Stage, StyleRegion, run
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import as_source_image
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.job import stages
from napari_partial_style.core.job.rules import guides, regions_of
from napari_partial_style.core.job.runtime import Runtime
from napari_partial_style.core.params import (
    CompositeParams,
    CRFParams,
    JobParams,
    SaliencyParams,
    ScoreParams,
    SegmentParams,
    SessionParams,
    StyleParams,
)
from napari_partial_style.core.progress import Progress
from napari_partial_style.core.registry import CLASSIFIER_SOURCES, STYLE_NETWORKS

CPU = SessionParams(device="cpu", size=48)


@pytest.mark.slow  # a whole job end to end: the full run covers it
def test_the_example_runs_the_whole_job_in_a_few_lines(hub, tmp_path, monkeypatch, capsys):
    """On the tiny networks under the default names (the full ones load in test_cli_run's end-to-end
    tests): the example's every line runs, through the whole job up to its full-resolution level."""
    monkeypatch.setitem(CLASSIFIER_SOURCES._registered, "imagenet", tiny_networks.TINY["tiny"])
    monkeypatch.setitem(STYLE_NETWORKS._registered, "vgg19", tiny_networks.TinyStyleNetwork())
    out = tmp_path / "cup.pstyle"
    monkeypatch.setattr(
        sys, "argv", ["example", "--size", "48", "--steps", "2", "--fine-steps", "1", "--out", str(out)]
    )
    runpy.run_path("examples/change_part_of_an_image.py", run_name="__main__")
    bundle = read_bundle(out)
    assert bundle.composite.shape == (400, 600, 3) and bundle.manifest["targets"] == ["cup"]
    assert bundle.manifest["parameters"]["style"]["steps"] == 2 and "mean IU" in capsys.readouterr().out


def test_a_stage_is_a_generator_of_events_or_a_plain_call(hub):
    content = two_tone((40, 56))
    session = Session(CPU)
    stage = session.segment(content, SegmentParams(classifier="tiny", saliency=SaliencyParams(targets=("cup",))))
    assert isinstance(stage, Stage)
    events = []

    def driver():
        return (yield from stage)  # how a napari worker drives it

    gen = driver()
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        seg = stop.value
    assert all(isinstance(e, Progress) for e in events) and {"load", "saliency", "crf"} <= {e.stage for e in events}
    assert seg.labels.shape == (40, 56) and seg.maps.shape[1:] == (40, 56)
    again = session.recrf(content, seg.maps, seg.targets, CRFParams(method="none")).result()
    assert again.labels.shape == (40, 56) and again.targets == seg.targets


def test_run_with_labels_composites_only_the_chosen_values_and_scores_them(hub):
    content = two_tone((48, 64))
    labels = np.zeros((48, 64), np.uint8)
    labels[5:15, 5:15], labels[30:40, 30:40] = 1, 2
    params = JobParams(
        session=CPU,
        segment=SegmentParams(classifier="tiny"),
        style=StyleParams(steps=2, fine_steps=1),
        composite=CompositeParams(label_values=(2,)),
        score=ScoreParams(expect="cup"),
    )
    result = run(content, two_tone((32, 32))[::-1], params, labels).result()
    assert np.array_equal(result.composite[5:15, 5:15], content[5:15, 5:15])  # label 1 left alone
    assert result.mask.sum() == 100 and result.scores["expected_class"] == "cup"
    assert result.record["parameters"]["composite"]["label_values"] == (2,)


def test_the_sessions_settings_are_what_a_job_records(hub):
    content = two_tone((48, 64))
    labels = np.zeros((48, 64), np.uint8)
    labels[5:15, 5:15] = 1
    params = JobParams(
        session=SessionParams(device="cpu", size=64),
        style=StyleParams(steps=1, fine_steps=1),
        score=ScoreParams(enabled=False),
    )
    result = Session(CPU).run(content, two_tone((32, 32)), params, labels).result()
    assert result.record["size"] == 48 and result.record["parameters"]["session"]["size"] == 48


def test_a_weights_folder_such_as_napari_settings_one_is_searched_first(hub, tmp_path):
    import shutil

    from napari_partial_style.core.io import weights

    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(weights.hub_folder() / weights.VGG19.filename, folder / weights.VGG19.filename)
    found = Session(CPU, weights_folder=folder).find_weights([weights.VGG19, weights.VGG16])
    from napari_partial_style.core.progress import drain

    paths = drain(found)
    assert paths["vgg19"] == folder / weights.VGG19.filename and paths["vgg16"].parent == weights.hub_folder()


def test_bad_input_is_named_before_any_work(hub):
    with pytest.raises(InputError, match="one saliency map per target"):
        Session(CPU).recrf(two_tone((40, 56)), np.zeros((2, 40, 56)), ["cup"]).result()
    with pytest.raises(InputError, match="name the expected class, or give the style image"):
        Session(CPU).score(two_tone((40, 56)), np.ones((40, 56), bool)).result()
    with pytest.raises(InputError, match="device 'tpu' is unknown"):
        Session(SessionParams(device="tpu"))


def test_a_job_with_a_style_per_region_records_method_regions_levels_and_alpha(hub):
    content = two_tone((48, 64))
    labels = np.zeros((48, 64), np.uint8)
    labels[5:20, 5:25], labels[28:44, 36:60] = 1, 2
    params = JobParams(
        session=CPU,
        style=StyleParams(steps=2, fine_steps=1),
        composite=CompositeParams(feather=2, grow=1, edge_radius=2),
        score=ScoreParams(enabled=False),
    )
    styles = {"1": two_tone((32, 32))[::-1], "2": two_tone((40, 40)).transpose(1, 0, 2)}
    result = run(content, styles, params, labels).result()
    record = result.record
    assert record["parameters"]["style"]["method"] == "masked" and record["style"]["regions"] == ["1", "2"]
    assert record["style"]["levels"] == [48, 64]
    assert record["composite"]["changed_outside_alpha"] == 0 and record["composite"]["seam_score"] > 0
    assert record["parameters"]["composite"]["edge_radius"] == 2
    assert np.array_equal(result.mask, labels > 0)
    assert np.array_equal(result.composite[result.alpha == 0], content[result.alpha == 0])
    with pytest.raises(InputError, match="'cup' is neither a label value nor a target class"):
        run(content, {"cup": two_tone((32, 32))}, params, labels).result()


def test_a_crf_soft_edge_softens_the_segmented_edge_and_needs_a_segmentation(hub):
    content = two_tone((48, 64))
    params = JobParams(
        session=CPU,
        segment=SegmentParams(classifier="tiny", saliency=SaliencyParams(targets=("cup",))),
        style=StyleParams(steps=1, fine_steps=1),
        score=ScoreParams(enabled=False),
    )
    soft = replace(params, composite=CompositeParams(crf_edge=4))
    hard_result, soft_result = (
        run(content, two_tone((32, 32)), params).result(),
        run(content, two_tone((32, 32)), soft).result(),
    )
    assert set(np.unique(hard_result.alpha)) <= {0.0, 1.0}
    edge = (soft_result.alpha > 0) & (soft_result.alpha < 1)
    assert edge.any() and np.array_equal(soft_result.mask, hard_result.mask)
    assert soft_result.record["parameters"]["composite"]["crf_edge"] == 4
    assert soft_result.record["composite"]["changed_outside_alpha"] == 0
    seg = soft_result.segmentation
    regions = regions_of(
        [("", [(as_source_image(two_tone((32, 32))), 1.0)])], seg.labels, (48, 64), soft_result.mask, seg.targets
    )
    guide = guides(regions, seg.probabilities, 4, "masked")[0].mask  # masked's style guide takes the soft edge too
    assert ((guide > 0) & (guide < 1)).any() and np.array_equal(guide >= 0.5, soft_result.mask)
    assert guides(regions, seg.probabilities, 4, "composite")[0].mask is soft_result.mask
    with pytest.raises(InputError, match="needs the CRF's probabilities"):
        run(content, two_tone((32, 32)), soft, labels=hard_result.mask.astype(np.uint8)).result()
    with pytest.raises(InputError, match="needs the CRF's probabilities"):
        Session.composite(content, content, hard_result.mask, soft.composite)


def test_a_style_region_limits_the_style_statistics_and_a_given_one_wins(hub, monkeypatch):
    """`style_region="auto"` segments each style image for its top class (here the hand-built
    classifier's red) and its Gram targets come from there; a style with a region of its own (an
    alpha, as --style-mask or a painted layer gives) keeps it; an empty one is a clear error."""
    from tiny_classifier import TinyTapped

    from napari_partial_style.core.style.regions import with_style_region

    def tiny(self, source):
        yield from ()
        return TinyTapped()

    monkeypatch.setattr(Runtime, "classifier", tiny)
    style = np.zeros((48, 64, 3), np.uint8)
    style[:, :40, 0] = 255
    style[:, 44:, 2] = 255
    content = two_tone((48, 64))
    session = Session(CPU)
    params = StyleParams(steps=2, fine_steps=1, style_region="auto")
    auto = stages.stylize(
        session.runtime, as_source_image(content), stages.style_regions_of(content, style, None), params
    )
    result = Stage(auto).result()
    ((chosen,),) = result.style_regions
    assert chosen["class"] == "red thing" and 0.5 < chosen["coverage"] < 0.7
    plain = Session(CPU).stylize(content, style, replace(params, style_region=None)).result()
    assert not np.array_equal(plain, result.image)  # other statistics, another result
    painted = np.zeros((48, 64), bool)
    painted[:, 50:] = True
    given = with_style_region(as_source_image(style), painted)
    kept = Stage(stages.stylize(session.runtime, as_source_image(content), [StyleRegion(given, None)], params)).result()
    assert kept.style_regions == [[{"class": None, "coverage": round(painted.mean(), 4)}]]
    with pytest.raises(InputError, match="no pixel is in it"):
        with_style_region(as_source_image(style), np.zeros((48, 64), bool))
    with pytest.raises(InputError, match="differs from the style image's 64×48"):
        with_style_region(as_source_image(style), painted[:40])


def test_a_sweep_runs_the_whole_job_at_each_weight_and_puts_the_regions_side_by_side(hub):
    from napari_partial_style.core.job.contact_sheet import TILE

    content = two_tone((48, 64))
    mask = np.zeros((48, 64), bool)
    mask[10:30, 10:40] = True
    events = []
    params = JobParams(
        session=CPU, style=StyleParams(steps=1, fine_steps=1, max_size=512), score=ScoreParams(enabled=False)
    )
    swept = (
        Session(CPU)
        .sweep(content, two_tone((40, 40))[::-1], [1e5, 1e7, 1e5], params, mask.astype(np.uint8))
        .result(events.append)
    )
    sheet = swept.sheet
    assert sheet.dtype == np.uint8 and sheet.shape[2] == 3
    assert sheet.shape[1] > 2 * sheet.shape[0] - 60 and sheet.shape[1] < 3 * TILE  # two tiles: the repeat is dropped
    assert {e.stage.split(":")[0] for e in events if e.stage.endswith("style")} == {"weight 100000", "weight 1e+07"}
    assert swept.weights == [1e5, 1e7] and [j.record["parameters"]["style"]["style_weight"] for j in swept.jobs] == [
        1e5,
        1e7,
    ]
    assert all(j.record["parameters"]["style"]["max_size"] == 256 for j in swept.jobs)  # capped: a quick look
    assert all(np.array_equal(j.mask, mask) for j in swept.jobs)  # whole jobs, every one on the same region
    for bad in ([], [float("nan")], [-1.0]):
        with pytest.raises(InputError, match="style weights"):
            Session(CPU).sweep(content, content, bad, params, mask.astype(np.uint8)).result()


@pytest.mark.parametrize(
    "saliency",
    [
        SaliencyParams(targets=("cupp",)),
        SaliencyParams(targets=("1000",)),
        SaliencyParams(targets=("cup",), subtract=("nosuchclass",)),
    ],
)
def test_unknown_classes_are_refused_before_any_network_loads(monkeypatch, saliency):
    """Named from the class list, which is read without the network (VGG16 takes 18-26 s to load)."""

    def no_loading(self, source):
        raise AssertionError("the classifier was loaded")

    monkeypatch.setattr(Runtime, "classifier", no_loading)
    segment = SegmentParams(classifier="tiny", saliency=saliency)
    with pytest.raises(InputError, match="cupp|out of range|nosuchclass"):
        Session(CPU).segment(two_tone((48, 64)), segment).result()
    with pytest.raises(InputError, match="cupp|out of range|nosuchclass"):
        Session(CPU).run(two_tone((48, 64)), two_tone((32, 32)), JobParams(session=CPU, segment=segment)).result()


def test_nan_and_misshapen_arrays_are_refused_at_the_door():
    """A NaN stylized image pasted black, NaN maps gave all background, and a mask of another
    size was reported as an empty region; each is now one line naming the array."""
    content = two_tone((48, 64))
    mask = np.zeros((48, 64), bool)
    mask[10:30, 10:30] = True
    nan_image = np.full((48, 64, 3), np.nan, np.float32)
    with pytest.raises(InputError, match="stylized: contains NaN or infinite"):
        Session.composite(content, nan_image, mask)
    with pytest.raises(InputError, match=r"the mask has shape \(40, 40\)"):
        Session.composite(content, content, np.ones((40, 40), bool))
    with pytest.raises(InputError, match="saliency maps contain NaN"):
        Session(CPU).recrf(content, np.full((1, 48, 64), np.nan, np.float32), ["cup"]).result()
    with pytest.raises(InputError, match=r"the mask of the region has shape \(40, 40\)"):
        Session(CPU).stylize(content, two_tone((32, 32)), StyleParams(steps=1), np.ones((40, 40), bool)).result()
