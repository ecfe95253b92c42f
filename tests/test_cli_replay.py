"""`replay`: a bundle's job run again from what it records, compared layer by layer."""

import zipfile

import numpy as np
import pytest
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle


def test_replay_matches_its_own_bundle_and_names_a_changed_layer(hub, tmp_path, capsys):
    inputs = write_inputs(tmp_path)
    out = tmp_path / "job.pstyle"
    assert main(run_args(inputs, out, "--style-network", "tiny", "--label-values", "1")) == 0
    manifest = read_bundle(out).manifest
    assert manifest["labels_given"] and manifest["replay"]["threads"] >= 1
    capsys.readouterr()
    assert main(["replay", str(out)]) == 0
    said = capsys.readouterr().out
    assert "composite  ok       largest 0," in said and "labels     ok" in said and "replay matches" in said
    assert "pixel_accuracy     saved" in said
    changed = tmp_path / "changed.pstyle"  # the same bundle whose labels were painted afterwards
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(changed, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
    bundle = read_bundle(changed)
    assert np.count_nonzero(bundle.labels) > 0
    with zipfile.ZipFile(out) as src:
        stylized = src.read("stylized.png")
    with zipfile.ZipFile(changed, "w") as dst, zipfile.ZipFile(out) as src:
        for item in src.infolist():
            dst.writestr(item, src.read(item) if item.filename != "composite.png" else stylized)
    assert main(["replay", str(changed)]) == 1
    said = capsys.readouterr().out
    assert "composite  DIFFERS" in said and "stylized   ok" in said and "replay differs" in said


@pytest.mark.parametrize("bad", ["missing.pstyle", "notes.txt"])
def test_replay_of_something_that_is_no_bundle_is_one_line(tmp_path, capsys, bad):
    (tmp_path / "notes.txt").write_text("not a bundle")
    assert main(["replay", str(tmp_path / bad)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
