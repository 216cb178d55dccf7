"""The CycleGAN archives in ``scripts/datasets/download_pix2pix_dataset.py`` (zips of trainA/trainB/testA/testB) and
``scripts/maintainer/make_demo_cyclegan.py``, on local files only (no network)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.scripts.test_pix2pix_scripts import _load

download_script = _load("datasets/download_pix2pix_dataset")
make_demo = _load("maintainer/make_demo_cyclegan")
UNPAIRED = ("trainA", "trainB", "testA", "testB")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return path


def test_cyclegan_urls_and_names() -> None:
    assert download_script.dataset_url("horse2zebra", unpaired=True) == (
        "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"
    )
    assert download_script.dataset_url("maps", unpaired=True).endswith("/cyclegan/datasets/maps.zip")
    assert download_script.dataset_url("maps").endswith("/pix2pix/datasets/maps.tar.gz")
    with pytest.raises(ValueError, match=r"unknown CycleGAN dataset 'horses'.*monet2photo"):
        download_script.dataset_url("horses", unpaired=True)


def test_main_unpacks_a_local_cyclegan_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = _zip(tmp_path / "horse2zebra.zip", {f"horse2zebra/{s}/1.jpg": b"x" for s in UNPAIRED})
    root = tmp_path / "datasets"
    assert download_script.main(["horse2zebra", "--root", str(root), "--archive", str(archive)]) == 0
    assert all((root / "horse2zebra" / s / "1.jpg").read_bytes() == b"x" for s in UNPAIRED)
    assert "trainA 1 files, trainB 1 files, testA 1 files, testB 1 files" in capsys.readouterr().out
    assert download_script.main(["horse2zebra", "--root", str(root), "--archive", str(tmp_path / "gone.zip")]) == 0
    assert "already exists" in capsys.readouterr().err


def test_a_zip_member_outside_the_root_is_refused_before_writing(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "evil.zip", {"maps/trainA/1.jpg": b"x", "../escaped.txt": b"x"})
    with pytest.raises(download_script.DatasetError, match=r"member '../escaped.txt' would land outside"):
        download_script.unpack(archive, tmp_path / "root", "maps")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "root" / "maps").exists()


def test_the_demo_hides_the_pairing_in_training_and_keeps_it_in_test(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "paired"
    for split, n in (("train", 4), ("test", 2)):
        (src / split).mkdir(parents=True)
        for i in range(n):
            image = Image.new("RGB", (8, 4), (0, 0, 0))
            image.paste((10 * i, 0, 0), (0, 0, 4, 4))  # A: left half
            image.paste((0, 10 * i, 0), (4, 0, 8, 4))  # B: right half
            image.save(src / split / f"{i:04d}.png")
    monkeypatch.setattr("sys.argv", ["make_demo_cyclegan.py", "--src", str(src), "--out", str(tmp_path / "out")])
    make_demo.main()
    out = tmp_path / "out"
    names = {s: sorted(p.name for p in (out / s).iterdir()) for s in UNPAIRED}
    assert names["trainA"] == ["0000.png", "0001.png"] and names["trainB"] == ["0002.png", "0003.png"]
    assert names["testA"] == names["testB"] == ["0000.png", "0001.png"]
    assert Image.open(out / "testA" / "0001.png").getpixel((0, 0)) == (10, 0, 0)
    assert Image.open(out / "testB" / "0001.png").getpixel((0, 0)) == (0, 10, 0)
