"""The evaluation report in the form of the paper's Table 1 and Figures 7–9: per style class and
per content, pixel accuracy and mean IU of the re-segmented composites (mean ± std over the class's
style images), bar charts with spread, a grid of composites with their re-segmentations, and a page
that shows them all with the run's parameters."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.batch.jobs import SCORE_COLOURS
from napari_partial_style.core.io.atomic import atomic_file

METRICS = (("pixel_accuracy", "pixel accuracy", "fig8_pixel_acc.png"), ("mean_iu", "mean IU", "fig9_mean_iu.png"))
TABLE_COLUMNS = (
    "method",
    "style_class",
    "content",
    "n",
    "pixel_accuracy_mean",
    "pixel_accuracy_std",
    "mean_iu_mean",
    "mean_iu_std",
)


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)


def summarise(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Table 1's cells: one per (method, style class, content), plus each class over all contents."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row["pixel_accuracy"] == "":
            continue
        content = Path(row["content"]).name
        groups[(row["method"], row["style_class"], content)].append(row)
        groups[(row["method"], row["style_class"], "all")].append(row)
    table = []
    for (method, cls, content), members in sorted(groups.items()):
        cell: dict[str, Any] = {"method": method, "style_class": cls, "content": content, "n": len(members)}
        for metric, _, _ in METRICS:
            values = np.array([float(r[metric]) for r in members])
            cell[f"{metric}_mean"] = round(float(values.mean()), 4)
            cell[f"{metric}_std"] = round(float(values.std()), 4)
        table.append(cell)
    return table


def table_csv(table: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


def table_markdown(table: list[dict[str, Any]]) -> str:
    """Per method: rows are style classes, columns the contents, cells `pixel acc / mean IU`."""
    parts = []
    for method in sorted({c["method"] for c in table}):
        cells = [c for c in table if c["method"] == method]
        contents = sorted({c["content"] for c in cells} - {"all"}) + ["all"]
        classes = sorted({c["style_class"] for c in cells})
        lookup = {(c["style_class"], c["content"]): c for c in cells}
        lines = [
            f"**{method}** (pixel accuracy / mean IU, mean over style images; n = jobs)",
            "",
            "| style class | " + " | ".join(contents) + " |",
            "|---" * (len(contents) + 1) + "|",
        ]
        for cls in classes:
            row = []
            for content in contents:
                c = lookup.get((cls, content))
                row.append(
                    "–" if c is None else f"{c['pixel_accuracy_mean']:.3f} / {c['mean_iu_mean']:.3f} (n={c['n']})"
                )
            lines.append(f"| {cls} | " + " | ".join(row) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def bar_chart(table: list[dict[str, Any]], metric: str, title: str) -> bytes:
    """Bars per style class (one per content and method), error bars one standard deviation."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    cells = [c for c in table if c["content"] != "all"]
    classes = sorted({c["style_class"] for c in cells})
    series = sorted({(c["method"], c["content"]) for c in cells})
    lookup = {(c["method"], c["content"], c["style_class"]): c for c in cells}
    width = 0.8 / max(1, len(series))
    figure = Figure(figsize=(max(6.0, 0.9 * len(classes) + 2), 4.0), dpi=120)
    axes = figure.subplots()
    x = np.arange(len(classes))
    for i, (method, content) in enumerate(series):
        found = [lookup.get((method, content, cls)) for cls in classes]
        means = [np.nan if c is None else c[f"{metric}_mean"] for c in found]
        stds = [0.0 if c is None else c[f"{metric}_std"] for c in found]
        label = content if len({m for m, _ in series}) == 1 else f"{method}: {content}"
        axes.bar(x + (i - (len(series) - 1) / 2) * width, means, width, yerr=stds, capsize=3, label=label)
    axes.set_xticks(x, classes, rotation=30, ha="right")
    axes.set_ylim(0, 1)
    axes.set_ylabel(title)
    axes.set_title(f"{title} of the re-segmented composite, per style class")
    axes.legend(fontsize="small")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def thumbnail_grid(rows: list[dict[str, str]], thumbs: Path) -> bytes | None:
    """Figure 7: per content (rows), the first style of each class (columns): the composite over
    its re-segmentation (green: reads as the style's class, red: another class, grey: background)."""
    from PIL import Image

    first: dict[tuple[str, str], dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: r["style"]):
        first.setdefault((Path(row["content"]).name, row["style_class"]), row)
    contents = sorted({c for c, _ in first})
    classes = sorted({k for _, k in first})
    tiles: dict[tuple[int, int], np.ndarray] = {}
    for (content, cls), row in first.items():
        name = Path(row["bundle"]).stem if row["bundle"] else None
        pictures = [thumbs / f"{name}_{kind}.png" for kind in ("composite", "score")] if name else []
        if pictures and all(p.is_file() for p in pictures):
            tiles[(contents.index(content), classes.index(cls))] = np.concatenate(
                [np.asarray(Image.open(p).convert("RGB")) for p in pictures], axis=0
            )
    if not tiles:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2.2 * len(classes) + 0.6, 2.6 * len(contents) + 0.4), dpi=110)
    axes = figure.subplots(len(contents), len(classes), squeeze=False)
    for r, content in enumerate(contents):
        for c, cls in enumerate(classes):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if (r, c) in tiles:
                ax.imshow(tiles[(r, c)])
            else:
                ax.set_frame_on(False)
            if r == 0:
                ax.set_title(cls, fontsize=10)
            if c == 0:
                ax.set_ylabel(content, fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def write_report(out: Path, rows: list[dict[str, str]], params: Any, failures: list[str], command: str) -> list[Path]:
    """Every report file in `out`; returns their paths."""
    from dataclasses import asdict

    table = summarise(rows)
    written = []
    files = {"table1.csv": table_csv(table).encode(), "table1.md": table_markdown(table).encode()}
    for metric, title, name in METRICS:
        files[name] = bar_chart(table, metric, title)
    grid = thumbnail_grid(rows, out / "thumbs")
    if grid is not None:
        files["fig7_grid.png"] = grid
    legend = ", ".join(
        f"{name} rgb{tuple(int(v) for v in SCORE_COLOURS[i])}"
        for i, name in enumerate(("background", "style's class", "another class"))
    )
    page = [
        f"# Evaluation report\n\n`{command}`\n",
        f"{len(rows)} jobs scored; {len(failures)} failed in the last run.\n",
        "## Table 1\n",
        table_markdown(table),
        "## Figures\n",
        "![pixel accuracy](fig8_pixel_acc.png)\n",
        "![mean IU](fig9_mean_iu.png)\n",
    ]
    if grid is not None:
        page.append(
            f"![composites and their re-segmentation](fig7_grid.png)\n\nGrid: composite above its "
            f"re-segmentation ({legend}).\n"
        )
    if failures:
        page += ["## Failures\n", *(f"- {f}\n" for f in failures)]
    page += [
        "## Parameters\n",
        "```json\n" + json.dumps(asdict(params), indent=2, default=str) + "\n```\n",
        'Rows: `results.csv` (one per job). Scores: docs/segmentation.md, "The score".\n',
    ]
    files["report.md"] = "\n".join(page).encode()
    for name, data in files.items():
        _write_bytes(out / name, data)
        written.append(out / name)
    return written
