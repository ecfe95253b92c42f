"""Rewrite the generated parts of the docs from the code: `python scripts/update_docs.py`.

docs/api.md's table of every StyleParams option comes from the parameter tree; tests/test_docs.py
fails when the file differs from what this writes.
"""

from __future__ import annotations

import re
from pathlib import Path

from napari_partial_style.core.options import options_markdown
from napari_partial_style.core.params import StyleParams

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
BLOCK = re.compile(r"(<!-- BEGIN StyleParams \(generated\) -->\n).*?(<!-- END StyleParams -->)", re.S)


def updated(text: str) -> str:
    """`text` with its StyleParams table regenerated (ValueError when the markers are missing)."""
    if not BLOCK.search(text):
        raise ValueError(f"{API_DOC} has no StyleParams block (<!-- BEGIN StyleParams (generated) --> ... END)")
    return BLOCK.sub(lambda m: m.group(1) + options_markdown(StyleParams) + m.group(2), text)


if __name__ == "__main__":
    API_DOC.write_text(updated(API_DOC.read_text()))
    print(f"updated {API_DOC}")
