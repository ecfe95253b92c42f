"""The class-score threshold a job uses when none is given: it follows the classifier's score kind.

Without torch for a named source, so napari's Segment dock can show it the moment it opens; a
checkpoint's kind is read from its header (which needs torch, and the user chose the file).
"""

from __future__ import annotations

from napari_partial_style.core.segment import sources

DEFAULT_THRESHOLD = {"sigmoid": 0.5, "softmax": 0.2}


def default_threshold(score_kind: str) -> float:
    return DEFAULT_THRESHOLD[score_kind]


def source_default_threshold(source: str) -> float:
    """The threshold for a classifier source (a registered name or a checkpoint), without loading it."""
    named = sources.get(source)
    if named is not None:
        return DEFAULT_THRESHOLD[named.SCORE_KIND]
    from napari_partial_style.core.segment.classifier import score_kind

    return DEFAULT_THRESHOLD[score_kind(source)]
