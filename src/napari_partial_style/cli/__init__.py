"""The `napari-partial-style` command: run, evaluate, sweep, segment, demo, replay, train, datasets, weights.

Bad input ends with one line naming the problem and the fix, exit status 2, nothing written.
The console script starts in `entry.py`, inside this package, so importing the package imports
nothing more: `main` and `build_parser` are looked up when first asked for.

entry.py     the console script's first code: a Ctrl-C before `main` began still exits 130
signals.py   `main`: Ctrl-C and SIGTERM (exit 130, 143) and bad input (exit 2) around one command
parser.py    the argument parser, one function per command
options.py   flags from the parameter tree, and the options several commands share
commands.py  each command's name and function
jobs.py      what every job command shares: parameters, input checks, one job into its bundle
run.py       run (one content), segment, demo
batches.py   run on many contents, evaluate
sweep.py     sweep
replay.py    replay
train.py     train, datasets
weights.py   weights
"""

__all__ = ["build_parser", "main"]


def __getattr__(name: str):
    if name == "main":
        from napari_partial_style.cli.signals import main

        return main
    if name == "build_parser":
        from napari_partial_style.cli.parser import build_parser

        return build_parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
