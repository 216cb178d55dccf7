"""scripts/datasets/make_edges_dataset.py on a generated slice of the wallpaper package (no download): A|B layout,
1-pixel black-on-white edge maps, scene-disjoint splits, attribution, and a set the pix2pix DataModule reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lightning_gan.data.paired_images import PairedImageDataModule
from tests.scripts.test_pix2pix_scripts import _load

pytest.importorskip("skimage")
script = _load("datasets/make_edges_dataset")


def _drawing(rng: np.random.Generator) -> Image.Image:
    image = Image.new("RGB", (120, 80), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = int(rng.integers(0, 90)), int(rng.integers(0, 50))
        draw.ellipse((x, y, x + 30, y + 30), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return image


UBUNTU_COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: Ubuntu community contributors
License: CC-BY-SA-3.0

Files: Lake_by_Ann_Smith.jpg
       Hill by Bo Li.jpg
Copyright: Ann Smith
           Bo Li
License: CC-BY-SA-4.0

Files: Film_by_Cy_Doe.jpg
License: Unsplash

License: CC-BY-SA-4.0
 The licence text.
"""
#: (file, title): a photograph under the default licence, two under a listed one (one listed with spaces), one
#: under the Unsplash licence (left out), one of the NOT_PHOTOGRAPHS (left out) and one PNG with no author in its name.
UBUNTU_FILES = [
    ("Rock_by_Dee_Ray.jpg", "Rock"),
    ("Lake_by_Ann_Smith.jpg", "Lake"),
    ("Hill_by_Bo_Li.jpg", "Hill"),
    ("Film_by_Cy_Doe.jpg", "Film"),
    ("Black_hole_by_Marek_Koteluk.jpg", "Black hole"),
    ("Meadow.png", "Meadow"),
]


def _fake_ubuntu(root: Path) -> Path:
    """Two ubuntu-wallpapers-* packages extracted into ``root``: images, their XML listings, one debian/copyright."""
    rng = np.random.default_rng(1)
    (root / "usr/share/backgrounds").mkdir(parents=True)
    (root / "usr/share/gnome-background-properties").mkdir(parents=True)
    for release, files in (("lucid", UBUNTU_FILES[:3]), ("focal", UBUNTU_FILES[3:])):
        entries = []
        for name, title in files:
            _drawing(rng).save(root / "usr/share/backgrounds" / name)
            entries.append(
                f"<wallpaper><name>{title}</name><filename>/usr/share/backgrounds/{name}</filename></wallpaper>"
            )
        listing = f'<?xml version="1.0"?><wallpapers>{"".join(entries)}</wallpapers>'
        (root / f"usr/share/gnome-background-properties/{release}-wallpapers.xml").write_text(listing)
        doc = root / f"usr/share/doc/ubuntu-wallpapers-{release}"
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(UBUNTU_COPYRIGHT)
    return root


def _fake_package(root: Path) -> Path:
    """An extracted plasma-workspace-wallpapers with one drawn 'photograph' per scene the script uses."""
    rng = np.random.default_rng(0)
    for i, name in enumerate(script.PHOTOS):
        folder = root / "usr/share/wallpapers" / name
        (folder / "contents/images").mkdir(parents=True)
        _drawing(rng).save(folder / "contents/images/120x80.jpg", quality=95)
        metadata = {"KPlugin": {"Authors": [{"Name": f"Author {i}"}], "License": "LGPLv3", "Name": name}}
        (folder / "metadata.json").write_text(json.dumps(metadata))
    doc = root / "usr/share/doc/plasma-workspace-wallpapers"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nLicense: GPL-2+\n")
    return root


def test_builds_aligned_scene_disjoint_edges_to_photo_pairs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "set"
    args = ["--out", str(out), "--plasma", str(_fake_package(tmp_path / "pkg")), "--size", "32", "--no-ubuntu"]
    assert script.main([*args, "--train", "3", "--val", "2", "--test", "2"]) == 0
    scenes: dict[str, set[str]] = {}
    drawn = []
    for split in script.SPLITS:
        files = sorted((out / split).glob("*.png"))
        scenes[split] = {p.stem.rsplit("_", 1)[0] for p in files}
        assert scenes[split] == {n for n, s in script.PHOTOS.items() if s == split}
        assert len(files) == {"train": 3, "val": 2, "test": 2}[split] * len(scenes[split])
        for path in files:
            pair = np.asarray(Image.open(path).convert("RGB"))
            assert pair.shape == (32, 64, 3)
            edges = pair[:, :32]
            assert set(np.unique(edges)) <= {0, 255} and (edges == edges[:, :, :1]).all()  # black on white
            black = edges[:, :, 0] == 0
            assert black.mean() < 0.5  # mostly paper
            drawn.append(black.any())
            blocks = black[:-1, :-1] & black[1:, :-1] & black[:-1, 1:] & black[1:, 1:]
            assert not blocks.any()  # thinned: no 2 x 2 black block anywhere
    assert np.mean(drawn) > 0.5  # most crops cut through a drawn shape's outline
    assert not (scenes["train"] & scenes["test"]) and not (scenes["train"] & scenes["val"])
    attribution = (out / "ATTRIBUTION.md").read_text()
    assert all(f"| {name} |" in attribution for name in script.PHOTOS) and "Author 0" in attribution
    assert (out / "plasma-workspace-wallpapers.copyright").is_file()
    assert "test: 4 pairs; PSNR identity" in capsys.readouterr().out
    dm = PairedImageDataModule(str(out), load_size=36, crop_size=32, num_workers=0)
    dm.setup("fit")
    assert len(dm.train_set) == 21 and dm.train_set[0]["condition"].shape == (3, 32, 32)


def test_ubuntu_photographs_by_licence_with_hash_splits(tmp_path: Path) -> None:
    root = _fake_ubuntu(tmp_path / "ubuntu")
    photos = {p.name: p for p in script.ubuntu_photos(root)}
    assert sorted(photos) == ["Hill_by_Bo_Li", "Lake_by_Ann_Smith", "Meadow", "Rock_by_Dee_Ray"]
    assert photos["Lake_by_Ann_Smith"].credit == (
        '"Lake" by Ann Smith, licence CC-BY-SA-4.0 (Ubuntu package ubuntu-wallpapers-lucid, Lake_by_Ann_Smith.jpg)'
    )
    assert "licence CC-BY-SA-4.0" in photos["Hill_by_Bo_Li"].credit  # listed as "Hill by Bo Li.jpg"
    assert "licence CC-BY-SA-3.0" in photos["Rock_by_Dee_Ray"].credit  # the catch-all paragraph
    assert photos["Meadow"].credit.startswith('"Meadow" by (see copyright), licence CC-BY-SA-3.0 (Ubuntu package')
    assert all(p.split == script.split_of(p.path.name) for p in photos.values())
    splits = [script.split_of(f"photo_{i}.jpg") for i in range(2000)]
    assert 0.08 < splits.count("test") / 2000 < 0.12 and 0.08 < splits.count("val") / 2000 < 0.12
    with pytest.raises(FileNotFoundError, match=r"no ubuntu-wallpapers-\* package extracted under"):
        script.ubuntu_photos(tmp_path)


def test_builds_from_both_packages_with_both_copyrights(tmp_path: Path) -> None:
    out = tmp_path / "set"
    plasma, ubuntu = _fake_package(tmp_path / "pkg"), _fake_ubuntu(tmp_path / "ubuntu")
    args = ["--out", str(out), "--plasma", str(plasma), "--ubuntu", str(ubuntu), "--size", "32"]
    assert script.main([*args, "--train", "1", "--val", "1", "--test", "1"]) == 0
    written = {p.stem.rsplit("_", 1)[0] for split in script.SPLITS for p in (out / split).glob("*.png")}
    assert written == set(script.PHOTOS) | {"Hill_by_Bo_Li", "Lake_by_Ann_Smith", "Meadow", "Rock_by_Dee_Ray"}
    assert (out / "ubuntu-wallpapers.copyright").is_file() and (out / "plasma-workspace-wallpapers.copyright").is_file()
    assert "Ann Smith, licence CC-BY-SA-4.0" in (out / "ATTRIBUTION.md").read_text()
