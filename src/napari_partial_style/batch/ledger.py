"""The results CSV of a batch: one row per finished job, appended as each one ends, so an
interrupted run loses only the jobs in flight and a new run skips what is done.

A row is flushed and synced before the next job's result is handled. A row that cannot be read back
(a run killed mid-line, a hand edit) is reported and dropped, so its job runs again.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.io.atomic import atomic_file, disk_error

COLUMNS = (
    "key",
    "content",
    "mask",
    "content_class",
    "style",
    "style_class",
    "expected_class",
    "method",
    "pixel_accuracy",
    "mean_iu",
    "seconds",
    "frames",
    "device",
    "params_hash",
    "bundle",
)
SCORES = ("pixel_accuracy", "mean_iu")  # empty when a batch job was not scored
BEFORE_CLIPS = tuple(c for c in COLUMNS if c != "frames")  # a results file from before clips: read, then rewritten


def params_hash(params: Any, *extra: str) -> str:
    """A short hash of a job's parameters (and e.g. the classifier file): rows with another hash
    were made with other settings and do not count as done."""
    text = json.dumps([asdict(params), *extra], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _valid(row: dict[str, str]) -> bool:
    if None in row or any(row.get(c) is None for c in COLUMNS):
        return False
    try:
        return (
            math.isfinite(float(row["seconds"]))
            and all(row[c] == "" or math.isfinite(float(row[c])) for c in SCORES)
            and (row["frames"] == "" or int(row["frames"]) > 0)
        )
    except ValueError:
        return False


class Ledger:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, str]] = []
        self.problems: list[str] = []
        if self.path.is_dir():
            raise InputError(
                f"{self.path} is a folder, where the results file goes; move it away or choose another --out."
            )
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        text = self.path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            self.problems.append(f"{self.path}: the last row was cut off (a killed run); its job runs again")
            lines = lines[:-1]
        reader = csv.DictReader(lines)
        if reader.fieldnames is not None and tuple(reader.fieldnames) not in (COLUMNS, BEFORE_CLIPS):
            self.problems.append(
                f"{self.path}: unknown columns; every job runs again (the old file is kept as {self.path.name}.old)"
            )
            os.replace(self.path, self.path.with_name(self.path.name + ".old"))
            return
        for number, row in enumerate(reader, start=2):
            row.setdefault("frames", "")  # a file from before clips: its rows are photos
            if _valid(row):
                self.rows.append(row)
            else:
                self.problems.append(f"{self.path}: row {number} is damaged; its job runs again")
        if self.problems or tuple(reader.fieldnames or COLUMNS) != COLUMNS:  # rewritten with the current header
            self._rewrite()

    def _rewrite(self) -> None:
        with atomic_file(self.path) as tmp:
            with open(tmp, "w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, COLUMNS)
                writer.writeheader()
                writer.writerows(self.rows)

    def forget(self, key: str) -> None:
        """Drop the rows of `key` (an earlier run's, whose bundle a new one replaced), on disk too."""
        kept = [row for row in self.rows if row["key"] != key]
        if len(kept) != len(self.rows):
            self.rows = kept
            self._rewrite()

    def done(self, key: str, hash_: str) -> bool:
        return any(row["key"] == key and row["params_hash"] == hash_ for row in self.rows)

    def add(self, row: dict[str, Any]) -> None:
        """Append one row, on disk before this returns."""
        new = not self.path.exists()
        values = {c: ("" if row.get(c) is None else row[c]) for c in COLUMNS}
        try:
            with open(self.path, "a", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, COLUMNS)
                if new:
                    writer.writeheader()
                writer.writerow(values)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise disk_error(self.path, exc) from exc
        self.rows.append({c: str(v) for c, v in values.items()})
