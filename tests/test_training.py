"""Training from image-level labels: tiny, CPU, honest (overfitting checks, not accuracy claims)."""

import csv
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tiny_networks
import torch
from skimage import data

from napari_partial_style.cli import main
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.io.image_files import write_image_file
from napari_partial_style.core.segment.classifier import load_checkpoint_classifier
from napari_partial_style.core.train.datasets import load_dataset
from napari_partial_style.core.train.training import (
    Trainer,
    TrainParams,
    average_precision,
    evaluate,
    letterbox,
    stratified_split,
)

TEXTURES = {"brick": data.brick, "grass": data.grass, "stone": data.gravel}


def textures(root: Path, per_class: int) -> Path:
    """Three classes of `per_class` 96 px crops of scikit-image's textures, FMD-style (image/<class>/)."""
    for name, texture in TEXTURES.items():
        (root / "image" / name).mkdir(parents=True)
        for i in range(per_class):
            write_image_file(root / "image" / name / f"{name}{i}.png", texture()[i * 100 : i * 100 + 96, 50:146])
    return root


@pytest.fixture
def texture_folder(tmp_path):
    return textures(tmp_path / "textures", 4)


def test_folder_dataset_and_split(texture_folder):
    dataset = load_dataset(texture_folder)
    assert dataset.classes == ["brick", "grass", "stone"] and len(dataset) == 12
    assert dataset.targets.sum(axis=0).tolist() == [4, 4, 4]
    train, val = stratified_split(dataset.targets, 0.25, seed=0)
    assert len(train) == 9 and len(val) == 3
    assert sorted(dataset.targets[val].argmax(axis=1).tolist()) == [0, 1, 2]
    assert np.array_equal(stratified_split(dataset.targets, 0.25, seed=0)[1], val)


def test_csv_dataset_with_several_labels(texture_folder):
    rows = [("image/brick/brick0.png", "brick"), ("image/grass/grass0.png", "grass;stone")]
    with open(texture_folder / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "labels"])
        writer.writerows(rows)
    dataset = load_dataset(texture_folder / "labels.csv")
    assert dataset.classes == ["brick", "grass", "stone"]
    assert dataset.targets.tolist() == [[1, 0, 0], [0, 1, 1]]
    with pytest.raises(InputError, match="'grass' is not in the class list"):
        load_dataset(texture_folder / "labels.csv", classes=["brick", "stone"])


def test_bad_data_gets_clear_messages(texture_folder):
    (texture_folder / "image" / "metal").mkdir()
    with pytest.raises(InputError, match="class folder .*metal holds no image"):
        load_dataset(texture_folder)
    (texture_folder / "image" / "metal").rmdir()
    (texture_folder / "image" / "brick" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    dataset = load_dataset(texture_folder)
    assert len(dataset) == 12 and len(dataset.skipped) == 1 and dataset.skipped[0][0].name == "broken.png"
    with pytest.raises(InputError, match="neither a folder"):
        load_dataset(texture_folder / "nothing.txt")


def test_letterbox_keeps_aspect_on_a_mean_coloured_canvas():
    img = np.ones((50, 100, 3), np.float32)
    out = letterbox(img, 224)
    assert out.shape == (224, 224, 3)
    assert np.allclose(out[0, 0], (0.485, 0.456, 0.406)) and np.all(out[112, 5] == 1)
    assert np.allclose(out[112 - 57, 5], (0.485, 0.456, 0.406))  # rows above the 112-row image


def test_training_and_segmentation_pad_with_the_same_colour(monkeypatch):
    """A checkpoint sees at inference the padding it was trained with (both: the model's mean)."""
    import torch

    from napari_partial_style.core.params import SaliencyParams
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.segment import saliency
    from napari_partial_style.core.segment.fcn import FCNClassifier

    class Seen(Exception):
        pass

    def spy(_model, board_t, _scales):
        raise Seen(board_t[0].permute(1, 2, 0).numpy())

    monkeypatch.setattr(saliency, "scores_per_scale", spy)
    img = np.full((60, 120, 3), 0.9, np.float32)
    with pytest.raises(Seen) as seen:
        drain(saliency.dcsm(FCNClassifier(["a", "b"]), img, SaliencyParams(), torch.device("cpu")))
    inference = seen.value.args[0]
    trained = letterbox(img, 224)
    assert inference.shape == (288, 288, 3) and np.allclose(inference[0, 0], trained[0, 0])
    assert np.allclose(trained[0, 0], (0.485, 0.456, 0.406))


def test_metrics_by_hand():
    assert average_precision(np.array([0.9, 0.8, 0.7]), np.array([1, 0, 1])) == pytest.approx((1 + 2 / 3) / 2)
    scores = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.2]])
    targets = np.array([[1, 0], [0, 1], [0, 1]], np.float32)
    result = evaluate(scores, targets)
    assert result["accuracy"] == pytest.approx(2 / 3)


def test_loss_on_a_fixed_batch_falls_from_scratch(texture_folder, monkeypatch):
    from napari_partial_style.core.train import training

    monkeypatch.setattr(training, "FCNClassifier", tiny_networks.TinyFCN)
    dataset = load_dataset(texture_folder)
    params = TrainParams(epochs=1, size=224, batch_size=3, lr=1e-2, pretrained=False, augment=False, val_fraction=0)
    trainer = Trainer(dataset, params, texture_folder / "m.pt", torch.device("cpu"))
    batch = np.array([0, 4, 8])  # one image of each class
    losses = [trainer.step(batch, augment=False) for _ in range(10)]
    # Predicting only the label frequencies (1/3 each) gives a BCE of 0.6365: going below it means
    # the network tells the three images apart.
    prior = -(np.log(1 / 3) / 3 + 2 / 3 * np.log(2 / 3))
    assert losses[0] > prior and losses[-1] < prior - 0.02, losses


TRAIN_COMMON = ["--size", "224", "--batch-size", "3", "--device", "cpu", "--val-fraction", "0.25", "--no-augment"]


def test_train_command_and_resume(texture_folder, tmp_path, narrow_training, capsys):
    out = tmp_path / "textures.pt"
    common = [str(texture_folder), "--out", str(out), *TRAIN_COMMON, "--no-pretrained"]
    assert main(["train", *common, "--epochs", "1", "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    first = torch.load(out, weights_only=True)["training"]
    assert first["epoch"] == 1 and first["train_images"] == 9 and first["val_images"] == 3
    assert main(["train", *common, "--epochs", "2", "--resume", "--quiet"]) == 0
    state = torch.load(out.with_suffix(".resume.pt"), weights_only=True)
    assert state["epoch"] == 2
    with open(out.with_suffix(".csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"train_loss", "val_loss", "accuracy", "map", "seconds"} <= set(rows[0])


@pytest.mark.slow
def test_a_trained_checkpoint_from_imagenet_weights_segments(tmp_path, hub, capsys):
    """The full-size network, from the ImageNet weights, through `train` into `segment` (what a checkpoint's
    architecture is checked against); two photos a class, one to validate: each costs VGG16 at 224 px."""
    out = tmp_path / "textures.pt"
    assert (
        main(
            [
                "train",
                str(textures(tmp_path / "textures", 2)),
                "--out",
                str(out),
                *TRAIN_COMMON,
                "--epochs",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out)
    model = load_checkpoint_classifier(out)
    assert model.classes == ["brick", "grass", "stone"] and model.score_kind == "sigmoid"

    image = tmp_path / "brick.png"
    write_image_file(image, data.brick()[:96, :128])
    bundle = tmp_path / "seg.pstyle"
    args = [
        "segment",
        str(image),
        "--out",
        str(bundle),
        "--classifier",
        str(out),
        "--target",
        "brick",
        "--size",
        "96",
        "--scales",
        "1",
        "--device",
        "cpu",
        "--crf",
        "none",
        "--quiet",
    ]
    assert main(args) == 0
    from napari_partial_style.core.io.bundle import read_bundle

    back = read_bundle(bundle)
    assert back.manifest["classifier_classes"] == ["brick", "grass", "stone"] and back.manifest["targets"] == ["brick"]


def test_resume_without_a_saved_run_says_so(texture_folder, tmp_path, capsys):
    assert (
        main(
            [
                "train",
                str(texture_folder),
                "--out",
                str(tmp_path / "none.pt"),
                "--resume",
                "--size",
                "224",
                "--batch-size",
                "2",
                "--device",
                "cpu",
            ]
        )
        == 2
    )
    assert "nothing to resume" in capsys.readouterr().err


def test_fmd_download_checks_and_unpacks(tmp_path, monkeypatch):
    import zipfile

    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.train import datasets

    archive = tmp_path / "served" / "FMD.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:  # the archive's own folder, as FMD.zip has it
        for name in datasets.FMD_CLASSES:
            zf.writestr(f"FMD/image/{name}/{name}_moderate_001_new.jpg", b"jpeg")
            zf.writestr(f"FMD/mask/{name}/{name}_moderate_001_new.jpg", b"jpeg")
    monkeypatch.delenv("NAPARI_PARTIAL_STYLE_OFFLINE", raising=False)
    monkeypatch.setattr(datasets, "FMD_URL", archive.as_uri())
    dead = subprocess.Popen(["true"])
    dead.wait()
    killed = tmp_path / "data" / f".FMD.tmp-{dead.pid}-0000"  # an unpack that was killed
    (killed / "image").mkdir(parents=True)
    root = drain(datasets.fmd_steps(tmp_path / "data"))
    assert root == tmp_path / "data" / "FMD"
    assert sorted(p.name for p in (root / "image").iterdir()) == list(datasets.FMD_CLASSES)
    assert (root / "mask" / "wood").is_dir()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["FMD", "FMD.zip"]  # nothing left over
    assert drain(datasets.fmd_steps(tmp_path / "data")) == root  # already there: checked, not fetched
    mine = tmp_path / "other" / "FMD"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds no image/ folder; move it away"):
        drain(datasets.fmd_steps(tmp_path / "other"))
    assert (mine / "notes.txt").read_text() == "mine"


def test_fmd_offline_says_what_to_download(tmp_path, monkeypatch):
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.train import datasets

    monkeypatch.setenv("NAPARI_PARTIAL_STYLE_OFFLINE", "1")
    with pytest.raises(InputError, match=r"FMD\.zip.*FMD/image"):
        drain(datasets.fmd_steps(tmp_path / "data"))
    assert not (tmp_path / "data").exists()


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "labels"])
        writer.writerows(rows)
    return path


def test_csv_from_excel_with_a_bom_and_duplicate_rows(texture_folder):
    rows = [
        ("image/brick/brick0.png", "brick"),
        ("image/grass/grass0.png", "grass"),
        ("image/brick/brick0.png", "brick"),
        ("image/grass/grass1.png", "grass"),
    ]
    dataset = load_dataset(write_csv(texture_folder / "excel.csv", rows, encoding="utf-8-sig"))
    assert dataset.classes == ["brick", "grass"] and len(dataset) == 3
    train, val = stratified_split(dataset.targets, 0.5, seed=0)
    assert not set(np.asarray(dataset.paths)[train]) & set(np.asarray(dataset.paths)[val])


def test_csv_that_is_not_utf8_says_so(texture_folder):
    path = write_csv(texture_folder / "latin.csv", [("image/brick/brické.png", "brick")], encoding="latin-1")
    with pytest.raises(InputError, match="not UTF-8 text .*CSV UTF-8"):
        load_dataset(path)


def test_one_class_or_a_class_without_readable_images_is_refused(texture_folder):
    path = write_csv(texture_folder / "one.csv", [("image/brick/brick0.png", "brick")])
    with pytest.raises(InputError, match="only one class"):
        load_dataset(path)
    for image in (texture_folder / "image" / "stone").iterdir():
        image.write_text("not an image")
    with pytest.raises(InputError, match="class 'stone' has no readable image .4 unreadable"):
        load_dataset(texture_folder)


def train_args(texture_folder, out, *extra):
    return [
        "train",
        str(texture_folder),
        "--out",
        str(out),
        "--size",
        "224",
        "--device",
        "cpu",
        "--val-fraction",
        "0.25",
        "--no-augment",
        "--no-pretrained",
        "--quiet",
        *extra,
    ]


def test_train_refuses_to_replace_a_run_and_checks_the_output_first(texture_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        "napari_partial_style.core.train.datasets.load_dataset", pytest.fail
    )  # no work before the checks
    out = tmp_path / "model.pt"
    out.write_bytes(b"earlier run")
    assert main(train_args(texture_folder, out, "--epochs", "1")) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"earlier run"
    out.unlink()
    out.with_suffix(".csv").write_text("epoch\n1\n")
    assert main(train_args(texture_folder, out, "--epochs", "1")) == 2
    assert "model.csv exists" in capsys.readouterr().err
    assert main(train_args(texture_folder, tmp_path / "nodir" / "x.pt", "--epochs", "1")) == 2
    assert "does not exist; create it first" in capsys.readouterr().err


def test_resume_after_a_kill_while_saving_keeps_one_row_per_epoch_and_the_batch_size(
    texture_folder, tmp_path, narrow_training, monkeypatch, capsys
):
    from napari_partial_style.core.train import training

    out = tmp_path / "model.pt"
    monkeypatch.setattr(training, "auto_batch_size", lambda size, device: 4)
    assert main(train_args(texture_folder, out, "--epochs", "1")) == 0
    with open(out.with_suffix(".csv"), "a", newline="") as fh:  # epoch 2 logged, then killed before its state
        fh.write("2,0.5,0.5,0.5,0.5,1.0\n")
    monkeypatch.setattr(training, "auto_batch_size", lambda size, device: 3)  # less memory free now
    assert main(train_args(texture_folder, out, "--epochs", "2", "--resume")) == 0
    with open(out.with_suffix(".csv")) as fh:
        assert [row["epoch"] for row in csv.DictReader(fh)] == ["1", "2"]
    assert torch.load(out.with_suffix(".resume.pt"), weights_only=True)["batch_size"] == 4
    assert torch.load(out, weights_only=True)["training"]["batch_size"] == 4


# The narrow network, and epoch 2's steps slowed down so that the signal lands mid-epoch.
SIGTERM_TRAIN = """
import sys, time
import tiny_networks
from napari_partial_style.cli import main
from napari_partial_style.core.train import training
training.FCNClassifier = tiny_networks.NarrowFCN
step = training.Trainer.step
training.Trainer.step = lambda self, *a: (self.epoch and time.sleep(2), step(self, *a))[1]
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigterm_mid_epoch_keeps_the_last_whole_epochs_state(texture_folder, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "model.pt"
    args = [
        "train",
        str(texture_folder),
        "--out",
        str(out),
        "--size",
        "224",
        "--device",
        "cpu",
        "--batch-size",
        "2",
        "--no-pretrained",
        "--epochs",
        "50",
    ]
    child = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_TRAIN, *args],
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])),
        },
    )
    seen = ""
    while "epoch 2/50" not in seen:  # epoch 1 is done and its state written; epoch 2 is under way
        char = child.stderr.read(1)
        assert char, seen
        seen += char
    state = out.with_suffix(".resume.pt")
    after_epoch_1 = state.read_bytes()
    child.send_signal(signal.SIGTERM)
    rest = child.stderr.read()
    assert child.wait(timeout=60) == 143
    assert "the state of the last finished epoch is in" in rest and "--resume" in rest
    assert state.read_bytes() == after_epoch_1  # not the half-trained weights of epoch 2
    saved = torch.load(state, weights_only=True)
    assert saved["format"].endswith("training state") and saved["epoch"] == 1


def test_skipped_images_are_named_once(texture_folder, tmp_path, capsys):
    broken = texture_folder / "image" / "brick" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert main(["train", str(texture_folder), "--out", str(tmp_path / "m.pt"), "--device", "tpu"]) == 2
    err = capsys.readouterr().err
    assert err.count(str(broken)) == 1 and "skipped " + str(broken) in err


def test_a_run_killed_before_its_first_state_does_not_send_the_user_round_in_circles(texture_folder, tmp_path, capsys):
    """Killed while writing its first state: a plain rerun said "use --resume", --resume said
    "start without --resume"; only --overwrite got out, and neither said so."""
    out = tmp_path / "model.pt"
    out.write_bytes(b"best of epoch 1")  # the checkpoint and log were written, the state was not
    out.with_suffix(".csv").write_text("epoch\n1\n")
    assert main(train_args(texture_folder, out, "--epochs", "1")) == 2
    err = capsys.readouterr().err
    assert "replace it with --overwrite" in err and "--resume" not in err
    assert main(train_args(texture_folder, out, "--epochs", "1", "--resume")) == 2
    assert "nothing to resume" in (err := capsys.readouterr().err) and "start again with --overwrite" in err


def test_an_interrupted_training_keeps_the_last_whole_epochs_state(texture_folder, tmp_path, capsys, monkeypatch):
    """Ctrl-C mid-epoch used to save the half-trained weights under the last whole epoch's number."""
    from napari_partial_style.core.train import training

    def interrupted(self):
        raise KeyboardInterrupt
        yield

    saved = []
    monkeypatch.setattr(training.Trainer, "run", interrupted)
    monkeypatch.setattr(training.Trainer, "save_resume", lambda self: saved.append(self))
    out = tmp_path / "model.pt"
    assert main(train_args(texture_folder, out, "--epochs", "1")) == 130
    assert saved == [] and "no epoch finished, so there is nothing to resume" in capsys.readouterr().err


class Killed(BaseException):
    """A kill at a chosen moment: nothing after it runs (no handler catches a BaseException of its own)."""


@pytest.fixture
def narrow_training(monkeypatch):
    """Training's classifier at VGG16's shape but a few channels wide: a whole run takes a second."""
    from napari_partial_style.core.train import training

    monkeypatch.setattr(training, "FCNClassifier", tiny_networks.NarrowFCN)


@pytest.mark.slow  # a kill and a resume: the full run covers it
def test_a_kill_at_any_write_leaves_a_run_that_its_advice_finishes_exactly(
    texture_folder, tmp_path, narrow_training, monkeypatch, capsys
):
    """Killed before or after each of a 3-epoch run's renames (log, state, checkpoint), then led only
    by the tool's own advice: the run ends with the log, state and checkpoint of a run never stopped,
    and only a kill before the first state needs --overwrite. Before: the checkpoint and the state
    were two commits, and a kill between them left a checkpoint from an epoch the state did not hold."""
    import os

    real_replace = os.replace
    epochs = ["--epochs", "3", "--batch-size", "4", "--lr", "0.05"]

    def files(out):
        with open(out.with_suffix(".csv")) as fh:
            log = [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]
        return log, torch.load(out, weights_only=True), torch.load(out.with_suffix(".resume.pt"), weights_only=True)

    def same(a, b):
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b

    clean = tmp_path / "clean.pt"
    renames = []
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append(Path(dst).name), real_replace(src, dst)))
    assert main(train_args(texture_folder, clean, *epochs)) == 0
    expected = files(clean)
    assert [row["epoch"] for row in expected[0]] == ["1", "2", "3"]
    assert expected[1]["training"]["epoch"] == int(max(expected[0], key=lambda r: float(r["map"]))["epoch"])
    first_state = renames.index("clean.resume.pt")

    for k in range(len(renames)):
        for after in (False, True):
            out = tmp_path / f"k{k}{'a' if after else 'b'}.pt"
            count = iter(range(10**6))

            def killing_replace(src, dst, k=k, after=after, count=count):
                if next(count) == k:
                    if after:
                        real_replace(src, dst)
                    raise Killed
                real_replace(src, dst)

            monkeypatch.setattr(os, "replace", killing_replace)
            with pytest.raises(Killed):
                main(train_args(texture_folder, out, *epochs))
            monkeypatch.setattr(os, "replace", real_replace)
            capsys.readouterr()
            advice, commands = [], []
            while (status := main(train_args(texture_folder, out, *epochs, *advice))) != 0:
                assert status == 2 and len(commands) < 3, commands
                err = capsys.readouterr().err
                commands.append(err)
                advice = ["--resume"] if "--resume" in err.split("replace it with")[0] else ["--overwrite"]
            needed_overwrite = any("--overwrite" in c and "--resume" not in c for c in commands)
            done = k + after  # renames finished before the kill
            assert needed_overwrite == (0 < done <= first_state), (k, after, commands)
            log, checkpoint, state = files(out)
            assert log == expected[0], (k, after)
            assert same(checkpoint, expected[1]) and same(state, expected[2]), (k, after)


def test_a_damaged_or_foreign_resume_state_is_one_line_that_does_not_loop(
    texture_folder, tmp_path, narrow_training, capsys
):
    out = tmp_path / "m.pt"
    assert main(train_args(texture_folder, out, "--epochs", "1", "--batch-size", "4")) == 0
    state = out.with_suffix(".resume.pt")
    whole = state.read_bytes()
    saved = torch.load(state, weights_only=True)
    damaged = {
        "truncated": whole[: len(whole) // 2],
        "text": b"epoch: 1\n",
        "no optimiser": saved | {"optimizer": 5},
        "other shapes": saved | {"model": {k: v[:1] for k, v in saved["model"].items()}},
    }
    for name, content in damaged.items():
        if isinstance(content, bytes):
            state.write_bytes(content)
        else:
            torch.save(content, state)
        assert main(train_args(texture_folder, out, "--epochs", "2", "--batch-size", "4", "--resume")) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(state) in err and "start again with --overwrite" in err, (name, err)
    assert main(train_args(texture_folder, out, "--epochs", "2", "--batch-size", "4", "--overwrite")) == 0


def test_resume_refuses_other_settings_and_names_them(texture_folder, tmp_path, narrow_training, capsys):
    """Before: a new --lr was silently ignored (the saved optimiser's ran on), and a new --batch-size,
    --seed or --size was mixed into the resumed run."""
    out = tmp_path / "m.pt"
    assert main(train_args(texture_folder, out, "--epochs", "1", "--batch-size", "4")) == 0
    state = out.with_suffix(".resume.pt")
    before = state.read_bytes()
    other = ["--batch-size", "3", "--lr", "0.01", "--seed", "1", "--size", "256", "--pretrained"]
    assert main(train_args(texture_folder, out, "--epochs", "2", *other, "--resume")) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"{state} is a run with other settings" in err, err
    for change in ("--size: saved 224, given 256", "--batch-size: saved 4, given 3", "--lr: saved 0.001, given 0.01"):
        assert change in err, err
    assert "--seed: saved 0, given 1" in err and "--pretrained: saved off, given on" in err and "--epochs:" not in err
    assert state.read_bytes() == before
    assert main(train_args(texture_folder, out, "--epochs", "2", "--batch-size", "4", "--resume")) == 0  # more epochs
    assert torch.load(state, weights_only=True)["epoch"] == 2


def test_a_missing_checkpoint_is_rebuilt_only_when_the_state_holds_it(
    texture_folder, tmp_path, narrow_training, capsys
):
    out = tmp_path / "m.pt"
    assert main(train_args(texture_folder, out, "--epochs", "1", "--batch-size", "4")) == 0
    best = torch.load(out, weights_only=True)
    out.unlink()  # the state's own epoch is the best: the checkpoint is its model
    assert main(train_args(texture_folder, out, "--epochs", "1", "--batch-size", "4", "--resume")) == 0
    again = torch.load(out, weights_only=True)
    assert all(torch.equal(again["state_dict"][k], v) for k, v in best["state_dict"].items())
    state = out.with_suffix(".resume.pt")
    torch.save(torch.load(state, weights_only=True) | {"best_epoch": 0}, state)  # the best is an earlier epoch
    out.unlink()
    assert main(train_args(texture_folder, out, "--epochs", "2", "--batch-size", "4", "--resume")) == 2
    assert "is missing (moved or deleted)" in capsys.readouterr().err


def test_a_diverging_run_stops_with_the_fix(texture_folder, tmp_path, narrow_training, capsys):
    out = tmp_path / "m.pt"
    assert main(train_args(texture_folder, out, "--epochs", "3", "--batch-size", "4", "--lr", "10")) == 2
    err = capsys.readouterr().err
    assert "training diverged in epoch" in err and "lower --lr (now 10)" in err
