"""Jobs as Dask tasks: in this process by default (threads, no set-up), or on a running
`dask.distributed` cluster (`--scheduler ADDRESS`: one worker per GPU; each worker process loads the
networks once and keeps them). Results are yielded as jobs finish, so the caller writes each one at
once and an interrupted batch loses only the jobs in flight.

Nothing waits without end: a scheduler that does not answer, or a batch left without a live worker,
stops with one line that names the time waited."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from napari_partial_style.core.errors import PartialStyleError

EXTRA = 'pip install "napari-partial-style[batch]"'
CONNECT_SECONDS = 20  # Dask's own limit to reach the scheduler
ANSWER_SECONDS = 30  # ours, past Dask's: a port that takes the connection but never answers (HTTP)
NO_WORKER_SECONDS = 60  # a batch with no live worker for this long stops
POLL_SECONDS = 0.5
# Our own, in-process cluster serves no dashboard and listens on no network: Dask's default puts a
# web page on 0.0.0.0:8787 (and each worker one on a random port of every interface).
IN_PROCESS = {
    "processes": False,
    "n_workers": 1,
    "dashboard_address": "127.0.0.1:0",
    "worker_dashboard_address": "127.0.0.1:0",
    "scheduler_kwargs": {"dashboard": False},
}


def import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise PartialStyleError(f"batches and evaluations run on Dask, which is not installed: {EXTRA}") from exc
    return distributed


def connect(scheduler: str) -> Any:
    """A client of the cluster at `scheduler`, or one line saying why not. A wrong address fails in
    many ways (ValueError, TypeError for tls:// without certificates, MemoryError from a port that
    speaks another protocol) or never answers (an HTTP port): each is the same line."""
    distributed = import_distributed()
    outcome: dict[str, Any] = {}
    given_up = threading.Event()

    def attempt() -> None:
        try:
            client = distributed.Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
        except Exception as exc:  # whatever a wrong address raises, it is told to the user below
            outcome["error"] = exc
            return
        if given_up.is_set():
            client.close()
        outcome["client"] = client

    thread = threading.Thread(target=attempt, name="dask-connect", daemon=True)
    thread.start()
    thread.join(ANSWER_SECONDS)
    if "client" in outcome:
        return outcome["client"]
    given_up.set()
    error = outcome.get("error")
    reason = (
        f"no answer in {ANSWER_SECONDS} s"
        if error is None
        else f"{error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else 'no message'}"
    )
    tls = " (tls:// needs Dask's TLS settings: distributed.comm.tls)" if scheduler.startswith("tls://") else ""
    raise PartialStyleError(
        f"cannot connect to the Dask scheduler at {scheduler} ({reason}){tls}; give the address that "
        "`dask scheduler` prints (tcp://HOST:8786), and start its workers with `dask worker ADDRESS` "
        "(docs/evaluation.md)."
    )


def no_worker(address: str, left: int) -> PartialStyleError:
    return PartialStyleError(
        f"no Dask worker alive at {address} for {NO_WORKER_SECONDS} s ({left} job(s) not run); start one "
        f"with `dask worker {address}` and run the same command again (finished jobs are not redone)."
    )


@contextmanager
def client(workers: int = 1, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: a cluster's, or an in-process one with `workers` threads."""
    distributed = import_distributed()
    if scheduler:
        dask_client = connect(scheduler)
    else:
        dask_client = distributed.Client(threads_per_worker=max(1, workers), **IN_PROCESS)
    try:
        yield dask_client
    finally:
        dask_client.close()


def live_workers(dask_client: Any) -> int:
    try:
        return len(dask_client.nthreads())
    except OSError:  # the scheduler itself is gone
        return 0


def run_tasks(dask_client: Any, fn: Callable[..., Any], argument_lists: Sequence[tuple]) -> Iterator[Any]:
    """`fn(*arguments)` for each, as Dask tasks; each result as soon as its task ends (a task that
    raised yields its exception, so one bad job never stops the others). Without a live worker
    for NO_WORKER_SECONDS, raises PartialStyleError."""
    distributed = import_distributed()
    futures = [dask_client.submit(fn, *arguments, pure=False) for arguments in argument_lists]
    finished = distributed.as_completed(futures)
    alone_since: float | None = None
    try:
        while not finished.is_empty():
            if not finished.has_ready():
                if live_workers(dask_client):
                    alone_since = None
                elif alone_since is None:
                    alone_since = time.monotonic()
                elif time.monotonic() - alone_since > NO_WORKER_SECONDS:
                    raise no_worker(dask_client.scheduler.address, finished.count())
                time.sleep(POLL_SECONDS)
                continue
            for future in finished.next_batch(block=False):
                try:
                    yield future.result()
                except Exception as exc:  # a bug in one job: report it with the others' results
                    yield exc
    finally:
        for future in futures:
            future.cancel()
