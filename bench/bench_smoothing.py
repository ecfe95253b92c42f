"""Photo smoothing (`--smooth`, issue 39): time per Mpx, peak memory per pixel of the region's box, and
how far the solution lies from a direct solve.

Each case runs `core.composite.smoothed` in a process of its own (its peak RSS is its own; its CPU
seconds, all threads, say more than its wall time on a loaded machine) on the bundled coffee photo
resized to size² as the content, and a stylized stand-in: the photo's channels reversed plus noise
(σ 0.1), so the solver has edges to follow and noise to remove. `--before SRC`
runs each case also with another source tree first on the path (e.g. the commit before this change,
`git archive <commit> src | tar -x -C /tmp/before`), interleaved with this tree's run, so both
columns share the machine's load. `--check SIZE` compares the solution with a sparse direct solve of
(U + s·L) r = y (Levin's matrix built window by window, scipy's SuperLU) at SIZE². Usage:

    python bench/bench_smoothing.py [--sizes 512 1024 2048] [--smooth 1 10] [--before /tmp/before/src] [--check 128]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def images(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The coffee photo at size² (uint8) and its stylized stand-in."""
    from napari_partial_style import samples
    from napari_partial_style.core.images import resize_native, to_uint8

    content = to_uint8(resize_native(samples.coffee(), (size, size)))
    noise = np.random.default_rng(0).normal(scale=0.1, size=content.shape)
    return content, to_uint8(np.clip(content[..., ::-1] / 255.0 + noise, 0, 1))


def resident_bytes() -> int:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_case(size: int, strength: float, inputs: str) -> dict:
    """Smooth the whole frame as the composite does; seconds, iterations and the peak memory it added
    (bytes): the peak RSS over the resident memory before, the inputs read from `inputs` (made in the
    parent process, so their making leaves no higher peak here to hide the smoothing's)."""
    import torch  # noqa: F401  (`smoothed` imports it: not part of the peak)

    from napari_partial_style.core.composite import smoothed
    from napari_partial_style.core.images import as_source_image
    from napari_partial_style.core.progress import drain

    content, stylized = np.load(inputs)
    source, alpha, events = as_source_image(content), np.ones((size, size), np.float32), []
    base, cpu = resident_bytes(), time.process_time()
    start = time.perf_counter()
    drain(smoothed(source, stylized, alpha, strength), events.append)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return {"seconds": seconds, "cpu": cpu, "iterations": len(events), "peak": peak}


def solution(size: int, strength: float) -> np.ndarray:
    """The solver's float solution (before the composite rounds it to the photo's dtype), from either
    tree: core/style/smoothing.py, or the torch solver it replaced in core/style/matting.py."""
    from napari_partial_style.core.images import to_float_rgb
    from napari_partial_style.core.progress import drain

    content, stylized = images(size)
    try:
        from napari_partial_style.core.style.smoothing import smooth
    except ImportError:
        import torch

        from napari_partial_style.core.style.matting import smooth

        def as_tensor(image: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(to_float_rgb(image).transpose(2, 0, 1).copy())

        return drain(smooth(as_tensor(stylized), as_tensor(content), strength)).numpy().transpose(1, 2, 0)
    return drain(smooth(stylized, content, strength))


def direct(size: int, strength: float) -> np.ndarray:
    """(U + s·L) r = y solved directly, L built from Levin's definition (3×3 windows inside the image)."""
    from scipy.sparse import coo_matrix, identity
    from scipy.sparse.linalg import splu

    content, stylized = images(size)
    guide = content.astype(np.float64) / 255
    index = np.arange(size * size).reshape(size, size)
    offsets = [(dy, dx) for dy in range(3) for dx in range(3)]
    ids = np.stack([index[dy : size - 2 + dy, dx : size - 2 + dx].ravel() for dy, dx in offsets], axis=1)
    colours = guide.reshape(-1, 3)[ids]  # windows × 9 × 3
    centred = colours - colours.mean(axis=1, keepdims=True)
    delta = np.einsum("kna,knb->kab", centred, centred) / 9 + (1e-7 / 9) * np.eye(3)
    blocks = np.eye(9) - (1 + np.einsum("kna,kab,kmb->knm", centred, np.linalg.inv(delta), centred)) / 9
    rows, cols = np.repeat(ids, 9, axis=1), np.tile(ids, (1, 9))
    laplacian = coo_matrix((blocks.ravel(), (rows.ravel(), cols.ravel())), shape=(size * size,) * 2).tocsc()
    solver = splu((identity(size * size, format="csc") + strength * laplacian).tocsc())
    return solver.solve(stylized.reshape(-1, 3).astype(np.float64) / 255).reshape(size, size, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[512, 1024, 2048])
    parser.add_argument("--smooth", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--before", help="another source tree to run side by side (its src folder)")
    parser.add_argument("--check", type=int, default=0, help="compare with a direct solve at this size²")
    parser.add_argument("--one", nargs=4, metavar=("SIZE", "SMOOTH", "INPUTS", "SAVE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one case in this process: its cost, or its solution saved
        size, strength, inputs, save = int(args.one[0]), float(args.one[1]), args.one[2], args.one[3]
        if save == "-":
            print(json.dumps(run_case(size, strength, inputs)))
        else:
            np.save(save, solution(size, strength))
        return
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    trees = {"after": here} | ({"before": args.before} if args.before else {})

    inputs = f"/tmp/bench_smoothing_{os.getpid()}_inputs.npy"

    def case(tree: str, size: int, strength: float, save: str = "-") -> dict:
        env = os.environ | {"PYTHONPATH": trees[tree]}
        command = [sys.executable, __file__, "--one", str(size), str(strength), inputs, save]
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        return json.loads(out.stdout.strip().splitlines()[-1]) if save == "-" else {}

    if args.sizes:
        print("| s | region | tree | iterations | seconds | s per Mpx | CPU s per Mpx | peak added MB | bytes per px |")
        print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        np.save(inputs, np.stack(images(size)))
        for strength, tree in itertools.product(args.smooth, trees):
            r = case(tree, size, strength)
            mpx = size * size / 1e6
            print(
                f"| {strength:g} | {size}² | {tree} | {r['iterations']} | {r['seconds']:.1f} | "
                f"{r['seconds'] / mpx:.1f} | {r['cpu'] / mpx:.1f} | {r['peak'] / 1e6:.0f} | {r['peak'] / size**2:.0f} |",
                flush=True,
            )
        os.remove(inputs)
    if args.check:
        print(f"\nmax |r − direct| at {args.check}² (the solver's float solution, image in [0, 1])\n")
        print("| s | tree | max abs difference |\n|---|---|---|")
        for strength in args.smooth:
            exact = direct(args.check, strength)
            for tree in trees:
                save = f"/tmp/bench_smoothing_{os.getpid()}_{tree}.npy"
                case(tree, args.check, strength, save)
                result = np.load(save)
                os.remove(save)
                print(f"| {strength:g} | {tree} | {np.abs(result - exact).max():.2e} |", flush=True)


if __name__ == "__main__":
    main()
