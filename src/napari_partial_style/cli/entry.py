"""The console script's first code, kept tiny on purpose.

The command line imports argparse, numpy and more before its own signal handlers are in place;
a Ctrl-C in that time used to end in a bare traceback. From here on it exits 130, writing nothing.
"""

import os
import sys

from napari_partial_style.core.errors import EXIT_INTERRUPTED, EXIT_TERMINATED


def entry() -> None:
    """`main()`, then, after an interruption, an exit that does not wait for jobs still running
    in worker threads. Their torch kernels cannot be stopped, and letting the interpreter finalise
    around them aborted the process ("terminate called without an active exception") instead of
    exiting 143; what finished is already on disk (atomic writes)."""
    try:
        from napari_partial_style.cli.signals import main

        status = main()
    except KeyboardInterrupt:  # before main's own handling began
        print("napari-partial-style: interrupted; nothing was written.", file=sys.stderr)
        status = EXIT_INTERRUPTED
    if status in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    raise SystemExit(status)
