"""Errors a user can act on: the message names the problem and the fix, no traceback needed."""

import math

# The command line's exit statuses, here so that its entry and its commands share them without importing each other.
EXIT_SOME_FAILED = 1  # a batch finished with failed jobs, or a weight file is unusable
EXIT_BAD_INPUT = 2  # one line names the problem and the fix; nothing was written
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + 15), what cluster schedulers and `kill` send


class PartialStyleError(Exception):
    """Base of every error whose message is meant for the user as it stands."""


class InputError(PartialStyleError, ValueError):
    """A file, array or parameter the user gave cannot be used (wrong shape, dtype, empty mask...)."""


class WeightsError(PartialStyleError):
    """Pretrained weights are missing and cannot be downloaded, or a weight file is unusable."""


class OutputError(PartialStyleError):
    """An output cannot be written (disk full, read-only folder); nothing was left half written."""


class BundleError(OutputError):
    """A result bundle cannot be written where asked, or an existing one is damaged."""


class Cancelled(PartialStyleError):
    """The user stopped a running job."""


def require_finite(**values: float | None) -> None:
    """Reject NaN and infinities by name: they would run to the end and give a black image."""
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            raise InputError(f"{name.replace('_', ' ')} must be a finite number, not {value}.")
