"""`python tests/tiny_cli.py ARGS`: the command line with the tiny classifier sources registered,
for tests that run it in a child process. It ends as the console script does (cli/entry.py): after
Ctrl-C or SIGTERM without waiting for worker threads, whose torch kernels abort the interpreter's
finalisation ("terminate called without an active exception", exit -6 instead of 143)."""

import tiny_networks

from napari_partial_style.cli.entry import entry

tiny_networks.register()
entry()
