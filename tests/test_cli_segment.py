"""`segment` and `demo` end to end: the region found by the classifier, or the sample's bundled labels."""

import numpy as np

from napari_partial_style.cli import build_parser, main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import write_image_file


def test_demo_with_bundled_labels(hub, tmp_path, capsys):
    out = tmp_path / "demo.pstyle"
    assert (
        main(
            [
                "demo",
                "--labels",
                "--out",
                str(out),
                "--size",
                "64",
                "--steps",
                "2",
                "--fine-steps",
                "1",
                "--no-score",
                "--style-network",
                "tiny",
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out)
    bundle = read_bundle(out)
    assert bundle.composite.shape == (400, 600, 3)
    assert bundle.labels.sum() > 10_000
    manifest = bundle.manifest
    assert manifest["inputs"]["content"] == "skimage.data.coffee" and manifest["classifier_classes"] is None
    assert bundle.scores is None


def test_demo_segments_the_cup_automatically(hub, tmp_path):
    out = tmp_path / "demo.pstyle"
    assert (
        main(
            [
                "demo",
                "--out",
                str(out),
                "--size",
                "64",
                "--steps",
                "2",
                "--fine-steps",
                "1",
                "--no-score",
                "--crf",
                "none",
                "--classifier",
                "tiny",
                "--style-network",
                "tiny",
                "--quiet",
            ]
        )
        == 0
    )
    bundle = read_bundle(out)
    assert bundle.manifest["targets"] == ["cup"]
    assert bundle.saliency.shape == (1, 400, 600) and bundle.labels.shape == (400, 600)
    assert bundle.crf_probabilities.shape == (2, 400, 600)
    changed = np.any(bundle.composite != bundle.content, axis=2)
    assert changed.any() and not changed[bundle.labels == 0].any()


def test_segment_end_to_end(hub, tmp_path):
    from napari_partial_style import samples

    image = tmp_path / "coffee.png"
    write_image_file(image, samples.coffee()[::4, ::4])
    out = tmp_path / "seg.pstyle"
    assert (
        main(
            [
                "segment",
                str(image),
                "--out",
                str(out),
                "--target",
                "cup",
                "espresso",
                "--size",
                "96",
                "--device",
                "cpu",
                "--classifier",
                "tiny",
                "--quiet",
            ]
        )
        == 0
    )
    bundle = read_bundle(out)
    assert bundle.manifest["targets"] == ["cup", "espresso"]
    assert bundle.saliency.shape == (2, 100, 150) and bundle.saliency.dtype == np.float32
    assert 0 < bundle.saliency.min() and bundle.saliency.max() <= 1
    assert bundle.labels.dtype == np.uint8 and bundle.labels.max() <= 2
    assert bundle.crf_probabilities.shape == (3, 100, 150)
    assert np.allclose(bundle.crf_probabilities.sum(axis=0), 1, atol=1e-3)
    assert bundle.composite is None and bundle.stylized is None
    assert set(bundle.manifest["class_scores"]) == {"cup", "espresso"}


def test_repeated_class_flags_accumulate():
    args = build_parser().parse_args(
        [
            "segment",
            "a.png",
            "--out",
            "a.pstyle",
            "--target",
            "cup",
            "--target",
            "plate",
            "spoon",
            "--subtract",
            "table",
            "--subtract",
            "bowl",
        ]
    )
    assert args.segment__saliency__targets == ["cup", "plate", "spoon"]
    assert args.segment__saliency__subtract == ["table", "bowl"]
