"""The shared output checks: an output folder apart from its inputs (symbolic links seen through), no write through
a symbolic link out of the output folder, and files written whole or not at all (a full disk leaves nothing)."""

import errno
import os
from collections import namedtuple
from pathlib import Path

import pytest
import soundfile

from lightning_gan.errors import ConfigError
from lightning_gan.training import output_paths
from lightning_gan.training.output_paths import (
    OutputWriteError,
    check_apart,
    relation,
    same_file,
    target_inside,
    write_atomically,
)


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    inputs = tmp_path / "project" / "inputs"
    inputs.mkdir(parents=True)
    (inputs / "a.png").write_bytes(b"input a")
    (tmp_path / "link_to_inputs").symlink_to(inputs)
    return tmp_path / "project", inputs


def test_relation_sees_through_symbolic_links_and_needs_no_existing_output(tmp_path: Path) -> None:
    project, inputs = _tree(tmp_path)
    assert relation(inputs, inputs) == "the same folder as"
    assert relation(tmp_path / "link_to_inputs", inputs) == "the same folder as"
    assert relation(inputs / "out", inputs) == "inside"  # does not exist yet
    assert relation(tmp_path / "link_to_inputs" / "out" / "deeper", inputs) == "inside"
    assert relation(project, inputs) == "around"
    assert relation(project / "predictions", inputs) is None
    assert relation(tmp_path / "inputs_elsewhere", inputs) is None
    assert relation(project / "inputs2", inputs) is None  # a name that starts like the input folder's is apart


def test_check_apart_names_both_keys_and_suggests_a_folder_apart(tmp_path: Path) -> None:
    _, inputs = _tree(tmp_path)
    with pytest.raises(ConfigError) as raised:
        check_apart(tmp_path / "link_to_inputs", "--out", inputs, "--in")
    message = str(raised.value)
    assert message.startswith(f"--out {tmp_path / 'link_to_inputs'} is the same folder as the input folder --in")
    assert "Nothing was written" in message and f"--out {inputs.parent / 'inputs_predictions'}" in message
    assert "\n" not in message
    check_apart(inputs.parent / "inputs_predictions", "--out", inputs, "--in")  # the suggestion is accepted


def test_a_link_to_a_folder_outside_the_output_folder_is_refused_by_name(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "class_0").symlink_to(outside)
    with pytest.raises(ConfigError, match=r"class_0 is a symbolic link to .*elsewhere, outside the output folder"):
        target_inside(root, "class_0/sample_00000.png", "--out")
    for name in ("../x.png", "/tmp/x.png"):
        with pytest.raises(ConfigError, match="leaves the output folder"):
            target_inside(root, name, "--out")
    (root / "inner").mkdir()
    (root / "alias").symlink_to(root / "inner")  # a link that stays inside is fine
    assert target_inside(root, "alias/x.png", "--out") == root / "alias" / "x.png"


def test_a_link_or_hard_link_in_the_files_place_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim, kept = tmp_path / "victim.txt", tmp_path / "kept.txt"
    victim.write_bytes(b"precious")
    kept.write_bytes(b"also precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").symlink_to(victim)
    os.link(kept, out / "b.png")
    for name in ("a.png", "b.png"):
        write_atomically(out / name, lambda path: path.write_bytes(b"new"), "--out")
        assert (out / name).read_bytes() == b"new" and not (out / name).is_symlink()
    assert victim.read_bytes() == b"precious" and kept.read_bytes() == b"also precious"


def _full_disk(path: Path) -> None:
    path.write_bytes(b"\x89PNG half a fi")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_leaves_no_partial_file_and_the_earlier_file_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.png").write_bytes(b"earlier output")
    for name, before in (("new.png", None), ("old.png", b"earlier output")):
        with pytest.raises(OutputWriteError) as raised:
            write_atomically(out / name, _full_disk, "--out")
        assert str(raised.value).startswith(f"cannot write {out / name}: No space left on device. No partial file")
        assert raised.value.errno == errno.ENOSPC and "--out" in str(raised.value)
        assert (out / name).read_bytes() == before if before else not (out / name).exists()
    assert sorted(p.name for p in out.iterdir()) == ["old.png"]  # no temporary folder left either


def test_an_audio_write_error_without_errno_on_a_full_disk_says_so(tmp_path: Path, monkeypatch) -> None:
    """libsndfile reports a full disk as "System error." with no errno: the free space tells."""

    def failing(path: Path) -> None:
        path.write_bytes(b"RIFF")
        raise soundfile.LibsndfileError(2, "Error opening file: ")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(output_paths.shutil, "disk_usage", lambda folder: usage(100, 100, 0))
    out = tmp_path / "out"
    with pytest.raises(OutputWriteError, match=r"No space left on device \(0 bytes free in .*\)\. No partial file"):
        write_atomically(out / "x.wav", failing, "--out")
    assert list(out.iterdir()) == []


def test_same_file_sees_symbolic_and_hard_links(tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    (tmp_path / "sym.pt").symlink_to(checkpoint)
    os.link(checkpoint, tmp_path / "hard.pt")
    assert same_file(tmp_path / "sym.pt", checkpoint) and same_file(tmp_path / "hard.pt", checkpoint)
    assert same_file(tmp_path / "sub" / ".." / "model.pt", checkpoint)
    assert not same_file(tmp_path / "model.onnx", checkpoint)
