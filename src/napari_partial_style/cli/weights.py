"""`weights`: where pretrained weights are looked for, and which are present and usable."""

from __future__ import annotations

import argparse

from napari_partial_style.cli.jobs import explicit_weights
from napari_partial_style.core.errors import EXIT_SOME_FAILED


def cmd_weights(args: argparse.Namespace) -> int:
    from napari_partial_style.core.io import weights

    folders = weights.search_folders()
    print("Weights are looked for in this order:")
    print("  1. an explicit path option (--vgg19 PATH, --vgg16 PATH)")
    print(f"  2. the folder in ${weights.WEIGHTS_ENV}" + (f" = {folders[0]}" if len(folders) > 1 else " (not set)"))
    print(f"  3. torch's hub cache: {weights.hub_folder()}")
    state = f"off: {weights.OFFLINE_ENV} is set" if weights.offline() else "on"
    print(f"  4. a download from the URL below into the hub cache ({state})")
    usable = True
    for weight, path in weights.report(explicit_weights(args)):
        print(f"\n{weight.filename}  ({weight.purpose})\n  " + (f"found: {path}" if path else "missing"))
        if path is None:
            print(f"  get it: curl -L -o {weights.hub_folder() / weight.filename} {weight.url}")
            continue
        ok, line = weights.verdict(weight, path)
        usable &= ok
        print(f"  {line}")
    return 0 if usable else EXIT_SOME_FAILED
