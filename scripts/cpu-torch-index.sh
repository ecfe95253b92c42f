#!/usr/bin/env bash
# Prints torch's CPU-only package index when this machine has no NVIDIA GPU and the index answers;
# prints nothing otherwise (with a line on stderr saying why, when it is out of reach). Without an
# NVIDIA GPU, PyPI's default torch brings CUDA libraries that cannot be used (about 4 GB more).
set -uo pipefail
CPU_INDEX=https://download.pytorch.org/whl/cpu
if { command -v nvidia-smi && nvidia-smi -L; } >/dev/null 2>&1; then
  exit 0
fi
if python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/torch/', timeout=10)" "$CPU_INDEX" 2>/dev/null; then
  echo "$CPU_INDEX"
else
  echo "$(basename "$0"): torch's CPU-only index $CPU_INDEX cannot be reached; pip takes PyPI's default torch, which brings CUDA libraries (about 4 GB more)." >&2
fi
