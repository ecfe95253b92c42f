"""Where pretrained weights come from; the only module that downloads.

Lookup order for each file: an explicit path; the folder in NAPARI_PARTIAL_STYLE_WEIGHTS; torch's
hub cache (`torch.hub.get_dir()/checkpoints`, torchvision's own file names); then a download into
the hub cache. Offline (NAPARI_PARTIAL_STYLE_OFFLINE=1, or no network) a missing file fails fast
with one message naming the file, the URL and the folder to put it in.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from napari_partial_style.core.errors import PartialStyleError, WeightsError
from napari_partial_style.core.io.download import OFFLINE_ENV, NoConnection, fetch, offline
from napari_partial_style.core.progress import StageGenerator, drain

WEIGHTS_ENV = "NAPARI_PARTIAL_STYLE_WEIGHTS"


@dataclass(frozen=True)
class WeightFile:
    """One pretrained file under torchvision's name; the name carries the sha256 prefix."""

    key: str
    filename: str
    url: str
    purpose: str

    @property
    def sha256_prefix(self) -> str:
        return self.filename.rsplit("-", 1)[1].split(".")[0]


VGG19 = WeightFile(
    key="vgg19",
    filename="vgg19-dcbb9e9d.pth",
    url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    purpose="style transfer (torchvision VGG19_Weights.IMAGENET1K_V1)",
)
VGG16 = WeightFile(
    key="vgg16",
    filename="vgg16-397923af.pth",
    url="https://download.pytorch.org/models/vgg16-397923af.pth",
    purpose="classifier and saliency (torchvision VGG16_Weights.IMAGENET1K_V1)",
)
KNOWN = {w.key: w for w in (VGG19, VGG16)}


def hub_folder() -> Path:
    """torch's hub cache for checkpoints, where torchvision itself looks and downloads. Worked out
    as `torch.hub.get_dir()` does ($TORCH_HOME/hub, else $XDG_CACHE_HOME/torch/hub, else
    ~/.cache/torch/hub) without importing torch (seconds) unless it is loaded already, where a
    program may have moved it with `torch.hub.set_dir`."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return Path(torch.hub.get_dir()) / "checkpoints"
    home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    return Path(home).expanduser() / "hub" / "checkpoints"


def search_folders(extra: Sequence[str | Path] = ()) -> list[Path]:
    """Folders searched, in order, for a file not given by explicit path: `extra` (such as the
    napari settings' weights folder) first."""
    folders = [Path(folder).expanduser() for folder in extra]
    if os.environ.get(WEIGHTS_ENV):
        folders.append(Path(os.environ[WEIGHTS_ENV]).expanduser())
    folders.append(hub_folder())
    return folders


def locate(weight: WeightFile, explicit: str | Path | None = None, folders: Sequence[str | Path] = ()) -> Path | None:
    """The local file for `weight`, or None; an explicit path must exist."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsError(f"weights file {path} does not exist; check the path given for {weight.key}.")
        return path
    for folder in search_folders(folders):
        candidate = folder / weight.filename
        if candidate.is_file():
            return candidate
    return None


def missing_message(missing: Iterable[WeightFile], reason: str) -> str:
    lines = [f"pretrained weights are missing and cannot be downloaded ({reason})."]
    for weight in missing:
        lines.append(f"  {weight.filename}  ({weight.purpose})  from {weight.url}")
    lines.append(
        f"Download them on a machine with internet and put them in {hub_folder()} "
        f"(or in the folder named by {WEIGHTS_ENV})."
    )
    return "\n".join(lines)


def ensure_steps(
    weights: Iterable[WeightFile], explicit: dict[str, str | Path] | None = None, folders: Sequence[str | Path] = ()
) -> StageGenerator[dict[str, Path]]:
    """Find every file a job needs before any work starts (explicit paths, then `folders`, then
    the usual places); download the missing ones, yielding ("download", MB done, MB total) events."""
    explicit = explicit or {}
    weights = list(dict.fromkeys(weights))
    found = {w.key: locate(w, explicit.get(w.key), folders) for w in weights}
    missing = [w for w in weights if found[w.key] is None]
    if missing and offline():
        raise WeightsError(missing_message(missing, f"{OFFLINE_ENV} is set"))
    for weight in missing:
        found[weight.key] = yield from download(weight, others=missing)
    return {key: path for key, path in found.items() if path is not None}


def ensure(weights: Iterable[WeightFile], explicit: dict[str, str | Path] | None = None) -> dict[str, Path]:
    """`ensure_steps` without progress."""
    return drain(ensure_steps(weights, explicit))


def download(weight: WeightFile, others: list[WeightFile] | None = None) -> StageGenerator[Path]:
    """Download into the hub folder; the sha256 prefix in torchvision's file name is checked."""

    def corrupt() -> WeightsError:
        return WeightsError(
            f"{weight.filename} downloaded from {weight.url} is corrupt (sha256 does not start "
            f"with {weight.sha256_prefix}); run the command again."
        )

    try:
        return (yield from fetch(weight.url, hub_folder() / weight.filename, weight.sha256_prefix, corrupt))
    except NoConnection as exc:
        raise WeightsError(missing_message(others or [weight], f"no connection: {exc}")) from exc
    except OSError as exc:
        raise WeightsError(f"download of {weight.url} failed ({exc}); run the command again.") from exc


def is_torchvisions(weight: WeightFile, path: Path) -> bool:
    """Whether the file is torchvision's own: its sha256 starts as its canonical name says."""
    return sha256_of(Path(path)).startswith(weight.sha256_prefix)


def digest_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "napari-partial-style" / "sha256.json"


def sha256_of(path: Path) -> str:
    """The file's sha256, remembered by path, size and modification time: hashing 550 MB takes
    seconds, and `weights` should answer at once. An unwritable cache only costs the time."""
    import hashlib
    import json

    from napari_partial_style.core.io.atomic import atomic_file

    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache = digest_cache()
    try:
        known = json.loads(cache.read_text())
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    if isinstance(known.get(key), str):
        return known[key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            digest.update(chunk)
    known[key] = digest.hexdigest()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(cache) as tmp:
            tmp.write_text(json.dumps(known))
    except (OSError, PartialStyleError):
        pass
    return known[key]


def verdict(weight: WeightFile, path: Path) -> tuple[bool, str]:
    """Whether the file at `path` can be weights at all, and one line on what it is: a PyTorch file
    (a zip) whose sha256 is torchvision's, another PyTorch file, or not weights."""
    from napari_partial_style.core.io.image_files import describe_file

    kind = describe_file(path)
    if kind != "a zip archive":
        return False, f"but it is {kind}, not PyTorch weights: delete it and get it again"
    if is_torchvisions(weight, path):
        return True, "torchvision's file (sha256 checked)"
    return True, (
        f"a PyTorch file whose sha256 does not start with {weight.sha256_prefix}: not torchvision's "
        "(other training, or damaged); jobs use it, and their results differ from the pretrained ones"
    )


def report(explicit: dict[str, str | Path] | None = None) -> list[tuple[WeightFile, Path | None]]:
    """Each known weight file and where it was found (None if missing)."""
    explicit = explicit or {}
    return [(w, locate(w, explicit.get(w.key))) for w in KNOWN.values()]
