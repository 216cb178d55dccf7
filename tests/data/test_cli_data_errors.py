"""Bad training data through the command line, as a user meets it (issue 25): one line ``lightning_gan: error: ...``
naming the culprit, exit status 2, no traceback: a NaN in a training WAV, a batch larger than the training set, and a
training image damaged so that it fails only when a DataLoader worker decodes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from lightning_gan.cli import console
from tests.conftest import CONFIGS

RUN = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
       "--trainer.num_sanity_val_steps", "0", "--trainer.accelerator", "cpu", "--trainer.logger", "false",
       "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str]:
    """``lightning_gan fit *args`` in this process: (exit status, the error message line(s))."""
    try:
        console(["fit", *args, *RUN, "--trainer.default_root_dir", str(tmp_path / "runs")])
        code = 0
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return code, err[err.index("lightning_gan: error: ") :]


def test_batch_size_above_the_training_digits_is_one_message(capsys, tmp_path: Path) -> None:
    """It exited 0 with "No training batches" and no checkpoint."""
    digits = ["--config", str(CONFIGS / "dcgan_digits.yaml"), "--model.generator.init_args.ngf", "8",
              "--model.discriminator.init_args.ndf", "8"]  # fmt: skip
    _, message = run(capsys, tmp_path, *digits, "--data.init_args.batch_size", "5000")
    assert message.splitlines()[0] == (
        "lightning_gan: error: batch_size=5000 is more than the 1438 training digits in the digits' training split "
        "(val_fraction=0.2): incomplete batches are dropped, so not one batch would train. Set "
        "--data.init_args.batch_size to at most 1438, or add training data"
    )
    assert not list(tmp_path.rglob("*.ckpt"))


def test_a_nan_in_a_training_wav_is_one_message_before_training(capsys, tmp_path: Path) -> None:
    """It was found only when a random window covered it: a 2-batch run exited 0."""
    rng = np.random.default_rng(0)
    root = tmp_path / "corpus"
    for split, names in (("train", ["p001_001", "p001_002", "p002_001"]), ("test", ["p009_001"])):
        for name in names:
            clean = rng.uniform(-0.3, 0.3, 16000).astype(np.float32)
            noisy = clean + rng.uniform(-0.1, 0.1, 16000).astype(np.float32)
            if name == "p001_002":
                noisy[12345] = np.nan  # one sample: the few windows of a 2-batch run do not cover it
            for kind, wave in (("clean", clean), ("noisy", noisy)):
                (root / f"{kind}_{split}set_wav").mkdir(parents=True, exist_ok=True)
                soundfile.write(root / f"{kind}_{split}set_wav" / f"{name}.wav", wave, 16000, subtype="FLOAT")
    segan = ["--config", str(CONFIGS / "segan_demo.yaml"), "--data.init_args.root", str(root),
             "--model.generator.init_args.channels", "[8, 16]", "--model.discriminator.init_args.channels", "[8, 16]",
             "--data.init_args.window", "256", "--data.init_args.hop", "128", "--data.init_args.batch_size", "2",
             "--data.init_args.cache_dir", "null",
             "--model.objective.init_args.reconstruction", "lightning_gan.objectives.L1Loss"]  # fmt: skip
    _, message = run(capsys, tmp_path, *segan)
    bad = root / "noisy_trainset_wav" / "p001_002.wav"
    assert message.splitlines()[0] == (
        f"lightning_gan: error: audio file {bad} contains 1 NaN or infinite samples, the first at sample 12345 "
        "(0.772 s); expected finite samples. Fix the file or remove it from the corpus"
    )


def test_a_training_image_that_fails_in_a_dataloader_worker_is_one_message(capsys, tmp_path: Path) -> None:
    """Its name was at the end of a 161-line traceback. The header is intact, so setup passes; decoding fails in the
    worker, as for a file damaged or deleted between epochs."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    bad = folder / "3.png"
    bad.write_bytes(bad.read_bytes()[:200])
    dcgan = ["--config", str(CONFIGS / "dcgan_folder.yaml"), "--data.init_args.root", str(folder),
             "--data.init_args.image_size", "16", "--data.init_args.batch_size", "4",
             "--data.init_args.num_workers", "1", "--data.init_args.flip", "false",
             "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4"]  # fmt: skip
    _, message = run(capsys, tmp_path, *dcgan)
    first = message.splitlines()[0]
    assert first.startswith(f"lightning_gan: error: cannot read image {bad}: "), message
    assert first.endswith("Replace the file with a readable image or remove it from the folder"), message
    assert len(message.splitlines()) <= 2, message  # the message and the LIGHTNING_GAN_DEBUG hint
