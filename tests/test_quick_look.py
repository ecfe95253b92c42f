"""Quick look: the same job with the costly settings turned down, and the full job's time from its timings."""

from dataclasses import asdict, replace

import pytest
from synthetic import two_tone

from napari_partial_style.api import Session
from napari_partial_style.core.job.quick_look import (
    QUICK_SIZE,
    QUICK_STEPS,
    SCORE_SEGMENTATIONS,
    full_job_seconds,
    quick_params,
)
from napari_partial_style.core.params import (
    JobParams,
    SaliencyParams,
    ScoreParams,
    SegmentParams,
    SessionParams,
    StyleParams,
)

TIMINGS = {"weights": 0.1, "load classifier": 2.0, "segment": 3.0, "style": 5.0, "composite": 0.5}
JOB = JobParams(
    segment=SegmentParams(classifier="tiny", saliency=SaliencyParams(targets=("cup",))),
    style=StyleParams(steps=300, fine_steps=60, colors="content"),
)


def test_a_quick_look_turns_down_only_what_costs():
    quick = quick_params(JOB)
    assert quick.session.size == QUICK_SIZE and quick.segment.saliency.scales == (1.0,)
    assert quick.style.steps == QUICK_STEPS and quick.style.max_size == QUICK_SIZE and not quick.score.enabled
    changed = {
        ("session", "size"),
        ("segment", "saliency", "scales"),
        ("style", "steps"),
        ("style", "max_size"),
        ("score", "enabled"),
    }

    def flat(tree, prefix=()):
        for key, value in tree.items():
            yield from flat(value, (*prefix, key)) if isinstance(value, dict) else [((*prefix, key), value)]

    before, after = dict(flat(asdict(JOB))), dict(flat(asdict(quick)))
    assert {key for key in before if before[key] != after[key]} <= changed
    assert after[("segment", "saliency", "targets")] == ("cup",) and after[("style", "colors")] == "content"


def test_the_estimate_of_the_quick_look_itself_is_its_own_stage_times():
    quick = quick_params(JOB)
    seconds = full_job_seconds(TIMINGS, quick, 600, QUICK_SIZE, QUICK_SIZE, segments=True)
    assert abs(seconds - (TIMINGS["segment"] + TIMINGS["style"] + TIMINGS["composite"])) < 1e-9


def test_the_estimate_grows_with_the_work_each_stage_is_given():
    def style_part(style):
        job = replace(JOB, style=style, score=ScoreParams(enabled=False))
        return full_job_seconds(TIMINGS, job, 600, 256, 256, segments=False) - TIMINGS["composite"]

    base = style_part(JOB.style)
    assert abs(style_part(replace(JOB.style, steps=600, fine_steps=120)) - 2 * base) < 1e-9
    assert style_part(replace(JOB.style, max_size=256)) < base  # no finer level
    segment_only = replace(JOB, style=JOB.style, score=ScoreParams(enabled=False))
    seg = full_job_seconds({"segment": 3.0}, segment_only, 600, 256, 256, segments=True)
    assert seg > 3.0  # three scales at 256 px against one at 128
    scored = full_job_seconds({"segment": 3.0}, JOB, 600, 256, 256, segments=True)
    assert abs(scored - (1 + SCORE_SEGMENTATIONS) * seg) < 1e-9  # scoring segments the composite, and more
    assert full_job_seconds({"segment": 3.0}, segment_only, 600, 256, 256, segments=False) == 0.0


def test_a_quick_look_run_records_the_timings_the_estimate_reads():
    """With the tests' tiny classifier and style network: no weight file is read."""
    quick = quick_params(
        replace(JOB, session=SessionParams(device="cpu"), style=replace(JOB.style, steps=2, network="tiny"))
    )
    session = Session(quick.session)  # as the napari dock makes it: run takes the session's size
    result = session.run(two_tone((64, 96)), two_tone((48, 48))[::-1].copy(), quick).result()
    assert {"segment", "style", "composite"} <= set(result.record["timings_s"])
    assert result.composite.shape == (64, 96, 3) and result.scores is None
    assert result.record["parameters"]["session"]["size"] == QUICK_SIZE
    assert result.record["parameters"]["style"]["network"] == "tiny"


# Measured by bench/calibrate_quick_look.py (docs/benchmarks.md#quick-look-and-the-full-jobs-time):
# the quick look's and the full job's stage seconds on the coffee photo with Stone, target cup.
MEASURED = [
    {
        "long_side": 192,
        "steps": (100, 20),
        "scored": True,
        "quick": {"segment": 69.185, "style": 271.341},
        "full": {"segment": 176.351, "style": 1293.021, "score": 415.43},
    },
    {
        "long_side": 256,
        "steps": (30, 20),
        "scored": False,
        "quick": {"segment": 53.559, "style": 258.537},
        "full": {"segment": 152.522, "style": 499.24},
    },
]


@pytest.mark.parametrize("run", MEASURED, ids=lambda run: f"{run['long_side']}px")
def test_the_estimate_matches_measured_runs_stage_by_stage(run):
    """Pixels alone put segmentation 1.8–2.0× and style 1.6–2.1× high here: the quick look's small
    images pay the fixed parts most."""
    steps, fine_steps = run["steps"]
    job = replace(JOB, style=replace(JOB.style, steps=steps, fine_steps=fine_steps), score=ScoreParams(enabled=False))
    size = min(256, run["long_side"])  # the CPU's working size

    def estimate(stage, params=job):
        return full_job_seconds({stage: run["quick"][stage]}, params, run["long_side"], size, size, segments=True)

    for stage in ("segment", "style"):
        assert 1 / 1.5 < estimate(stage) / run["full"][stage] < 1.5, stage
    if run["scored"]:
        scoring = estimate("segment", replace(job, score=ScoreParams(enabled=True))) - estimate("segment")
        assert 1 / 1.5 < scoring / run["full"]["score"] < 1.5
