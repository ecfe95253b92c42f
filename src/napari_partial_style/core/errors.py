"""Errors a user can act on: the message names the problem and the fix, no traceback needed."""


class PartialStyleError(Exception):
    """Base of every error whose message is meant for the user as it stands."""


class InputError(PartialStyleError, ValueError):
    """A file, array or parameter the user gave cannot be used (wrong shape, dtype, empty mask...)."""


class WeightsError(PartialStyleError):
    """Pretrained weights are missing and cannot be downloaded, or a weight file is unusable."""


class BundleError(PartialStyleError):
    """A result bundle cannot be written where asked, or an existing one is damaged."""


class Cancelled(PartialStyleError):
    """The user stopped a running job."""
