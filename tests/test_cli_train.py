"""`train` and `weights`: flags that contradict each other, and where the weight files are."""

import pytest

from napari_partial_style.cli import main


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--classes", "brick,Brick,stone"], "--classes names Brick, brick more than once"),
        (["--resume", "--overwrite"], "--resume continues the run of --out and --overwrite starts it afresh"),
    ],
)
def test_train_refuses_flags_that_contradict_or_repeat(tmp_path, capsys, extra, words):
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "m.pt"), *extra]) == 2
    assert words in capsys.readouterr().err and not (tmp_path / "m.pt").exists()


def test_weights_command_lists_files_and_state(hub, tmp_path, monkeypatch, capsys):
    assert main(["weights"]) == 0
    out = capsys.readouterr().out
    assert out.count("found: " + str(hub)) == 2
    assert out.count("not torchvision's") == 2  # the tests' random weights: PyTorch files, other sha256
    (tmp_path / "text.png").write_text("not weights")
    assert main(["weights", "--vgg19", str(tmp_path / "text.png")]) == 1
    assert "but it is a text file, not PyTorch weights" in capsys.readouterr().out
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    assert main(["weights"]) == 0
    out = capsys.readouterr().out
    assert out.count("missing") == 2
    assert "curl -L -o" in out and "https://download.pytorch.org/models/vgg16-397923af.pth" in out


def test_demo_offline_without_weights_says_what_to_download(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("NAPARI_PARTIAL_STYLE_OFFLINE", "1")
    assert main(["demo", "--out", str(tmp_path / "d.pstyle")]) == 2
    err = capsys.readouterr().err
    assert "vgg19-dcbb9e9d.pth" in err and "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in err
    assert "Traceback" not in err
    assert not (tmp_path / "d.pstyle").exists()
