"""Which classes get a saliency map (targets) and which are subtracted from them (DCSM's set K)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np

from napari_partial_style.core.errors import InputError

SUBTRACTION_SET_SIZE = 4


def resolve_class(name: str | int, classes: Sequence[str]) -> int:
    """A class index from a name (case-insensitive) or an index; unknown names list close matches."""
    if isinstance(name, (int, np.integer)) or str(name).strip().isdigit():
        index = int(name)
        if not 0 <= index < len(classes):
            raise InputError(
                f"class index {index} is out of range; the classifier has {len(classes)} classes (0–{len(classes) - 1})."
            )
        return index
    lowered = [c.lower() for c in classes]
    key = str(name).strip().lower()
    if key in lowered:
        return lowered.index(key)
    close = difflib.get_close_matches(key, lowered, n=5, cutoff=0.6)
    close += [c for c in lowered if key in c and c not in close][: 5 - len(close)]
    hint = f" Close matches: {', '.join(classes[lowered.index(c)] for c in close)}." if close else ""
    raise InputError(f"class {name!r} is not one of the classifier's {len(classes)} classes.{hint}")


def top_classes(scores: np.ndarray, classes: Sequence[str], n: int = 5) -> str:
    order = np.argsort(scores)[::-1][:n]
    return ", ".join(f"{classes[i]} {scores[i]:.3f}" for i in order)


def check_named(classes: Sequence[str], *named: Sequence[str | int]) -> None:
    """Every named class (targets, subtracted) is one of `classes`: checked before any network loads."""
    for group in named:
        for name in group:
            resolve_class(name, classes)


def select_targets(
    scores: np.ndarray, classes: Sequence[str], threshold: float, named: Sequence[str | int] = ()
) -> list[int]:
    """Named classes, or else every class scoring above `threshold` at any scale.

    `scores` is (scales, classes).
    """
    if named:
        return list(dict.fromkeys(resolve_class(n, classes) for n in named))
    best = scores.max(axis=0)
    chosen = [int(i) for i in np.argsort(best)[::-1] if best[i] > threshold]
    if not chosen:
        raise InputError(
            f"no class scores above the threshold {threshold:g}; top scorers: {top_classes(best, classes)}. "
            "Name the target with --target, or lower --threshold."
        )
    return chosen


def subtraction_set(
    targets: Sequence[int], scores: np.ndarray, classes: Sequence[str], subtract: Sequence[str | int] = ()
) -> list[int]:
    """Targets plus the classes whose maps are subtracted: `subtract` if given, else the
    best-scoring others up to four classes in all, as in the DCSM code."""
    if subtract:
        extra = [resolve_class(n, classes) for n in subtract]
    else:
        ranked = np.argsort(scores.sum(axis=0))[::-1]
        extra = [int(i) for i in ranked if i not in targets][: max(0, SUBTRACTION_SET_SIZE - len(targets))]
    return list(dict.fromkeys([*targets, *extra]))
