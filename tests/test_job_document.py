"""The job as a document: one pipeline reruns only what a change makes stale, says what is out of
date and why, and undoes whole steps in bounded memory."""

from dataclasses import dataclass, replace

import numpy as np
import pytest
from synthetic import two_tone

from napari_partial_style.api import Session
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.job import history as history_module
from napari_partial_style.core.job.history import History
from napari_partial_style.core.job.pipeline import todo
from napari_partial_style.core.params import (
    JobParams,
    SaliencyParams,
    ScoreParams,
    SegmentParams,
    SessionParams,
    StyleParams,
)

CPU = SessionParams(device="cpu")
PARAMS = JobParams(
    session=CPU,
    segment=SegmentParams(classifier="tiny", saliency=SaliencyParams(targets=("cup",))),
    style=StyleParams(steps=2, fine_steps=1, network="tiny"),
    score=ScoreParams(expect="cup"),
)


def counted(session: Session, job) -> dict[str, int]:
    """The stages one compute ran, each with its count."""
    before = dict(job.runs)
    session.compute(job).result()
    return {stage: n - before.get(stage, 0) for stage, n in job.runs.items() if n != before.get(stage, 0)}


@pytest.fixture
def computed():
    session = Session(CPU)
    job = session.document(two_tone((48, 64)), two_tone((32, 32))[::-1], PARAMS)
    assert counted(session, job) == {"segment": 1, "stylize": 1, "composite": 1, "score": 1}
    return session, job


def test_each_kind_of_change_reruns_only_the_stages_that_depend_on_it(computed):
    session, job = computed
    assert counted(session, job) == {} and job.stale() == {}
    stroke = job.labels.copy()
    ys, xs = np.nonzero(stroke)
    stroke[ys[:5], xs[:5]] = 0  # a brush stroke erasing inside the region
    job.edit_labels(stroke)
    assert job.stale() == {"composite": "labels changed", "score": "made from an out-of-date composite"}
    assert counted(session, job) == {"composite": 1, "score": 1}
    job.set_params(replace(job.params, style=replace(job.params.style, style_weight=1e4)))
    assert job.stale()["stylize"] == "style settings changed"
    assert counted(session, job) == {"stylize": 1, "composite": 1, "score": 1}
    job.set_style(two_tone((32, 32)))
    assert counted(session, job) == {"stylize": 1, "composite": 1, "score": 1}
    saliency = SaliencyParams(targets=("cup", "hotdog"))
    job.set_params(replace(job.params, segment=replace(job.params.segment, saliency=saliency)))
    assert counted(session, job) == {"segment": 1, "stylize": 1, "composite": 1, "score": 1}


def test_labels_painted_beyond_the_stylized_area_make_it_out_of_date_and_are_stylized(computed):
    session, job = computed
    covered = job.results["stylize"].value.covered
    painted = job.labels.copy()
    far = ~covered
    assert far.any()  # masked keeps the content's own pixels beyond its band
    painted[far] = 1
    job.edit_labels(painted)
    assert job.stale()["stylize"] == f"labels painted beyond the stylized area ({int(far.sum())} px)"
    assert counted(session, job) == {"stylize": 1, "composite": 1, "score": 1}
    assert job.results["stylize"].value.covered[far].all()


def test_undo_and_redo_go_over_whole_steps(computed):
    session, job = computed
    first = job.results["stylize"].value.image
    job.set_params(replace(job.params, style=replace(job.params.style, style_weight=1e4)))
    session.compute(job).result()
    second = job.results["stylize"].value.image
    assert not np.array_equal(first, second)
    assert [job.undo() for _ in range(3)] == ["score", "composite", "stylize"]
    assert job.results["stylize"].value.image is not None and np.array_equal(job.results["stylize"].value.image, first)
    assert job.stale()["stylize"] == "style settings changed"
    assert job.undo() == "settings" and job.stale() == {} and todo(job) == []  # back where it was: nothing to run
    assert job.redo() == "settings" and job.redo() == "stylize"
    assert np.array_equal(job.results["stylize"].value.image, second)
    before = job.labels.copy()
    edited = before.copy()
    edited[0, 0] = 1 - edited[0, 0]
    job.edit_labels(edited)
    assert job.undo() == "label edit" and np.array_equal(job.labels, before)
    assert job.redo() == "label edit" and np.array_equal(job.labels, edited)
    job.edit_labels(before)  # a new step after undo drops the redo list
    job.undo()
    job.undo()
    assert job.history.undone and job.redo() == "label edit"


def test_history_keeps_replaced_values_compressed_where_it_pays_and_within_its_bound():
    class Doc:
        labels = np.zeros((1000, 1000), np.uint8)
        results: dict = {}

    doc = Doc()
    history = History(limit_bytes=3_000_000)
    rng = np.random.default_rng(0)
    for i in range(20):
        edited = doc.labels.copy()
        edited[i * 10 : i * 10 + 30, 100:400] = 1  # a stroke: a few thousand pixels change
        history.record(doc, "label edit", {"labels": edited})
    assert isinstance(history.done[-1].kept["labels"], np.ndarray)
    # recorded as they are (on napari's GUI thread, compressing 24 Mpx labels took 0.1 s or more)
    history.compact()  # a dock's worker compresses them as its job starts; the bound did so as it was reached
    assert len(history.done) == 20 and history.nbytes < 20 * 50_000  # 1 MB each raw, kept compressed
    for _ in range(10):  # photos do not compress: the oldest steps are forgotten past the bound
        history.record(doc, "stylize", {"results.stylize": rng.integers(0, 255, (1000, 1000), np.uint8)})
    assert history.nbytes <= 3_000_000 and history.done[-1].what == "stylize"


@dataclass
class Seg:
    maps: np.ndarray
    labels: np.ndarray


def test_a_kept_result_shares_the_arrays_the_documents_result_still_holds_and_copies_labels(monkeypatch):
    """A prompt's step keeps the segmentation before it, whose saliency maps are the new one's:
    compressing them again cost a third of a prompt's time. They are held as they are (the very
    arrays), the rest is compressed, and undo brings back an equal value; labels, which napari's
    brush may write into, are never shared."""
    rng = np.random.default_rng(0)
    maps = rng.random((2, 500, 500)).astype(np.float32)  # noise: compresses badly
    first = Seg(maps, np.zeros((500, 500), np.uint8))

    class Doc:
        labels = first.labels
        results: dict = {"segment": first}

    doc = Doc()
    history = History()
    second = Seg(maps, np.ones((500, 500), np.uint8))
    history.record(doc, "prompt", {"results.segment": second, "labels": second.labels})
    history.compact(doc)
    kept = history.done[-1].kept
    assert kept["results.segment"].shared == (maps,) and len(kept["results.segment"].data) < 100_000
    assert isinstance(kept["labels"], np.ndarray) or not kept["labels"].shared
    assert history.undo(doc) == "prompt"
    back = doc.results["segment"]
    assert back.maps is maps and np.array_equal(back.labels, first.labels)
    noise = rng.random((500, 500)).astype(np.float32)  # replaced, and it would not compress: held as it is
    history.record(doc, "stylize", {"results.stylize": noise})
    history.record(doc, "stylize", {"results.stylize": noise.copy()})
    compressed, compress = [], history_module.zlib.compress
    monkeypatch.setattr(
        history_module.zlib, "compress", lambda data, *a: (compressed.append(len(data)), compress(data, *a))[1]
    )
    history.compact(doc)
    kept = history.done[-1].kept["results.stylize"]
    assert kept.shared == (noise,) and sum(compressed) < noise.nbytes / 10  # only samples of it were tried


def test_the_document_api_says_what_is_wrong_in_one_line():
    session = Session(CPU)
    with pytest.raises(InputError, match="params must be JobParams"):
        session.document(two_tone((48, 64)), None, StyleParams())
    with pytest.raises(InputError, match="compute takes a JobDocument"):
        session.compute({}).result()
    job = session.document(two_tone((48, 64)), two_tone((32, 32)), PARAMS)
    with pytest.raises(InputError, match="unknown stage 'stylise'"):
        session.compute(job, "stylise").result()


def test_a_bundle_replays_bit_for_bit_here_and_a_changed_layer_is_named(computed, tmp_path):
    import zipfile

    from napari_partial_style.core.job.replay import replay
    from napari_partial_style.core.progress import drain

    session, job = computed
    path = session.result(job).save(tmp_path / "job.pstyle")
    record = session.result(job).record["replay"]
    assert {"weights_sha256", "versions", "device", "threads"} <= set(record) and record["versions"]["torch"]
    again = drain(replay(path))
    assert again.exact and again.matches
    assert {d.layer: d.largest for d in again.layers} == {"stylized": 0, "composite": 0, "labels": 0, "saliency": 0}
    assert set(again.scores) == {"pixel_accuracy", "mean_iu"}
    other = tmp_path / "other.pstyle"  # the same bundle with a brighter composite
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(other, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "composite.png":
                from io import BytesIO

                from PIL import Image

                image = np.asarray(Image.open(BytesIO(data))).copy()
                image[:8] = 255
                out = BytesIO()
                Image.fromarray(image).save(out, format="PNG")
                data = out.getvalue()
            dst.writestr(item, data)
    changed = drain(replay(other))
    assert not changed.matches
    assert [d.layer for d in changed.layers if d.largest > 0] == ["composite"]


def test_a_bundle_reopened_is_a_live_document_that_recomputes_only_what_a_change_touches(computed, tmp_path):
    from napari_partial_style.core.job.replay import restored

    session, job = computed
    path = session.result(job).save(tmp_path / "job.pstyle")
    again = restored(path)
    assert again.stale() == {} and todo(again) == [] and again.targets() == job.targets()
    assert np.array_equal(again.labels, job.labels)
    again.set_params(replace(again.params, composite=replace(again.params.composite, feather=3.0)))
    assert todo(again) == ["composite", "score"]
    again.set_params(replace(again.params, style=replace(again.params.style, style_weight=1e4)))
    assert todo(again) == ["stylize", "composite", "score"]
    assert counted(session, again) == {"stylize": 1, "composite": 1, "score": 1}
