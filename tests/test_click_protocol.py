"""The click protocol of bench/bench_prompts_noc.py: where a simulated click lands and how NoC counts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from click_protocol import MAX_CLICKS, Click, iou, next_click, run_clicks  # noqa: E402


def _disk(shape, row, col, radius):
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return (rows - row) ** 2 + (cols - col) ** 2 <= radius**2


def test_the_click_goes_to_the_centre_of_the_largest_error_region():
    truth = _disk((100, 120), 40, 40, 20) | _disk((100, 120), 80, 100, 6)  # a big object and a small one
    wrong = _disk((100, 120), 80, 20, 12)  # a wrongly taken blob, larger than the small missed object
    # everything missed: positive, at the big object's centre (not the small one's)
    assert next_click(np.zeros_like(truth), truth) == Click(40, 40, True)
    # the big object found, the small one missed, a larger wrong blob: negative, at the blob's centre
    assert next_click(_disk((100, 120), 40, 40, 20) | wrong, truth) == Click(80, 20, False)
    assert next_click(truth, truth) is None


def test_the_image_edge_bounds_an_error_region():
    truth = np.zeros((40, 200), bool)
    truth[:, :100] = True  # missed; its centre is 20 px from the top and bottom edges, not at row 0
    click = next_click(np.zeros_like(truth), truth)
    assert click.positive and click.row in (19, 20) and 19 <= click.col <= 80


def test_noc_is_one_click_for_a_perfect_method_and_the_cap_for_one_that_never_changes():
    truth = _disk((60, 80), 30, 40, 15)
    perfect = run_clicks(lambda clicks: truth, truth)
    assert perfect.ious == [1.0] and perfect.noc(0.85) == perfect.noc(0.90) == 1 and perfect.iou_at(5) == 1.0
    stuck = run_clicks(lambda clicks: np.zeros_like(truth), truth)
    assert len(stuck.ious) == MAX_CLICKS and stuck.noc(0.85) == stuck.noc(0.90) == MAX_CLICKS
    assert iou(np.zeros_like(truth), truth) == 0.0


def test_noc_counts_the_click_at_which_iou_first_reaches_the_threshold():
    truth = _disk((60, 80), 30, 40, 15)
    half = truth.copy()
    half[: 30 - 2] = False  # IoU ~ 0.55

    def predict(clicks):
        return truth if len(clicks) >= 3 else half

    trace = run_clicks(predict, truth)
    assert trace.noc(0.85) == trace.noc(0.90) == 3 and trace.iou_at(1) < 0.85 and trace.iou_at(5) == 1.0
