"""`main`: one command, with Ctrl-C and SIGTERM handled (exit 130 and 143, what finished is kept,
nothing half written) and bad input said in one line (exit 2). The parser and the commands are
imported inside `main`, after its handlers are set."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from napari_partial_style.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Cancelled,
    PartialStyleError,
)
from napari_partial_style.core.runtime.cancel import cancellable


class Terminated(KeyboardInterrupt):
    """SIGTERM (what cluster schedulers and `kill` send), handled like Ctrl-C: clean up, save, exit."""


class Stop(threading.Event):
    """Set by Ctrl-C or SIGTERM, which also raise in the main thread as usual. The job checks it
    after every network layer and before every final rename (core/runtime/cancel.py), so an interrupt
    that a library swallowed (a bare `except:` around an import) still stops the job, and nothing
    is written after it."""

    signum: int = signal.SIGINT

    def handle(self, signum: int, _frame) -> None:
        self.signum = signum
        self.set()
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def status(self, exc: BaseException) -> int:
        terminated = isinstance(exc, Terminated) or (
            not isinstance(exc, KeyboardInterrupt) and self.signum == signal.SIGTERM
        )
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run its command; Ctrl-C and SIGTERM stop it with 130 and 143, bad input with 2."""
    stop = Stop()
    previous = {signum: signal.signal(signum, stop.handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    args = argparse.Namespace(printer=None)
    try:
        from napari_partial_style._terminal import ProgressPrinter
        from napari_partial_style.cli.commands import COMMANDS
        from napari_partial_style.cli.parser import build_parser

        args = build_parser().parse_args(argv)
        args.printer = ProgressPrinter(quiet=getattr(args, "quiet", False))
        with _claim(args), cancellable(stop):
            return COMMANDS[args.command](args)
    except (KeyboardInterrupt, Cancelled) as exc:
        return _interrupted(args, stop, exc)
    except PartialStyleError as exc:
        if stop.is_set():  # a library turned the interrupt into its own error (numpy: an ImportError)
            return _interrupted(args, stop, exc)
        _end_line(args)
        print(f"napari-partial-style: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        if stop.is_set():
            return _interrupted(args, stop, exc)
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupted(args: argparse.Namespace, stop: Stop, exc: BaseException) -> int:
    """Ctrl-C or SIGTERM, however it surfaced: one line, and 130 or 143."""
    _end_line(args)
    print(
        f"napari-partial-style: interrupted; {getattr(args, 'on_interrupt', 'nothing was written.')}",
        file=sys.stderr,
    )
    return stop.status(exc)


def _end_line(args: argparse.Namespace) -> None:
    if args.printer is not None:
        args.printer.end_line()


WRITERS = ("run", "sweep", "segment", "demo", "evaluate", "train")


def _claim(args: argparse.Namespace):
    """A writing command claims its --out before any work (core/io/claim.py); others claim nothing."""
    from contextlib import nullcontext

    from napari_partial_style.core.io.claim import claimed

    return claimed(args.out) if args.command in WRITERS and getattr(args, "out", None) else nullcontext()
