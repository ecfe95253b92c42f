"""Start-up costs a user feels: the command line's quick answers and opening each dock.

Each measurement runs in a fresh process (so torch is not already imported): `--help`, `weights`,
an option error; then a napari viewer (not shown) and each dock opened as the Plugins menu opens
it, timed from the click to the dock's return, and whether torch was imported by it. Run under Xvfb:

    TORCH_HOME=/tmp/scratch/th xvfb-run -a -s "-screen 0 1600x900x24" python bench/bench_startup.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

DOCKS = ("Partial style (all steps)", "Segment", "Stylize", "Composite and score")
CLI = (
    ["--help"],
    ["weights"],
    ["run", "a.png", "b.png", "-o", "x.pstyle", "--steps", "0"],
)  # the last: an option error

OPEN_DOCK = """
import json, sys, time
import napari
viewer = napari.Viewer(show=False)
start = time.perf_counter()
viewer.window.add_plugin_dock_widget("napari-partial-style", sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "torch": "torch" in sys.modules}))
viewer.close()
"""


def cli_seconds(args: list[str], repeats: int = 3) -> float:
    """The fastest of `repeats` fresh runs (the others include the disk cache warming)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "napari_partial_style", *args], capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    print("| command | seconds (best of 3, fresh process) |\n|---|---|")
    for args in CLI:
        print(f"| `napari-partial-style {' '.join(args)}` | {cli_seconds(args):.2f} |", flush=True)
    print("\n| dock (Plugins menu) | seconds to open | imports torch |\n|---|---|---|")
    for dock in DOCKS:
        out = subprocess.run([sys.executable, "-c", OPEN_DOCK, dock], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {dock} | {result['seconds']:.2f} | {'yes' if result['torch'] else 'no'} |", flush=True)


if __name__ == "__main__":
    main()
