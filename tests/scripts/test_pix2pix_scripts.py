"""Tests for the pix2pix data scripts in ``scripts/datasets/`` and ``scripts/maintainer/make_demo_pix2pix.py``, on
local files only (no network)."""

from __future__ import annotations

import importlib.util
import io
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(script: str) -> ModuleType:
    """``scripts/<script>.py`` (e.g. ``datasets/combine_A_and_B``) imported as a module: the scripts are no package."""
    path = SCRIPTS / f"{script}.py"
    spec = importlib.util.spec_from_file_location(f"_script_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses/typing need the module registered
    spec.loader.exec_module(module)
    return module


download_script = _load("datasets/download_pix2pix_dataset")
combine_script = _load("datasets/combine_A_and_B")
demo_script = _load("maintainer/make_demo_pix2pix")


def _jpeg_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (8, 16, 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _facades_tar(path: Path) -> Path:
    return _tar(
        path, {f"facades/{split}/{i}.jpg": _jpeg_bytes(i) for split in ("train", "val", "test") for i in (1, 2)}
    )


# --- download_pix2pix_dataset.py ------------------------------------------------------------------------------------


def test_dataset_url_and_unknown_name() -> None:
    assert (
        download_script.dataset_url("facades") == "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
    )
    with pytest.raises(ValueError, match=r"unknown pix2pix dataset 'horses'.*edges2shoes"):
        download_script.dataset_url("horses")


def test_main_unpacks_a_local_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = _facades_tar(tmp_path / "facades.tar.gz")
    root = tmp_path / "datasets"
    assert download_script.main(["facades", "--root", str(root), "--archive", str(archive)]) == 0
    for split in ("train", "val", "test"):
        assert sorted(p.name for p in (root / "facades" / split).iterdir()) == ["1.jpg", "2.jpg"]
    assert (root / "facades" / "val" / "2.jpg").read_bytes() == _jpeg_bytes(2)
    assert "train 2 files, val 2 files, test 2 files" in capsys.readouterr().out
    # A second run leaves the existing dataset alone.
    assert download_script.main(["facades", "--root", str(root), "--archive", str(tmp_path / "missing.tgz")]) == 0
    assert "already exists" in capsys.readouterr().err


def test_unpack_refuses_members_outside_the_root(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "evil.tar.gz", {"facades/train/1.jpg": b"x", "../escaped.txt": b"x"})
    with pytest.raises(download_script.DatasetError, match=r"cannot unpack .*evil.tar.gz"):
        download_script.unpack(archive, tmp_path / "root", "facades")
    assert not (tmp_path / "escaped.txt").exists()


def test_unpack_checks_the_archive_holds_the_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = _tar(tmp_path / "maps.tar.gz", {"maps/train/1.jpg": b"x"})
    assert download_script.main(["facades", "--root", str(tmp_path / "r"), "--archive", str(archive)]) == 1
    assert "did not produce" in capsys.readouterr().err
    (tmp_path / "broken.tar.gz").write_bytes(b"not a tar file")
    with pytest.raises(download_script.DatasetError, match=r"cannot unpack .*broken.tar.gz"):
        download_script.unpack(tmp_path / "broken.tar.gz", tmp_path / "r", "facades")


def test_download_streams_with_progress_and_reports_failures(tmp_path: Path) -> None:
    archive = _facades_tar(tmp_path / "facades.tar.gz")
    progress = io.StringIO()
    dest = download_script.download(archive.as_uri(), tmp_path / "dl" / "facades.tar.gz", out=progress)
    assert dest.read_bytes() == archive.read_bytes()
    assert "100.0%" in progress.getvalue()
    missing = (tmp_path / "nothing.tar.gz").as_uri()
    with pytest.raises(download_script.DatasetError, match=r"cannot download .*nothing.tar.gz.*--archive"):
        download_script.download(missing, tmp_path / "dl" / "nothing.tar.gz", out=io.StringIO())
    assert not list((tmp_path / "dl").glob("nothing*"))  # no partial file left behind


# --- combine_A_and_B.py ---------------------------------------------------------------------------------------------


def _save(path: Path, array: np.ndarray) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return array


def test_combine_pastes_a_left_and_b_right_per_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    expected = {}
    for split in ("train", "val"):
        for name in ("1.png", "2.png"):
            a = _save(tmp_path / "A" / split / name, rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
            b = _save(tmp_path / "B" / split / name, rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
            expected[split, name] = np.concatenate([a, b], axis=1)
    args = ["--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), "--out", str(tmp_path / "AB")]
    assert combine_script.main([*args, "--splits", "train", "val"]) == 0
    for (split, name), array in expected.items():
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "AB" / split / name)), array)
    assert "wrote 2 A|B images" in capsys.readouterr().out


def test_combine_resizes_b_with_a_note_or_fails_when_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _save(tmp_path / "A" / "x.png", np.zeros((6, 8), dtype=np.uint8))
    _save(tmp_path / "B" / "x.png", np.full((3, 4), 200, dtype=np.uint8))
    args = ["--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), "--out", str(tmp_path / "AB")]
    assert combine_script.main(args) == 0
    combined = Image.open(tmp_path / "AB" / "x.png")
    assert combined.mode == "L" and combined.size == (16, 6)
    assert np.asarray(combined)[:, 8:].tolist() == [[200] * 8] * 6
    assert "note: " in capsys.readouterr().out
    assert combine_script.main([*args, "--strict"]) == 1
    assert "x.png is 8x6 but" in capsys.readouterr().err


def test_combine_lists_unmatched_names_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pixel = np.zeros((2, 2, 3), dtype=np.uint8)
    for split in ("train", "val"):
        _save(tmp_path / "A" / split / "1.png", pixel)
        _save(tmp_path / "B" / split / "1.png", pixel)
    _save(tmp_path / "A" / "val" / "2.png", pixel)
    _save(tmp_path / "B" / "val" / "2.jpg", pixel)
    args = ["--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), "--out", str(tmp_path / "AB")]
    assert combine_script.main([*args, "--splits", "train", "val"]) == 1
    assert "only in A: [2.png]; only in B: [2.jpg]" in capsys.readouterr().err
    assert not (tmp_path / "AB").exists()


# --- make_demo_pix2pix.py -------------------------------------------------------------------------------------------


def test_make_demo_is_deterministic_and_b_is_a_function_of_a(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--train", "3", "--val", "2", "--test", "1", "--seed", "5"]
    assert demo_script.main(["--out", str(tmp_path / "one"), *args]) == 0
    out = capsys.readouterr().out
    assert "val PSNR baseline, output = A:" in out and "output = 0 (mid-grey)" in out
    assert demo_script.main(["--out", str(tmp_path / "two"), *args]) == 0
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.png"))
    assert [str(f) for f in files] == [
        "test/0000.png",
        "train/0000.png",
        "train/0001.png",
        "train/0002.png",
        "val/0000.png",
        "val/0001.png",
    ]
    for f in files:
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes()
        assert Image.open(tmp_path / "one" / f).size == (128, 64)
    readme = (tmp_path / "one" / "README.md").read_text()
    assert "MIT licence" in readme and "| output = A |" in readme
    # The noise-free part of B depends on A only: the same label map rendered with two noise draws differs by noise.
    labels = demo_script.make_labels(np.random.default_rng(1), 64)
    first = demo_script.render_photo(labels, np.random.default_rng(2)).astype(float)
    second = demo_script.render_photo(labels, np.random.default_rng(3)).astype(float)
    assert 0 < np.abs(first - second).mean() < 2 * demo_script.NOISE_STD
