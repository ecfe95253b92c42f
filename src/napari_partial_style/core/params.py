"""Every option of a job, declared once: the parameter tree.

The CLI's flags, the napari widgets (basic fields first, the rest under "Advanced") and the
bundle manifest's `parameters` are all made from these dataclasses (see core/options.py), so a
new option is one field here. Sizes are long sides in pixels; CRF sxy values are in working-size
pixels; weights are the loss multipliers of core/style/objectives/gatys.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.options import check, group, option
from napari_partial_style.core.registry import CRF_BACKENDS, STYLE_NETWORKS, STYLE_OBJECTIVES
from napari_partial_style.core.runtime.precision import PRECISIONS

MIN_SIDE = 32
MAX_SIDE = 16384
CALIBRATIONS = ("otsu", "none")
INITS = ("content", "noise")
METHODS = ("masked", "composite")
OUTSIDES = ("self", "frozen")
COLORS = ("style", "content", "match")  # core/style/colors.py
GUIDE_MODES = ("inside", "simple", "all")
# Gatys' style weight 1e3 is in Caffe units (BGR, 0-255 inputs); torchvision's VGG19 sees inputs about
# 255·0.226 times smaller, and style losses scale with that factor to the fourth power and content
# losses to the second: 1e3 · (255·0.226)² ≈ 3.3e6 here (docs/style-weights.md).
DEFAULT_STYLE_WEIGHT = 1e3 * (255.0 * 0.226) ** 2
DEFAULT_SCALES = (0.8, 1.0, 1.2)


@dataclass(frozen=True)
class SessionParams:
    """Where and how large the heavy stages run."""

    device: str = option(
        "auto", "auto, cpu, cuda, cuda:N or mps; auto picks CUDA, then Apple MPS, then the CPU", widget="device"
    )
    size: int | None = option(
        None,
        "working long side in px the heavy stages run at "
        "(default: 256 on CPU, 384 on MPS, 512 on CUDA; never above the image's)",
        min=MIN_SIDE,
        max=MAX_SIDE,
        step=32,
        none_text="auto",
        label="working size",
    )

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class SaliencyParams:
    """Which classes are targets, and the DCSM settings."""

    targets: tuple[str, ...] = option(
        (),
        "target classes by name or index (default: every class above the threshold)",
        flag="--target",
        metavar="CLASS",
        widget="targets",
        label="target classes",
    )
    threshold: float | None = option(
        None,
        "class score above which a class is a target (default: 0.5 for checkpoints, 0.2 for imagenet)",
        min=0.0,
        max=1.0,
        step=0.05,
    )
    subtract: tuple[str, ...] = option(
        (),
        "classes whose saliency is subtracted from the targets' (default: the best-scoring others, up to 4 classes)",
        metavar="CLASS",
        none_text="the best-scoring others",
    )
    scales: tuple[float, ...] = option(
        DEFAULT_SCALES, "input scales whose saliency maps are summed", min=0.25, max=4.0, metavar="SCALE", advanced=True
    )

    def __post_init__(self) -> None:
        check(self)
        if not self.scales:
            raise InputError("give at least one saliency scale.")


@dataclass(frozen=True)
class CRFParams:
    """The dense CRF: PSA's settings by default (method-spec B.2)."""

    method: str = option(
        "torch",
        "torch (built in, runs on the device), pydensecrf (the `crf` extra, the "
        "reference; the two agree), another back end in core/segment/crf_backends/, "
        "or none: the argmax of the maps and the background",
        choices=CRF_BACKENDS.choices,
        flag="--crf",
        label="CRF",
    )
    calibration: str = option(
        "otsu",
        "otsu: raise each saliency map to the power that puts its Otsu threshold at "
        "0.5, so peaky or weaker targets are kept; none: the maps as they are",
        choices=CALIBRATIONS,
        flag="--calibrate",
        label="map calibration",
    )
    background_alpha: float = option(
        1.0,
        "exponent of the background channel (1 - max saliency)^alpha; larger labels more as target",
        min=0.01,
        max=64.0,
        step=0.5,
        flag="--bg-alpha",
        label="background α",
    )
    iterations: int = option(
        10, "mean-field iterations", min=1, max=200, flag="--crf-iterations", label="CRF iterations"
    )
    appearance: float = option(
        1.0,
        "with prompts: how much a colour and texture model learned from the prompted pixels (as "
        "GrabCut's) joins the saliency where the maps say little (a flat map: fully); 0: off",
        min=0.0,
        max=1.0,
        step=0.1,
        flag="--prompt-appearance",
        advanced=True,
        label="prompt appearance",
    )
    gaussian: tuple[float, float] = option(
        (3.0, 3.0),
        "smoothness kernel: sxy (px) and compatibility",
        min=0.0,
        max=1000.0,
        flag="--crf-gaussian",
        metavar=("SXY", "COMPAT"),
        advanced=True,
        label="CRF smoothness",
    )
    bilateral: tuple[float, float, float] = option(
        (80.0, 13.0, 10.0),
        "appearance kernel: sxy (px), srgb (grey levels) and compatibility",
        min=0.0,
        max=1000.0,
        flag="--crf-bilateral",
        metavar=("SXY", "SRGB", "COMPAT"),
        advanced=True,
        label="CRF appearance",
    )

    def __post_init__(self) -> None:
        check(self)
        if self.gaussian[0] <= 0 or self.bilateral[0] <= 0 or self.bilateral[1] <= 0:
            raise InputError("the CRF kernels' sxy and srgb must be positive.")


@dataclass(frozen=True)
class SegmentParams:
    """Finding the region: the classifier, its class-specific saliency maps and the CRF on them."""

    classifier: str = option(
        "imagenet",
        "imagenet (VGG16's 1000 classes) or a checkpoint file made by `train`",
        metavar="imagenet|PATH",
        widget="classifier",
    )
    saliency: SaliencyParams = group(SaliencyParams)
    crf: CRFParams = group(CRFParams)


@dataclass(frozen=True)
class StyleParams:
    """One style transfer; `steps` counts loss evaluations (L-BFGS closure calls)."""

    method: str = option(
        "masked",
        "masked: the region takes the style inside the optimisation (guided Gram matrices) "
        "and the rest keeps its own statistics; composite: the paper's, the whole frame "
        "stylized, then the region pasted",
        choices=METHODS,
    )
    steps: int = option(300, "L-BFGS loss evaluations at the working size", min=1, max=100000)
    colors: str = option(
        "style",
        "style: the style's colours come with its texture; content: only the luminance is "
        "stylized and the content keeps its colours; match: the style's colours are first "
        "moved to the content's",
        choices=COLORS,
    )
    max_size: int | None = option(
        None,
        "long side of the result: finer pyramid levels follow the working size up to "
        "it (default: the content's own, up to 1024 px on CPU, 2048 on MPS, 4096 on "
        "CUDA)",
        min=MIN_SIDE,
        max=MAX_SIDE,
        step=32,
        none_text="full resolution",
        label="result size",
    )
    tile: int | None = option(
        None,
        "optimise pyramid levels larger than this (long side, px) as overlapping tiles of "
        "this size, one after another, so memory follows the tile instead of the frame "
        "(default: no tiles)",
        min=64,
        max=MAX_SIDE,
        step=32,
        none_text="no tiles",
        advanced=True,
        label="tile size",
    )
    fine_steps: int = option(
        60,
        "L-BFGS loss evaluations at each finer pyramid level (each starts from the level below, so it needs fewer)",
        min=1,
        max=100000,
        label="steps per finer level",
    )
    crop: bool = option(
        True,
        "optimise only the region's bounding box plus a margin, so the cost follows the region",
        flag="--crop",
        label="crop to the region",
    )
    style_size: int | None = option(
        None,
        "long side the style image is scaled to; smaller gives a coarser texture (default: the working size)",
        min=MIN_SIDE,
        max=MAX_SIDE,
        step=32,
        none_text="working size",
    )
    style_region: str | None = option(
        None,
        "where in the style image its statistics come from: auto (the region of "
        "its top class, segmented like the content) or a class name; a region "
        "you give (--style-mask, a painted layer, an RGBA style's alpha) wins "
        "(default: the whole style image)",
        metavar="auto|CLASS",
        none_text="whole style image",
        label="style region",
    )
    style_weight: float = option(
        DEFAULT_STYLE_WEIGHT, "style loss weight (see docs/style-weights.md)", min=0.0, max=1e12, step=1e5
    )
    content_weight: float = option(1.0, "content loss weight", min=0.0, max=1e12)
    tv_weight: float = option(
        0.0, "total-variation weight; smooths the result", min=0.0, max=1e6, step=0.01, label="TV weight"
    )
    objective: str = option(
        "gatys",
        "style loss: one module per objective in core/style/objectives/",
        choices=STYLE_OBJECTIVES.names,
        advanced=True,
        label="style objective",
    )
    network: str = option(
        "vgg19",
        "network whose features the style loss compares: one module per network in core/style/networks/",
        choices=STYLE_NETWORKS.names,
        advanced=True,
        flag="--style-network",
        label="style network",
    )
    precision: str = option(
        "auto",
        "number format of the style network's passes: auto (the fastest one measured to keep the result on "
        'this device; docs/quality.md, "Precision"), float32, bfloat16 or float16; Gram matrices, losses, the '
        "realism term and L-BFGS stay float32",
        choices=PRECISIONS,
        advanced=True,
    )
    init: str = option("content", "start from the content image or from noise", choices=INITS, advanced=True)
    seed: int = option(0, "random seed (noise start)", min=0, max=2**31 - 1, advanced=True)
    outside: str = option(
        "self",
        "masked: what the rest of the frame matches: its own statistics (self) or nothing "
        "(frozen: only the region's pixels change)",
        choices=OUTSIDES,
        advanced=True,
    )
    band: float = option(
        16.0,
        "masked: pixels farther than this from the region (working-size px) keep exactly their values",
        min=0.0,
        max=1000.0,
        step=2.0,
        advanced=True,
        label="free band (px)",
    )
    realism: float = option(
        10.0,
        "photorealism (Luan et al. 2017): the weight of a term that keeps the result locally an affine "
        "recolouring of the content (its matting Laplacian), so edges stay straight and shading stays; "
        "larger keeps more of the photo and less of the style's fine texture; 0: the paper's transfer",
        min=0.0,
        max=1e9,
        step=1.0,
        label="realism",
        slider=(0.1, 10.0, 1e4),
    )
    temporal: float = option(
        1000.0,
        "clips: the weight of the temporal term (Ruder et al. 2016) that holds the region to the previous "
        "frame's result carried along the optical flow, where the flow is trusted; larger flickers less; "
        '0: each frame independently (docs/quality.md, "Video")',
        min=0.0,
        max=1e9,
        step=100.0,
        advanced=True,
        label="temporal weight",
    )
    later_steps: float = option(
        0.5,
        "clips: the share of --steps and --fine-steps that each frame after the first runs, since it starts "
        "from the previous result carried along the flow (Ruder et al. 2016); 1: all steps; frames stylized "
        'independently (--temporal 0) run all (docs/quality.md, "Video")',
        min=0.01,
        max=1.0,
        step=0.05,
        advanced=True,
        label="later frames' steps",
    )
    guide: str = option(
        "inside",
        "masked: how the region reaches deeper layers: neurons that see only the region "
        "(inside), a resized mask (simple) or any neuron that sees it (all)",
        choices=GUIDE_MODES,
        advanced=True,
        label="guide mode",
    )
    guide_grow: int = option(
        0,
        "masked: grow (+) or shrink (-) each layer's guide by this many feature pixels",
        min=-8,
        max=8,
        advanced=True,
        label="guide grow",
    )
    crop_margin: float = option(
        32.0,
        "context kept around the region's box when cropping (working-size px)",
        min=0.0,
        max=4096.0,
        step=8.0,
        advanced=True,
        label="crop margin (px)",
    )
    history_size: int = option(
        100,
        "L-BFGS memory: how many past steps shape each update",
        min=1,
        max=1000,
        flag="--lbfgs-history",
        advanced=True,
        label="L-BFGS history",
    )

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class CompositeParams:
    feather: float = option(
        0.0,
        "width in px of a soft edge centred on the region's edge (0: hard mask)",
        min=0.0,
        max=1000.0,
        step=1.0,
        label="feather (px)",
    )
    grow: float = option(
        0.0,
        "grow (+) or shrink (-) the region by this many px before feathering",
        min=-1000.0,
        max=1000.0,
        step=1.0,
        label="grow (px)",
    )
    edge_radius: int = option(
        0,
        "snap the alpha to the original's edges with a guided filter of this radius in px (0: off; 4-16 is typical)",
        min=0,
        max=256,
        advanced=True,
        label="edge-aware radius",
    )
    crf_edge: float = option(
        0.0,
        "within this many px of the region's edge, the CRF's probability of the region "
        "sets the alpha (and masked's style guide): soft where the CRF was unsure "
        "(0: off; needs a segmentation, not --labels)",
        min=0.0,
        max=1000.0,
        step=1.0,
        advanced=True,
        label="CRF soft edge (px)",
    )
    smooth: float = option(
        0.0,
        "after stylizing, smooth the region's colours on the content's affinity in closed form "
        "(Li et al. 2018): larger follows the photo's edges and shading more; 0: off (seconds per Mpx)",
        min=0.0,
        max=1e6,
        step=1.0,
        label="photo smoothing",
        slider=(0.1, 1.0, 100.0),
    )
    label_values: tuple[int, ...] = option(
        (),
        "label values to change (default: every nonzero label)",
        min=1,
        max=65535,
        flag="--label-values",
        metavar="N",
        label="target labels",
        none_text="every nonzero label",
    )

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class ScoreParams:
    enabled: bool = option(
        True,
        "segment the composite again and score whether the region now reads as the expected class",
        flag="--score",
        label="score the composite",
    )
    expect: str | None = option(
        None,
        "class the region should have after the change (default: the classifier's top class on the style image)",
        metavar="CLASS",
        label="expected class",
        none_text="the style's top class",
    )


@dataclass(frozen=True)
class JobParams:
    """The whole tree: what decides a job's result, recorded in the bundle's manifest."""

    session: SessionParams = group(SessionParams)
    segment: SegmentParams = group(SegmentParams)
    style: StyleParams = group(StyleParams)
    composite: CompositeParams = group(CompositeParams)
    score: ScoreParams = group(ScoreParams)


MIN_TRAIN_SIZE = 224  # fc6 sees 224 px windows


@dataclass(frozen=True)
class TrainParams:
    """Training the material classifier (`napari-partial-style train`, core/train/training.py)."""

    epochs: int = option(30, "epochs", min=1, max=10000)
    size: int = option(
        448, f"letterboxed training size in px (fc6 sees {MIN_TRAIN_SIZE} px windows)", min=MIN_TRAIN_SIZE, max=4096
    )
    batch_size: int | None = option(
        None, "images per step (default: as many as half the free memory holds, up to 32)", min=1, max=1024
    )
    lr: float = option(1e-3, "learning rate; fc8 gets --head-lr-factor times it", min=1e-8, max=10.0)
    pretrained: bool = option(True, "start from ImageNet's VGG16 (--no-pretrained: from random weights)")
    augment: bool = option(True, "horizontal flips and scale jitter (--no-augment: neither)")
    val_fraction: float = option(0.2, "share of each class held out for validation", min=0.0, max=0.9)
    seed: int = option(0, "random seed for the split, order and augmentation", min=0, max=2**31 - 1)
    momentum: float = option(0.9, "SGD momentum", min=0.0, max=0.999)
    weight_decay: float = option(5e-4, "SGD weight decay", min=0.0, max=1.0)
    head_lr_factor: float = option(10.0, "learning rate of the new fc8 relative to the rest", min=0.01, max=1000.0)
    scale_jitter: tuple[float, float] = option(
        (0.8, 1.2),
        "augmentation: each image's long side is scaled by a random factor between these",
        min=0.1,
        max=4.0,
        metavar=("LO", "HI"),
    )

    def __post_init__(self) -> None:
        check(self)
        if self.scale_jitter[0] > self.scale_jitter[1]:
            raise InputError(
                f"--scale-jitter's LO must not exceed HI, not {self.scale_jitter[0]:g} > {self.scale_jitter[1]:g}."
            )
