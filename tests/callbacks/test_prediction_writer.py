"""``predict`` never writes over what the user owns, through the command line as a user meets it: an output folder
that is (or is inside, or holds) the input folder is refused before anything is written; a symbolic link planted in
the output folder is replaced, never written through, and one to a folder outside is refused; a full disk leaves no
0-byte or partial file and stops with one line naming the file.

The models are untrained (``--untrained true``): the files are under test, not the predictions.
"""

import errno
import os
import shutil
from pathlib import Path

import pytest

from lightning_gan.callbacks import prediction_writer
from lightning_gan.cli.app import console
from tests.conftest import ROOT, console_error
from tests.experiments import DCGAN_DIGITS_SMALL

QUIET = ["--trainer.logger", "false", "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu"]
PIX2PIX = [
    "predict", "--config", "configs/pix2pix_demo.yaml", "--untrained", "true",
    "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
    "--data.init_args.num_workers", "0", *QUIET,
]  # fmt: skip
SEGAN = [
    "predict", "--config", "configs/segan_demo.yaml", "--untrained", "true",
    "--model.generator.init_args.channels", "[8, 16, 16, 32]",
    "--model.discriminator.init_args.channels", "[8, 16, 16, 32]",
    "--data.init_args.window", "2048", "--data.init_args.hop", "1024", "--data.init_args.num_workers", "0",
    "--data.init_args.cache_dir", "null", *QUIET,
]  # fmt: skip
DCGAN_COND = [
    "predict", "--config", "configs/dcgan_digits_cond.yaml", "--untrained", "true", *DCGAN_DIGITS_SMALL,
    "--data.init_args.num_predict", "2", *QUIET,
]  # fmt: skip
SOURCES = {"pix2pix": ROOT / "data/pix2pix_demo/test", "segan": ROOT / "data/speech_demo/noisy_testset_wav"}


def _inputs(folder: Path, family: str) -> dict[str, bytes]:
    """Two of the demo's inputs in ``folder``; returns their bytes by name."""
    folder.mkdir(parents=True)
    for path in sorted(SOURCES[family].iterdir())[:2]:
        shutil.copy(path, folder / path.name)
    return _snapshot(folder)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _runs(tmp_path: Path) -> list[str]:
    """The run folder (where predict saves its config) in the test's temporary folder, not the repository's."""
    return ["--trainer.default_root_dir", str(tmp_path / "runs")]


@pytest.mark.parametrize(
    ("family", "layout"),
    [("pix2pix", "same"), ("pix2pix", "link"), ("pix2pix", "inside"), ("pix2pix", "around"), ("segan", "same")],
)
def test_an_output_folder_that_is_inside_or_around_the_inputs_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture, family: str, layout: str
) -> None:
    inputs = tmp_path / "project" / "in"
    before = _inputs(inputs, family)
    (tmp_path / "link").symlink_to(inputs)
    output = {"same": inputs, "link": tmp_path / "link", "inside": inputs / "out", "around": tmp_path / "project"}
    args = ["--data.init_args.predict_dir", str(inputs), "--prediction_writer.output_dir", str(output[layout])]
    message = console_error([*(PIX2PIX if family == "pix2pix" else SEGAN), *args, *_runs(tmp_path)], capsys)
    where = {"same": "is the same folder as", "link": "is the same folder as", "inside": "is inside"}
    assert message.startswith(
        f"--prediction_writer.output_dir {output[layout]} {where.get(layout, 'contains')} the input folder "
        f"--data.init_args.predict_dir {inputs}"
    )
    assert "Nothing was written; choose a folder apart from the inputs, e.g. --prediction_writer.output_dir " in message
    assert _snapshot(tmp_path / "project") == {f"in/{name}": data for name, data in before.items()}


def test_a_link_planted_in_the_output_folder_is_replaced_and_the_file_it_points_to_is_untouched(
    tmp_path: Path,
) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    names = list(_inputs(inputs, "pix2pix"))
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"a file of the user's, outside the output folder\n")
    out.mkdir()
    (out / names[0]).symlink_to(victim)
    args = ["--data.init_args.predict_dir", str(inputs), "--prediction_writer.output_dir", str(out)]
    args += ["--overwrite", "true"]  # a folder holding files is refused otherwise (issue #26)
    console([*PIX2PIX, *args, *_runs(tmp_path)])
    assert victim.read_bytes() == b"a file of the user's, outside the output folder\n"
    assert not (out / names[0]).is_symlink() and (out / names[0]).read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in out.iterdir()) == names


def test_a_link_to_a_folder_outside_the_output_folder_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "sample_00000.png").write_bytes(b"not a prediction\n")
    (out / "class_0").symlink_to(elsewhere)  # predict writes class_0/sample_00000.png
    args = ["--prediction_writer.output_dir", str(out), "--overwrite", "true"]
    message = console_error([*DCGAN_COND, *args, *_runs(tmp_path)], capsys)
    assert message.startswith(
        f"refusing to write {out / 'class_0' / 'sample_00000.png'}: {out / 'class_0'} is a symbolic link to "
        f"{elsewhere}, outside the output folder {out} (--prediction_writer.output_dir)"
    )
    assert _snapshot(elsewhere) == {"sample_00000.png": b"not a prediction\n"}


def test_a_full_disk_leaves_no_partial_file_and_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    names = list(_inputs(inputs, "pix2pix"))
    out.mkdir()
    (out / names[0]).write_bytes(b"an earlier prediction\n")

    def disk_full(image, path: Path) -> None:  # what PIL does on a full disk: part of the file, then ENOSPC
        Path(path).write_bytes(b"\x89PNG\r\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(prediction_writer, "save_image", disk_full)
    args = ["--data.init_args.predict_dir", str(inputs), "--prediction_writer.output_dir", str(out)]
    args += ["--overwrite", "true"]
    message = console_error([*PIX2PIX, *args, *_runs(tmp_path)], capsys)
    assert message.startswith(f"cannot write {out / names[0]}: No space left on device. No partial file was left")
    assert "--prediction_writer.output_dir" in message
    assert _snapshot(out) == {names[0]: b"an earlier prediction\n"}  # no 0-byte file, no temporary left
    assert sorted(p.name for p in out.iterdir()) == [names[0]]
