"""The docs that code generates or runs: they cannot drift from the code."""

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "api.md"


def test_the_style_options_table_is_what_the_tree_generates(monkeypatch):
    from napari_partial_style.core.registry import STYLE_NETWORKS

    monkeypatch.setattr(STYLE_NETWORKS, "_registered", {})  # the tests' tiny network is not the package's
    update = runpy.run_path(str(ROOT / "scripts" / "update_docs.py"))
    text = API_DOC.read_text()
    assert update["updated"](text) == text, "docs/api.md's StyleParams table is stale: run scripts/update_docs.py"
    assert "`--fine-steps`" in text and "| `style_weight` |" in text
    page = (ROOT / "docs" / "parameters.md").read_text()
    assert update["parameters_page"]() == page, "docs/parameters.md is stale: run scripts/update_docs.py"
    assert "`--crf-edge`" in page and "`--lr`" in page  # a composite and a training option


def registered_example(package, path, tmp_path, monkeypatch):
    """docs/api.md's worked example for `path` (a file of a registry `package`) saved in a folder
    added to the package's search path: one file, as a newcomer would add it, the source tree untouched."""
    block = re.search(rf"<!-- example: {re.escape(path)} -->\n```python\n(.*?)```", API_DOC.read_text(), re.S)
    assert block, f"docs/api.md lost its worked example {path}"
    name = Path(path).stem
    (tmp_path / f"{name}.py").write_text(block.group(1))
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    module = f"{package.__name__}.{name}"
    monkeypatch.setitem(sys.modules, module, None)  # so that the undo below removes what the test imported
    monkeypatch.delitem(sys.modules, module)
    return name


@pytest.fixture
def moments_objective(tmp_path, monkeypatch):
    from napari_partial_style.core.style import objectives

    return registered_example(objectives, "core/style/objectives/moments.py", tmp_path, monkeypatch)


def test_the_worked_example_objective_is_one_file_and_runs_a_job(moments_objective, hub):
    from synthetic import two_tone

    from napari_partial_style.api import Session
    from napari_partial_style.cli import build_parser
    from napari_partial_style.core.params import SessionParams, StyleParams

    args = build_parser().parse_args(["run", "c.png", "s.png", "--out", "o.pstyle", "--objective", "moments"])
    assert args.style__objective == "moments"  # a choice of the CLI as soon as the file exists
    content = two_tone((48, 64))
    mask = np.zeros((48, 64), bool)
    mask[10:38, 16:48] = True
    events = []
    params = StyleParams(objective="moments", steps=4, max_size=64, style_weight=1e6)  # one level
    result = (
        Session(SessionParams(device="cpu", size=64))
        .stylize(content, two_tone((40, 40))[::-1], params, mask)
        .result(events.append)
    )
    assert result.shape == content.shape and not np.array_equal(result[mask], content[mask])
    losses = [e.values for e in events if e.values and "style" in e.values]
    assert losses and losses[-1]["style"] < losses[0]["style"]  # the new loss is what was minimised


@pytest.fixture
def blur_crf(tmp_path, monkeypatch):
    from napari_partial_style.core.segment import crf_backends

    return registered_example(crf_backends, "core/segment/crf_backends/blur.py", tmp_path, monkeypatch)


def test_the_worked_example_crf_back_end_is_one_file_and_segments(blur_crf):
    from test_crf_metrics import accuracy, noisy_two_regions

    from napari_partial_style.cli import build_parser
    from napari_partial_style.core.params import CRFParams
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.segment.crf import crf_stage

    args = build_parser().parse_args(["segment", "i.png", "--out", "o.pstyle", "--crf", "blur"])
    assert args.segment__crf__method == "blur"
    img, maps, truth = noisy_two_regions()
    plain, _ = drain(crf_stage(img, maps, CRFParams(method="none")))
    events = []
    labels, marginals = drain(crf_stage(img, maps, CRFParams(method="blur")), events.append)
    assert accuracy(labels, truth) > accuracy(plain, truth) + 0.1  # the smoothing cleans the noisy maps
    assert np.allclose(marginals.sum(axis=0), 1, atol=1e-4) and len(events) == CRFParams().iterations + 1
