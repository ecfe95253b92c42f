"""Write claims: one writer per output, safe on a machine shared with other users and other jobs."""

import hashlib
import os
import subprocess
import sys
import tempfile

import pytest

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.io import claim
from napari_partial_style.core.io.claim import claimed

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX owners, modes and links")

HOLDER = """
import sys, time
from napari_partial_style.core.io.claim import claimed
with claimed(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(60)
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """A claims folder per test: some tests spoil it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def holder(tmp_path):
    """Start a process that claims a path, with its own TMPDIR (as a batch scheduler sets per job)."""
    started = []

    def start(path):
        own_tmp = tmp_path / f"tmp{len(started)}"
        own_tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(own_tmp), "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
        started.append(proc)
        assert proc.stdout.readline().strip() == "holding"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_jobs_with_different_tmpdir_see_each_others_claim(holder, tmp_path, monkeypatch):
    """Claims lived in $TMPDIR: two jobs with their own TMPDIR both wrote the same bundle."""
    out = tmp_path / "out.pstyle"
    proc = holder(out)
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with pytest.raises(InputError, match=f"out.pstyle is being written by process {proc.pid} on "):
        with claimed(out):
            pass


def test_a_killed_holders_claim_is_gone(holder, tmp_path):
    out = tmp_path / "out.pstyle"
    proc = holder(out)
    proc.kill()
    proc.wait()
    with claimed(out):
        pass
    assert list(claim.claims_folder().glob("*.json")) == []


@pytest.mark.parametrize(
    ("held", "wanted", "words"),
    [
        ("B/bundles/x9.pstyle", "B", "B contains .*x9.pstyle, which is being written by process"),
        ("B", "B/bundles/x9.pstyle", "x9.pstyle lies inside .*B, which is being written by process"),
    ],
)
def test_an_output_inside_or_around_a_claimed_one_is_refused(tmp_path, held, wanted, words):
    """A batch --out B and a single run writing B/bundles/x9.pstyle both exited 0, the batch's bundle replacing it."""
    (tmp_path / "B" / "bundles").mkdir(parents=True)
    with claimed(tmp_path / held):
        with pytest.raises(InputError, match=words):
            with claimed(tmp_path / wanted):
                pass
        with claimed(tmp_path / "B" / "bundles" / "y.pstyle" if held != "B" else tmp_path / "C"):
            pass  # a sibling is no overlap
    with claimed(tmp_path / wanted):
        pass  # released


@posix_only
def test_a_link_planted_in_the_old_temporary_claims_folder_is_not_written_through(tmp_path, monkeypatch):
    """The old folder, $TMPDIR/napari-partial-style-claims-USER, could be made by anyone: a `.who`
    link there (its name computable from the output path) made a job overwrite the link's target."""
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    out = tmp_path / "out.pstyle"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    key = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:24]
    for user in ("root", os.environ.get("USER", ""), str(os.getuid())):
        planted = tmp_path / f"napari-partial-style-claims-{user}"
        planted.mkdir(exist_ok=True)
        (planted / f"{key}.who").unlink(missing_ok=True)
        (planted / f"{key}.who").symlink_to(victim)
    with claimed(out):
        pass
    assert victim.read_text() == "precious"


@posix_only
def test_the_claims_folder_is_private(tmp_path):
    folder = claim.claims_folder()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert folder.stat().st_uid == os.getuid()


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (lambda folder, tmp: folder.chmod(0o777), "can be used by other users .mode 777.; run chmod 700"),
        (lambda folder, tmp: (folder.rmdir(), folder.symlink_to(tmp)), "is a link; remove it"),
        (lambda folder, tmp: (folder.rmdir(), folder.write_text("x")), "is not a folder; remove it"),
        (lambda folder, tmp: os.chown(folder, 12345, 12345), "belongs to user 12345, not to you"),
    ],
)
@posix_only
def test_a_claims_folder_others_could_write_in_is_refused(tmp_path, spoil, words):
    folder = claim.claims_folder()
    if "belongs" in words and os.getuid() != 0:
        pytest.skip("only root can give a folder to another user")
    spoil(folder, tmp_path)
    with pytest.raises(InputError, match=words):
        with claimed(tmp_path / "out.pstyle"):
            pass


@pytest.mark.parametrize("which", [0, 1])
def test_a_folder_where_a_claim_file_should_be_is_one_line(tmp_path, which):
    """It was an IsADirectoryError traceback."""
    out = tmp_path / "out.pstyle"
    path = claim.claim_files(claim.claims_folder(), out.resolve())[which]
    path.mkdir()
    with pytest.raises(InputError, match="is a folder where a claim file should be; remove it"):
        with claimed(out):
            pass
    path.rmdir()
    with claimed(out):
        pass


def test_a_relative_cache_home_is_ignored_as_the_xdg_rule_says(tmp_path, monkeypatch):
    """Relative to each job's own folder, two jobs would not see each other's claims."""
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert claim.claims_folder() == tmp_path / ".cache" / "napari-partial-style" / "claims"
