"""Each command's name and the function that runs it, given its parsed arguments."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from napari_partial_style.cli.batches import cmd_evaluate
from napari_partial_style.cli.replay import cmd_replay
from napari_partial_style.cli.run import cmd_demo, cmd_run, cmd_segment
from napari_partial_style.cli.sweep import cmd_sweep
from napari_partial_style.cli.train import cmd_datasets, cmd_train
from napari_partial_style.cli.weights import cmd_weights

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "sweep": cmd_sweep,
    "segment": cmd_segment,
    "demo": cmd_demo,
    "replay": cmd_replay,
    "evaluate": cmd_evaluate,
    "train": cmd_train,
    "datasets": cmd_datasets,
    "weights": cmd_weights,
}
