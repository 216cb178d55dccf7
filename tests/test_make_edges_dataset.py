"""scripts/make_edges_dataset.py on a generated slice of the wallpaper package (no download): A|B layout, 1-pixel
black-on-white edge maps, scene-disjoint splits, attribution, and a set the pix2pix DataModule reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lightning_gan.data.paired_images import PairedImageDataModule
from tests.test_scripts_pix2pix import _load

pytest.importorskip("skimage")
script = _load("make_edges_dataset")


def _fake_package(root: Path) -> Path:
    """An extracted plasma-workspace-wallpapers with one drawn 'photograph' per scene the script uses."""
    rng = np.random.default_rng(0)
    for i, name in enumerate(script.PHOTOS):
        folder = root / "usr/share/wallpapers" / name
        (folder / "contents/images").mkdir(parents=True)
        image = Image.new("RGB", (120, 80), tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(image)
        for _ in range(6):
            x, y = int(rng.integers(0, 90)), int(rng.integers(0, 50))
            draw.ellipse((x, y, x + 30, y + 30), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        image.save(folder / "contents/images/120x80.jpg", quality=95)
        metadata = {"KPlugin": {"Authors": [{"Name": f"Author {i}"}], "License": "LGPLv3", "Name": name}}
        (folder / "metadata.json").write_text(json.dumps(metadata))
    doc = root / "usr/share/doc/plasma-workspace-wallpapers"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nLicense: GPL-2+\n")
    return root


def test_builds_aligned_scene_disjoint_edges_to_photo_pairs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "set"
    args = ["--out", str(out), "--source", str(_fake_package(tmp_path / "pkg")), "--size", "32"]
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
