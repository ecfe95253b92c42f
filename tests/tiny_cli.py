"""`python tests/tiny_cli.py ARGS`: the command line with the tiny classifier sources registered,
for tests that run it in a child process."""

import sys

import tiny_networks

from napari_partial_style.cli import main

tiny_networks.register()
sys.exit(main())
