"""The docs that code generates or runs: they cannot drift from the code."""

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "api.md"


def test_the_style_options_table_is_what_the_tree_generates():
    update = runpy.run_path(str(ROOT / "scripts" / "update_docs.py"))
    text = API_DOC.read_text()
    assert update["updated"](text) == text, "docs/api.md's StyleParams table is stale: run scripts/update_docs.py"
    assert "`--fine-steps`" in text and "| `style_weight` |" in text


@pytest.fixture
def moments_objective(tmp_path, monkeypatch):
    """docs/api.md's worked example saved as one file of the objectives registry (a folder added
    to the package's search path, so the source tree is left as it is)."""
    from napari_partial_style.core.style import objectives

    block = re.search(r"<!-- example: core/style/objectives/moments.py -->\n```python\n(.*?)```", API_DOC.read_text(),
                      re.S)
    assert block, "docs/api.md lost its worked example"
    (tmp_path / "moments.py").write_text(block.group(1))
    monkeypatch.setattr(objectives, "__path__", [*objectives.__path__, str(tmp_path)])
    yield "moments"
    sys.modules.pop(f"{objectives.__name__}.moments", None)


def test_the_worked_example_objective_is_one_file_and_runs_a_job(moments_objective, hub):
    from napari_partial_style.api import Session
    from napari_partial_style.cli import build_parser
    from napari_partial_style.core.params import SessionParams, StyleParams
    from synthetic import two_tone

    args = build_parser().parse_args(["run", "c.png", "s.png", "--out", "o.pstyle", "--objective", "moments"])
    assert args.style__objective == "moments"  # a choice of the CLI as soon as the file exists
    content = two_tone((48, 64))
    mask = np.zeros((48, 64), bool)
    mask[10:38, 16:48] = True
    events = []
    params = StyleParams(objective="moments", steps=4, max_size=64, style_weight=1e6)  # one level
    result = Session(SessionParams(device="cpu", size=64)).stylize(content, two_tone((40, 40))[::-1], params,
                                                                   mask).result(events.append)
    assert result.shape == content.shape and not np.array_equal(result[mask], content[mask])
    losses = [e.values for e in events if e.values and "style" in e.values]
    assert losses and losses[-1]["style"] < losses[0]["style"]  # the new loss is what was minimised
