"""What a score means, in words, with the paper's numbers for the same class to compare against.

Pixel accuracy and mean IU on their own say little to a designer; next to "the paper reached 0.31
for metal" they do. One wording serves the CLI, napari and the docs.
"""

from __future__ import annotations

# Table 1 of the seed paper: (pixel accuracy, mean IU) re-segmenting its two FMD content images
# (a leather jacket, a leather ball) changed to each material with one style image per class.
PAPER_TABLE1: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "fabric": ((0.6446, 0.6132), (0.8091, 0.8147)),
    "foliage": ((0.7556, 0.7309), (0.8668, 0.7101)),
    "glass": ((0.4409, 0.5520), (0.4301, 0.5999)),
    "leather": ((0.5858, 0.5756), (0.5706, 0.6897)),
    "metal": ((0.3086, 0.4563), (0.3456, 0.5616)),
    "paper": ((0.4491, 0.4983), (0.3196, 0.5343)),
    "plastic": ((0.3227, 0.4212), (0.1931, 0.3012)),
    "stone": ((0.7186, 0.7293), (0.9431, 0.9054)),
    "water": ((0.4683, 0.5073), (0.4719, 0.6454)),
    "wood": ((0.3550, 0.4567), (0.2701, 0.5227)),
}

MEANING = (
    "pixel accuracy: the share of pixels the classifier now labels as expected (the region as the new "
    "class, the rest as background); mean IU: the overlap of what it sees as the new class with the region "
    "(and of background with the rest), averaged: 1 is a perfect change, about 0.5 or below means the region "
    "still reads as its old class or as background."
)


def verdict(mean_iu: float) -> str:
    """A word for a mean IU, on the paper's scale (its classes range 0.30-0.91)."""
    if mean_iu >= 0.75:
        return "clearly changed"
    if mean_iu >= 0.55:
        return "partly changed"
    return "barely changed"


def paper_reference(expected_class: str) -> str | None:
    """The paper's Table 1 numbers for the class, or None for a class it did not test."""
    found = PAPER_TABLE1.get(expected_class.strip().lower())
    if found is None:
        return None
    (acc_a, iu_a), (acc_b, iu_b) = found
    return (
        f"the paper reached pixel accuracy {acc_a:.2f} / {acc_b:.2f} and mean IU {iu_a:.2f} / {iu_b:.2f} "
        f"for {expected_class} (its jacket / ball, FMD classifier)"
    )


def summary(scores: dict) -> str:
    """One line: the numbers, the verdict and, where there is one, the paper's reference."""
    line = (
        f"the region reads as {scores['expected_class']!r}: pixel accuracy {scores['pixel_accuracy']:.3f}, "
        f"mean IU {scores['mean_iu']:.3f} ({verdict(scores['mean_iu'])})"
    )
    reference = paper_reference(str(scores["expected_class"]))
    return f"{line}; {reference}" if reference else line
