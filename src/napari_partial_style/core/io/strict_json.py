"""JSON that every parser reads: Python writes NaN and Infinity by default, which strict parsers
(JavaScript's among them) refuse. A value that is not a finite number, such as the seam score of a
region that covers the whole frame (there is no seam), is written as null, and a sibling key
`NAME_note` says why; in a list the element becomes null and the list's key gets the note.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def dumps(value: Any) -> str:
    """`value` as indented JSON, numpy scalars as numbers, paths and dtypes as text, NaN and infinities as null."""
    return json.dumps(_finite(value), indent=2, default=_jsonable, allow_nan=False)


def _note(value: float) -> str:
    kind = "NaN" if math.isnan(value) else "infinite"
    return f"null: the value was {kind}, undefined for this job (e.g. the seam score of a region that covers the whole frame)"


LIST_NOTE = "its nulls were NaN or infinite values, undefined for this job"


def _not_finite(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) and not math.isfinite(value)


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if _not_finite(item):
                out[key], out[f"{key}_note"] = None, _note(float(item))
                continue
            out[key] = _finite(item)
            if isinstance(item, (list, tuple)) and any(_not_finite(x) for x in item):
                out[f"{key}_note"] = LIST_NOTE
        return out
    if isinstance(value, (list, tuple)):
        return [None if _not_finite(item) else _finite(item) for item in value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, np.dtype)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
