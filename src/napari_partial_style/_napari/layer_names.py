"""The names the plugin gives layers (DESIGN.md's contract), built and parsed in one place.

A job on an image layer `<image>` makes `<image> saliency [<class>]`, `<image> labels` (then
`<image> labels [2]`, ... when the user painted the earlier ones), `<image> stylized` (then
`<image> stylized [2]`, ...: each run's result is kept) and `<image> composite`. A bundle `<bundle>.pstyle` opens as `<bundle> content`, `<bundle> style`
and the same derived names with `<bundle>` as the base, so a reopened job carries on.
"""

from __future__ import annotations

CONTENT, STYLE, STYLIZED, COMPOSITE, LABELS, SALIENCY = (
    "content",
    "style",
    "stylized",
    "composite",
    "labels",
    "saliency",
)
RESEGMENTED = "re-segmentation"  # what the classifier sees in the composite (Score)
SWEEP = "sweep"  # Stylize's contact sheet of style weights
QUICK_LOOK = "quick look"  # the workflow's low-resolution composite
ROLES = (STYLIZED, COMPOSITE, STYLE)


def role(base: str, name: str) -> str:
    """`<base> stylized`, `<base> composite`, `<base> style`, `<base> content`, `<base> labels`."""
    return f"{base} {name}"


def saliency(base: str, target: str) -> str:
    return f"{base} {SALIENCY} [{target}]"


def saliency_target(base: str, name: str) -> str | None:
    """The class of a `<base> saliency [<class>]` name, else None."""
    prefix = f"{base} {SALIENCY} ["
    return name[len(prefix) : -1] if name.startswith(prefix) and name.endswith("]") else None


def numbered(name: str, n: int) -> str:
    """The n-th layer of a name already taken: `<name> [n]` (n ≥ 2)."""
    return name if n < 2 else f"{name} [{n}]"


def is_version(first: str, name: str) -> bool:
    """`first` or one of its numbered successors `first [n]`."""
    return name == first or (
        name.startswith(first + " [") and name.endswith("]") and name[len(first) + 2 : -1].isdigit()
    )


def is_labels(base: str, name: str) -> bool:
    """`<base> labels` or one of its numbered successors."""
    return is_version(role(base, LABELS), name)


def next_version(first: str, taken) -> str:
    """The first of `first`, `first [2]`, ... not in `taken`: a new result never replaces an earlier one."""
    n = 1
    while numbered(first, n) in taken:
        n += 1
    return numbered(first, n)


def newest_version(first: str, names) -> str | None:
    """The highest-numbered of `first`, `first [2]`, ... among `names`, else None."""
    found = [name for name in names if is_version(first, name)]
    return max(found, key=lambda name: 1 if name == first else int(name[len(first) + 2 : -1]), default=None)


def base_name(content_name: str) -> str:
    """The prefix of a job's layer names: a reopened bundle's `<bundle> content` has layers `<bundle> ...`."""
    suffix = f" {CONTENT}"
    return content_name[: -len(suffix)] if content_name.endswith(suffix) else content_name


def is_derived(name: str) -> bool:
    """A name the plugin gives to a layer made from another (not an input image)."""
    return (
        any(f" {kind}" in name for kind in (STYLIZED, COMPOSITE, STYLE, RESEGMENTED, SWEEP, QUICK_LOOK))
        or f" {SALIENCY} [" in name
    )
