"""Batches and evaluations end to end, as generators of progress: find the jobs, skip the done
ones, run the rest as Dask tasks, write each result as it arrives, then the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from napari_partial_style.batch.grid import Content, check_masks, find_contents, find_styles, grid
from napari_partial_style.batch.jobs import Outcome, evaluate_pair, run_content
from napari_partial_style.batch.ledger import Ledger, params_hash
from napari_partial_style.core.errors import InputError, PartialStyleError
from napari_partial_style.core.io.atomic import atomic_file, check_parent
from napari_partial_style.core.params import JobParams
from napari_partial_style.core.progress import Progress, StageGenerator

RESULTS = "results.csv"


@dataclass
class Summary:
    out: Path
    total: int
    skipped: int = 0
    written: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report: list[Path] = field(default_factory=list)


def classifier_identity(source: str) -> str:
    """The classifier as part of the parameters hash: a retrained checkpoint makes old rows stale."""
    path = Path(source).expanduser()
    if path.is_file():
        stat = path.stat()
        return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return source


def check_folder(out: Path) -> Path:
    """The results folder, checked; it is made only once the jobs can run (nothing written before)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder for the results.")
    check_parent(out)
    return out


def check_prerequisites(
    params: JobParams, weights: dict[str, str] | None, classifier: bool, scheduler: str | None
) -> StageGenerator[None]:
    """Dask, and every weight file the jobs will need, found (or downloaded) once before any job:
    a missing one is one error, not a failure per job. A cluster's workers look on their own disks."""
    from napari_partial_style.batch.executor import import_distributed
    from napari_partial_style.core.io.weights import ensure_steps
    from napari_partial_style.core.segment.classifier import required_weights
    from napari_partial_style.core.style import networks

    import_distributed()
    if scheduler:
        return
    needed = list(networks.get(params.style.network).WEIGHTS)
    if classifier:
        needed += required_weights(params.segment.classifier)
    yield from ensure_steps(needed, weights)


def write_outcome(outcome: Outcome, out: Path, ledger: Ledger, summary: Summary, overwrite: bool = True) -> None:
    """The bundle and thumbnails first, the CSV row last: a row means its files are complete."""
    from PIL import Image

    from napari_partial_style.core.io.bundle import write_bundle

    if outcome.error is not None:
        summary.failures.append(outcome.error)
        return
    row = dict(outcome.row)
    row["bundle"] = ""
    if outcome.written is not None:  # a clip: its worker wrote the bundle, complete or not at all
        row["bundle"] = outcome.written
        ledger.forget(outcome.key)
    elif outcome.bundle is not None:
        (out / "bundles").mkdir(exist_ok=True)
        row["bundle"] = write_bundle(outcome.bundle, out / "bundles" / f"{outcome.name}.pstyle", overwrite=overwrite)
        ledger.forget(outcome.key)  # rows of earlier settings pointed at the bundle just replaced
    for kind, image in outcome.thumbnails.items():
        target = out / "thumbs" / f"{outcome.name}_{kind}.png"
        target.parent.mkdir(exist_ok=True)
        with atomic_file(target) as tmp:
            Image.fromarray(image).save(tmp, format="PNG")
    if not row["bundle"]:
        row["bundle"] = f"{outcome.name}.pstyle"  # names the thumbnails even when bundles are not kept
    ledger.add(row)
    summary.written += 1


def _drive(
    summary: Summary,
    out: Path,
    ledger: Ledger,
    fn,
    arguments: list[tuple],
    workers: int,
    scheduler: str | None,
    overwrite: bool = True,
) -> StageGenerator[None]:
    from napari_partial_style.batch.executor import client, run_tasks

    total = len(arguments)
    yield Progress("jobs", 0, total, message=f"{summary.skipped} already done" if summary.skipped else "")
    if not arguments:
        return
    with client(workers, scheduler) as dask_client:
        out.mkdir(exist_ok=True)
        for done, outcome in enumerate(run_tasks(dask_client, fn, arguments), start=1):
            if isinstance(outcome, Exception):
                summary.failures.append(f"{outcome.__class__.__name__}: {outcome}")
            else:
                write_outcome(outcome, out, ledger, summary, overwrite)
            yield Progress("jobs", done, total, message=f"{len(summary.failures)} failed" if summary.failures else "")


def evaluate_steps(
    contents: list[str],
    styles: str,
    params: JobParams,
    out: str | Path,
    per_class: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    keep_bundles: bool = True,
    max_pixels: int = 100_000_000,
    weights: dict[str, str] | None = None,
    command: str = "",
    overwrite: bool = False,
) -> StageGenerator[Summary]:
    """Every (content, style) pair stylized, composited, re-segmented and scored against the
    style's class; results.csv, Table 1, Figures 7–9 and report.md in `out`."""
    from napari_partial_style.batch.report import write_report
    from napari_partial_style.core.segment.classifier import class_names

    found = find_contents(contents)
    check_masks(found)
    pairs = grid(found, find_styles(styles, per_class))
    known = class_names(params.segment.classifier)
    unknown = sorted({p.style.material for p in pairs} - set(known))
    if unknown:
        raise InputError(
            f"style class(es) {', '.join(unknown)} are not classes of the classifier "
            f"({', '.join(known[:12])}{', ...' if len(known) > 12 else ''}); name the style folders "
            "after its classes, or train it on them."
        )
    out = check_folder(Path(out))
    hash_ = params_hash(params, classifier_identity(params.segment.classifier))
    ledger = Ledger(out / RESULTS)
    summary = Summary(out, len(pairs), notes=list(ledger.problems))
    todo = [p for p in pairs if not ledger.done(p.key, hash_)]
    summary.skipped = len(pairs) - len(todo)
    arguments = [(p, params, hash_, max_pixels, weights, keep_bundles) for p in todo]
    if keep_bundles:
        refuse_other_settings(out, [p.name for p in todo], hash_, overwrite)
    if todo:
        yield from check_prerequisites(params, weights, True, scheduler)  # every job segments its composite
    yield from _drive(summary, out, ledger, evaluate_pair, arguments, workers, scheduler)
    out.mkdir(exist_ok=True)
    rows = [r for r in ledger.rows if r["params_hash"] == hash_]
    summary.report = write_report(out, rows, params, summary.failures, command)
    return summary


def batch_steps(
    contents: list[str],
    style: str | Path,
    params: JobParams,
    out: str | Path,
    labels_dir: str | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    overwrite: bool = False,
    max_pixels: int = 100_000_000,
    weights: dict[str, str] | None = None,
) -> StageGenerator[Summary]:
    """One bundle per content in `out` (`bundles/<stem>.pstyle`), all with the same style;
    resumable like an evaluation (`results.csv`). A clip's bundle has a frame axis (batch/clips.py)."""
    found: list[Content] = find_contents(contents, labels_dir, clips=True)
    check_masks(found)
    stems = [c.path.stem for c in found]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if clash:
        raise InputError(
            f"several contents are named {clash[0]}; their bundles would collide. Rename or run them apart."
        )
    out = check_folder(Path(out))
    hash_ = params_hash(params, classifier_identity(params.segment.classifier), str(Path(style).resolve()))
    ledger = Ledger(out / RESULTS)
    summary = Summary(out, len(found), notes=list(ledger.problems))
    todo = [c for c in found if not ledger.done(str(c.path), hash_)]
    summary.skipped = len(found) - len(todo)
    arguments = [(c, Path(style), params, c.path.stem, str(c.path), hash_, max_pixels, weights, out) for c in todo]
    refuse_other_settings(out, [c.path.stem for c in todo], hash_, overwrite)
    if todo:  # as a job decides (api.Session.run): the classifier segments, scores or finds the style's region
        segments = any(c.mask is None for c in todo) or params.score.enabled or bool(params.style.style_region)
        yield from check_prerequisites(params, weights, segments, scheduler)
    yield from _drive(summary, out, ledger, run_batch_job, arguments, workers, scheduler, overwrite=True)
    return summary


def run_batch_job(
    content: Content,
    style: Path,
    params: JobParams,
    name: str,
    key: str,
    hash_: str,
    max_pixels: int,
    weights: dict[str, str] | None,
    out: Path,
) -> Outcome:
    """A batch's job on a worker: a clip written there, to `out`'s bundles/; a photo returned."""
    if content.clip:
        from napari_partial_style.batch.clips import run_clip_content

        bundle = out / "bundles" / f"{name}.pstyle"
        return run_clip_content(content, style, params, name, key, hash_, max_pixels, weights, bundle)
    return run_content(content, style, params, name, key, hash_, max_pixels, weights)


def refuse_other_settings(out: Path, names: list[str], hash_: str, overwrite: bool) -> None:
    """Bundles of jobs to run that an earlier run made with other settings are replaced only with
    --overwrite; one made with these settings (its CSV row cut off by a kill) is simply redone. One
    that cannot be read (cut off, not a bundle) is named as such: no setting or flag replaces it."""
    from napari_partial_style.batch.jobs import BATCH_KEY
    from napari_partial_style.core.io.bundle import read_manifest

    def made_here(path: Path) -> bool:
        try:
            manifest = read_manifest(path)
        except PartialStyleError as exc:
            raise InputError(
                f"damaged bundle in the way: {str(exc).rstrip('.')}; move or delete it, then run again "
                "(this batch writes that job's bundle there)."
            ) from exc
        return manifest.get(BATCH_KEY, {}).get("params_hash") == hash_

    other = [path for name in names if (path := out / "bundles" / f"{name}.pstyle").exists() and not made_here(path)]
    if other and not overwrite:
        raise InputError(
            f"{other[0]} exists from a run with other settings ({len(other)} such bundle(s)); add "
            "--overwrite to replace them, or choose another --out."
        )


def describe(summary: Summary) -> list[str]:
    """The closing lines a user reads; results.csv is named only once it exists (every job may have failed)."""
    results = summary.out / RESULTS
    lines = [
        *summary.notes,
        f"{summary.written} job(s) written, {summary.skipped} already done, "
        f"{len(summary.failures)} failed (of {summary.total}); "
        + (f"results: {results}" if results.is_file() else "no results.csv was written"),
    ]
    lines += [f"failed: {f}" for f in summary.failures]
    if summary.report:
        lines.append(f"report: {summary.out / 'report.md'}")
    return lines


class InterruptNote:
    """What an interrupted batch says about its results, worked out when it is printed: a batch
    stopped before its first row has no results.csv to point to."""

    def __init__(self, out: str | Path) -> None:
        self.results = Path(out) / RESULTS

    def __str__(self) -> str:
        if self.results.is_file():
            return f"the jobs that finished are in {self.results}; run the same command again to go on from there."
        return f"no job had finished ({self.results} was not written); run the same command again to start."
