"""Jobs as Dask tasks: in this process by default (threads, no set-up), or on a running
`dask.distributed` cluster (`--scheduler ADDRESS`: one worker per GPU; each worker process loads the
networks once and keeps them). Results are yielded as jobs finish, so the caller writes each one at
once and an interrupted batch loses only the jobs in flight."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from napari_partial_style.core.errors import PartialStyleError

EXTRA = 'pip install "napari-partial-style[batch]"'


def import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise PartialStyleError(f"batches and evaluations run on Dask, which is not installed: {EXTRA}") from exc
    return distributed


@contextmanager
def client(workers: int = 1, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: a cluster's, or an in-process one with `workers` threads."""
    distributed = import_distributed()
    if scheduler:
        try:
            dask_client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise PartialStyleError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with "
                "`dask scheduler` and its workers with `dask worker ADDRESS` (docs/evaluation.md)."
            ) from exc
    else:
        dask_client = distributed.Client(
            processes=False, n_workers=1, threads_per_worker=max(1, workers), dashboard_address=None
        )
    try:
        yield dask_client
    finally:
        dask_client.close()


def run_tasks(dask_client: Any, fn: Callable[..., Any], argument_lists: Sequence[tuple]) -> Iterator[Any]:
    """`fn(*arguments)` for each, as Dask tasks; each result as soon as its task ends (a task that
    raised yields its exception, so one bad job never stops the others)."""
    distributed = import_distributed()
    futures = [dask_client.submit(fn, *arguments, pure=False) for arguments in argument_lists]
    try:
        for future in distributed.as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a bug in one job: report it with the others' results
                yield exc
    finally:
        for future in futures:
            future.cancel()
