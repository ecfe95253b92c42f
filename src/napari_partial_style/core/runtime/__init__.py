"""Where and how a job runs: the torch device and its defaults, running out of memory told as what to
lower, and Cancel felt inside a network pass."""
