"""Which jobs a batch or an evaluation holds: contents with their masks, styles with their classes.

A content's target mask is found, in order: in `--labels DIR` under the content's stem; beside the
content as `<stem>_mask.<ext>` (such a file is then not a content itself); in FMD's parallel layout
(`.../image/<class>/<name>` ↔ `.../mask/<class>/<stem>.*`). A content without one is segmented.

A batch (not an evaluation) also takes clips, as `run` does one (core/video/frames.py decides): video
files, multi-page TIFFs, animated GIFs (a still GIF is a photo) and, among a folder's or a glob's
entries, folders of frames; each is one job whose mask, if found, is its frame 0's labels (a folder
`walk/`'s as `walk_mask.png` beside it, or `walk.png` in `--labels DIR`).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from napari_partial_style.core.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")
MASK_SUFFIX = "_mask"


@dataclass(frozen=True)
class Content:
    path: Path
    mask: Path | None = None
    material: str | None = None  # the class folder it came from (FMD), if any
    clip: bool = False  # a clip file or a folder of frames: run as a clip (batch/clips.py)


@dataclass(frozen=True)
class Style:
    path: Path
    material: str


@dataclass(frozen=True)
class Pair:
    content: Content
    style: Style

    @property
    def key(self) -> str:
        """What identifies the pair in the results CSV."""
        return f"{self.content.path}|{self.style.path}"

    @property
    def name(self) -> str:
        """A file name for its bundle and thumbnails."""
        return f"{self.content.path.stem}__{self.style.material}__{self.style.path.stem}"


def is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def is_clip(path: Path) -> bool:
    """A content a batch runs as a clip: a clip file, or a folder of frames."""
    from napari_partial_style.core.video.frames import is_clip_file, is_frame_folder

    return not path.name.startswith(".") and (is_clip_file(path) or is_frame_folder(path))


def _image_in(folder: Path, stem: str) -> Path | None:
    return next((p for p in sorted(folder.glob(f"{glob.escape(stem)}.*")) if is_image(p)), None)


def find_mask(content: Path, labels_dir: Path | None = None) -> Path | None:
    if labels_dir is not None:
        return _image_in(labels_dir, content.stem)
    beside = _image_in(content.parent, content.stem + MASK_SUFFIX)
    if beside is not None:
        return beside
    if content.parent.parent.name == "image":
        return _image_in(content.parent.parent.parent / "mask" / content.parent.name, content.stem)
    return None


def find_contents(items: list[str | Path], labels_dir: str | Path | None = None, clips: bool = False) -> list[Content]:
    """Contents from files, folders (their images, not recursive) and glob patterns, in order,
    each with its mask; masks named `<stem>_mask.*` are not contents. With `clips`, clip files and
    the folders of frames among a folder's or a glob's entries (not `--labels DIR`) are contents too,
    marked as clips."""
    labels = None if labels_dir is None else Path(labels_dir)
    if labels is not None and not labels.is_dir():
        raise InputError(
            f"--labels {labels} is not a folder; a batch (several contents, a folder or a pattern) "
            "takes a folder of masks named like the contents."
        )

    def wanted(path: Path) -> bool:
        if path.is_dir() and labels is not None and path.resolve() == labels.resolve():
            return False  # the masks' folder beside the contents is not a clip of masks
        return is_image(path) or (clips and is_clip(path))

    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if wanted(p))
        elif path.is_file():
            paths.append(path)
        elif any(ch in str(item) for ch in "*?["):
            paths += sorted(Path(p) for p in glob.glob(str(item)) if wanted(Path(p)))
        else:
            raise InputError(f"content {item} does not exist (give image files, folders or glob patterns).")
    paths = [p for p in dict.fromkeys(paths) if not p.stem.endswith(MASK_SUFFIX)]
    if not paths:
        found = "content images, clips or folders of frames" if clips else "content images"
        raise InputError(f"no {found} found in {', '.join(map(str, items))}.")
    return [
        Content(
            p,
            find_mask(p, labels),
            p.parent.name if p.parent.parent.name == "image" else None,
            clips and is_clip(p),
        )
        for p in paths
    ]


def find_styles(folder: str | Path, per_class: int | None = None) -> list[Style]:
    """Style images from a folder of class folders (the class is the folder's name), the first
    `per_class` of each in name order."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"--styles {root} is not a folder; give a folder of class folders (e.g. FMD's image/).")
    if (root / "image").is_dir():
        root = root / "image"
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    styles = [Style(p, cls.name) for cls in classes for p in sorted(filter(is_image, cls.iterdir()))[:per_class]]
    if not styles:
        raise InputError(
            f"--styles {folder} has no class folders with images in them; put each style image in a "
            "folder named after its class (stone/, wood/, ...)."
        )
    return styles


def grid(contents: list[Content], styles: list[Style]) -> list[Pair]:
    return [Pair(c, s) for c in contents for s in styles]


def check_masks(contents: list[Content]) -> None:
    """Every mask the size of its content, read from the files' headers before any job starts."""
    from PIL import Image

    for content in contents:
        if content.mask is None:
            continue
        try:
            with Image.open(content.path) as image, Image.open(content.mask) as mask:
                sizes = image.size, mask.size
        except OSError:
            continue  # unreadable: its job reports it
        if sizes[0] != sizes[1]:
            raise InputError(
                f"mask {content.mask} is {sizes[1][0]}×{sizes[1][1]} but {content.path} is "
                f"{sizes[0][0]}×{sizes[0][1]}; give a mask of the content's size."
            )
