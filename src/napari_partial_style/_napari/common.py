"""Parameter widgets and helpers shared by the three dock widgets."""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import ComboBox, FileEdit, SpinBox

from napari_partial_style._napari.settings import default_device, prefer_our_reader, weights_folder


def layer_kind(kind: str) -> type:
    """napari's layer class for "image" or "labels" (public API, unlike `layer._type_string`)."""
    from napari.layers import Image, Labels

    return {"image": Image, "labels": Labels}[kind]


def layer_choices(viewer, kind: str):
    """A `choices` callable listing the viewer's layers of one kind (image, labels)."""
    cls = layer_kind(kind)

    def choices(_widget=None):
        return [(layer.name, layer) for layer in viewer.layers if isinstance(layer, cls)]

    return choices


def watch_layers(viewer, *widgets) -> None:
    """Refresh layer drop-downs when layers come, go or are renamed (every widget calls this
    once, so it is also where the plugin makes napari open bundles with its reader)."""
    prefer_our_reader()

    def refresh(_event=None):
        for widget in widgets:
            widget.reset_choices()

    viewer.layers.events.inserted.connect(refresh)
    viewer.layers.events.removed.connect(refresh)
    viewer.layers.events.moved.connect(refresh)


def device_box() -> ComboBox:
    """Only the devices this machine has, best first; the default comes from the plugin settings."""
    from napari_partial_style.core.device import available_devices

    devices = ["auto", *available_devices()]
    preferred = default_device()
    box = ComboBox(label="device", choices=devices, value=preferred if preferred in devices else "auto",
                   tooltip="auto picks the first: CUDA, then Apple MPS, then the CPU")
    return box


IMAGENET = "imagenet"
CHECKPOINT = "checkpoint file"


def classifier_boxes() -> tuple[ComboBox, FileEdit]:
    """The classifier choice: ImageNet, or a checkpoint file (shown only when chosen)."""
    source = ComboBox(label="classifier", choices=[IMAGENET, CHECKPOINT], value=IMAGENET,
                      tooltip="ImageNet VGG16 (1000 object classes) or a material checkpoint made by `train`")
    checkpoint = FileEdit(label="checkpoint", mode="r", filter="*.pt *.pth", visible=False)
    source.changed.connect(lambda: setattr(checkpoint, "visible", source.value == CHECKPOINT))
    return source, checkpoint


def classifier_source(source: ComboBox, checkpoint: FileEdit) -> str:
    """"imagenet" or the checkpoint's path, with a clear error when no file is chosen."""
    if source.value == IMAGENET:
        return IMAGENET
    if not checkpoint.value or not checkpoint.value.is_file():
        from napari_partial_style.core.errors import InputError

        raise InputError("choose a classifier checkpoint file, or the ImageNet classifier.")
    return str(checkpoint.value)


def size_box(value: int = 0) -> SpinBox:
    return SpinBox(label="working size", value=value, min=0, max=4096, step=32,
                   tooltip="long side in px the heavy stages run at; 0: 256 on CPU, 384 on MPS, 512 on CUDA")


def explicit_weights(keys: list[str]) -> dict[str, Path]:
    """Weight files found in the settings' weights folder, passed as explicit paths."""
    from napari_partial_style.core.io import weights

    folder = weights_folder()
    if folder is None:
        return {}
    found = {}
    for key in keys:
        candidate = folder / weights.KNOWN[key].filename
        if candidate.is_file():
            found[key] = candidate
    return found
