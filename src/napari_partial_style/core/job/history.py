"""Undo and redo of whole steps of a job document (a segmentation, a stylized image, a composite,
a label correction, new settings), in bounded memory.

A step keeps only the values it replaced; undo swaps them with the document's, redo swaps them
back, so each value lives once: in the document or in one step. Replaced arrays are kept
zlib-compressed where that pays (labels and alphas shrink 20-100×, photos barely), and the oldest
steps are forgotten once the kept values pass `limit_bytes`. Compressing waits for `compact` (a
dock's worker calls it as its job starts): a step recorded on napari's GUI thread only keeps the
replaced value (compressing 24 Mpx labels there took 0.1 s or more), and `limit_bytes` holds meanwhile.
"""

from __future__ import annotations

import io
import pickle
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

DEFAULT_LIMIT = 1 << 30  # bytes the history may hold beyond the document itself
COMPRESS_BELOW = 0.7  # keep the compressed form when it is under this share of the raw size
ABSENT = object()  # a result slot with nothing in it


def _leaves(value: Any) -> Iterator[Any]:
    """The arrays and compressed data a value holds, followed through containers."""
    if isinstance(value, (np.ndarray, bytes, _Packed)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _leaves(getattr(value, f.name))
    elif hasattr(value, "native"):  # a SourceImage
        yield from _leaves((value.native, getattr(value, "alpha", None)))


def size_of(value: Any) -> int:
    """The bytes of the arrays (and compressed data) a value holds, followed through containers."""
    return sum(leaf.nbytes if isinstance(leaf, (np.ndarray, _Packed)) else len(leaf) for leaf in _leaves(value))


@dataclass
class _Packed:
    """A value pickled and zlib-compressed, but for the arrays it shares with the document (`shared`,
    held as they are: a prompt's step keeps the segmentation before it, whose saliency maps are the
    new one's, and compressing them again cost a third of a prompt's time)."""

    data: bytes
    shared: tuple[np.ndarray, ...] = ()

    @property
    def nbytes(self) -> int:
        return len(self.data) + sum(array.nbytes for array in self.shared)

    def unpack(self) -> Any:
        unpickler = pickle.Unpickler(io.BytesIO(zlib.decompress(self.data)))
        unpickler.persistent_load = self.shared.__getitem__
        return unpickler.load()


def _incompressible(array: np.ndarray) -> bool:
    """An array of 64 KB or more whose samples (four 16 KB stretches across it) barely compress:
    float probabilities and photos, whose compression cost a prompt 0.3 s at 1 Mpx for nothing."""
    if array.nbytes < 1 << 16:
        return False
    flat = array.reshape(-1)
    span = max(1, (1 << 14) // array.itemsize)
    starts = np.linspace(0, max(0, flat.size - span), 4).astype(int)
    sample = b"".join(np.ascontiguousarray(flat[start : start + span]).tobytes() for start in starts)
    return len(zlib.compress(sample, 1)) > COMPRESS_BELOW * len(sample)


class _SharingPickler(pickle.Pickler):
    """Pickles a value but for the arrays in `live` and those that would not compress, which it
    lists in `shared` instead (held as they are)."""

    def __init__(self, file, live: dict[int, np.ndarray]) -> None:
        super().__init__(file, protocol=5)
        self.live, self.shared = live, []

    def persistent_id(self, obj: Any) -> int | None:
        if isinstance(obj, np.ndarray) and (id(obj) in self.live or _incompressible(obj)):
            self.shared.append(obj)
            return len(self.shared) - 1
        return None


def _pack(value: Any, live: dict[int, np.ndarray]) -> Any:
    raw = size_of(value)
    if raw < 1 << 16:
        return value
    buffer = io.BytesIO()
    pickler = _SharingPickler(buffer, live)
    pickler.dump(value)
    packed = _Packed(zlib.compress(buffer.getvalue(), 1), tuple(pickler.shared))
    return packed if packed.nbytes < COMPRESS_BELOW * raw or pickler.shared else value


def _unpack(value: Any) -> Any:
    return value.unpack() if isinstance(value, _Packed) else value


@dataclass
class Step:
    """What one step changed: the names of the document's slots and the values not in the document
    now (before the step while it is done, after it while it is undone)."""

    what: str
    kept: dict[str, Any]
    open: bool = False  # the next result joins this step (a prompt and the CRF rerun it asks for)
    tried: set[str] = field(default_factory=set)  # the slots `compact` has compressed (or found not worth it)
    _nbytes: int | None = field(default=None, repr=False, compare=False)

    @property
    def nbytes(self) -> int:
        """Counted once per change of `kept`: every new step asks for all steps' sizes, on napari's GUI
        thread, and a kept segmentation's class list alone is a thousand names to walk."""
        if self._nbytes is None:
            self._nbytes = size_of(self.kept)
        return self._nbytes


def _get(doc, slot: str) -> Any:
    if slot.startswith("results."):
        return doc.results.get(slot.split(".", 1)[1], ABSENT)
    return getattr(doc, slot)


def _put(doc, slot: str, value: Any) -> None:
    if slot.startswith("results."):
        stage = slot.split(".", 1)[1]
        if value is ABSENT:
            doc.results.pop(stage, None)
        else:
            doc.results[stage] = value
    else:
        setattr(doc, slot, value)


class History:
    """The done and undone steps of one document."""

    def __init__(self, limit_bytes: int = DEFAULT_LIMIT) -> None:
        self.limit_bytes = limit_bytes
        self.done: list[Step] = []
        self.undone: list[Step] = []

    @property
    def nbytes(self) -> int:
        return sum(step.nbytes for step in (*self.done, *self.undone))

    def record(self, doc, what: str, changes: dict[str, Any], opens: bool = False, join: bool = False) -> None:
        """Apply `changes` ({slot: new value}; slots are attributes or "results.<stage>") to `doc`
        as one step; a new step drops the redo list, as in every editor. A step that `opens` (a prompt)
        is joined by the next change recorded with `join` (its CRF rerun): one undo takes back both."""
        last = self.done[-1] if self.done else None
        if join and last is not None and last.open and not self.undone:
            for slot in changes:
                last.kept.setdefault(slot, _get(doc, slot))
            last._nbytes = None
            last.open = False
            for slot, value in changes.items():
                _put(doc, slot, value)
            self._bound(doc)
            return
        kept = {slot: _get(doc, slot) for slot in changes}
        for slot, value in changes.items():
            _put(doc, slot, value)
        if last is not None:
            last.open = False
        self.done.append(Step(what, kept, opens))
        self.undone.clear()
        self._bound(doc)

    def undo(self, doc) -> str | None:
        """Go back one step; its name, or None when there is nothing to undo."""
        return self._swap(doc, self.done, self.undone)

    def redo(self, doc) -> str | None:
        return self._swap(doc, self.undone, self.done)

    def _swap(self, doc, source: list[Step], target: list[Step]) -> str | None:
        if not source:
            return None
        step = source.pop()
        now = {slot: _get(doc, slot) for slot in step.kept}
        for slot, value in step.kept.items():
            _put(doc, slot, _unpack(value))
        target.append(Step(step.what, now))
        return step.what

    def compact(self, doc=None) -> None:
        """Compress the kept values that are not yet (safe beside a thread that records or undoes:
        a value is swapped for its packed equal, and only lists and dicts copied here are walked).
        A kept result shares the arrays `doc`'s result in its slot holds now (computed results are
        never written in place; labels and images, which napari's brush may write into, are copied)."""
        for step in [*self.done, *self.undone]:
            for slot, value in list(step.kept.items()):
                if slot not in step.tried:
                    now = _get(doc, slot) if doc is not None and slot.startswith("results.") else None
                    live = {id(leaf): leaf for leaf in _leaves(now) if isinstance(leaf, np.ndarray)}
                    step.kept[slot] = _pack(value, live)
                    step._nbytes = None
                    step.tried.add(slot)

    def _bound(self, doc) -> None:
        """Forget the oldest steps while the kept values are over the limit, compressed first."""
        if self.nbytes > self.limit_bytes:
            self.compact(doc)
        while self.done and self.nbytes > self.limit_bytes:
            self.done.pop(0)
