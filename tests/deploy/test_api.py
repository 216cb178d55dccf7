"""``lightning_gan.deploy.api``: ``load_generator(ckpt)`` gives what ``python -m lightning_gan predict`` writes, for
images of
any size and channel count (pix2pix) and audio of any length and rate (SEGAN); DCGAN samples are seeded without
touching the caller's random state; a generator asked for the wrong thing says what to use instead.

SEGAN's noise would make two runs differ, so its model here is built with ``latent: false`` (deterministic G).
"""

import shlex
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from PIL import Image

from lightning_gan.cli import main as cli_main
from lightning_gan.data.wav import write_wav
from lightning_gan.deploy.api import Generator, load_generator
from lightning_gan.errors import CheckpointError
from tests.deploy.test_export import DCGAN, PIX2PIX, SEGAN, fit_one_batch, speech_corpus

RUN = [
    "--trainer.logger", "false", "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
    "--trainer.accelerator", "cpu",
]  # fmt: skip
SEGAN_DETERMINISTIC = [*SEGAN, "--model.generator.init_args.latent", "false"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], Path]]:
    """Per family: the CLI arguments of its tiny model and its checkpoint after one training batch."""
    tmp = tmp_path_factory.mktemp("api_runs")
    segan = [*SEGAN_DETERMINISTIC, "--data.init_args.root", str(speech_corpus(tmp / "corpus"))]
    return {
        "pix2pix": (PIX2PIX, fit_one_batch(PIX2PIX, tmp / "pix2pix", batches=2)),
        "segan": (segan, fit_one_batch(segan, tmp / "segan")),
        "dcgan": (DCGAN, fit_one_batch(DCGAN, tmp / "dcgan")),
    }


@pytest.fixture(scope="module")
def generators(runs: dict[str, tuple[list[str], Path]]) -> dict[str, Generator]:
    return {family: load_generator(checkpoint, device="cpu") for family, (_, checkpoint) in runs.items()}


def predict(args: list[str], checkpoint: Path, inputs: Path, out: Path) -> None:
    cli_main([
        "predict", *args, *RUN, "--ckpt_path", str(checkpoint), "--data.init_args.predict_dir", str(inputs),
        "--prediction_writer.output_dir", str(out), "--trainer.default_root_dir", str(out.parent / "root"),
    ])  # fmt: skip


# ---------------------------------------------------------------------------------------------------- pix2pix
def write_images(folder: Path) -> list[str]:
    """RGB images at and off the U-Net's multiple of 64, and an RGBA one (composited over white as predict does)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / "square.png")
    Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(folder / "odd.png")
    Image.fromarray(rng.integers(0, 256, (40, 72, 4), dtype=np.uint8), mode="RGBA").save(folder / "alpha.png")
    return ["alpha.png", "odd.png", "square.png"]


def test_translate_gives_the_images_predict_writes(runs, generators: dict[str, Generator], tmp_path: Path) -> None:
    names = write_images(tmp_path / "in")
    args, checkpoint = runs["pix2pix"]
    predict(args, checkpoint, tmp_path / "in", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    generator = generators["pix2pix"]
    for name in names:
        written = np.asarray(Image.open(tmp_path / "out" / name))
        translated = generator.translate(tmp_path / "in" / name)
        assert translated.mode == "RGB" and translated.size == Image.open(tmp_path / "in" / name).size
        np.testing.assert_array_equal(np.asarray(translated), written)
        # A PIL image in any mode is converted as the file is.
        with Image.open(tmp_path / "in" / name) as picture:
            np.testing.assert_array_equal(np.asarray(generator.translate(picture)), written)
        np.testing.assert_array_equal(np.asarray(generator.translate(str(tmp_path / "in" / name))), written)


def test_translate_turns_an_image_upright_as_its_exif_orientation_says(generators, tmp_path: Path) -> None:
    """A camera's portrait photo is stored landscape with an orientation tag: the file and the opened image give the
    same upright (portrait) translation."""
    stored = Image.fromarray(np.random.default_rng(2).integers(0, 256, (48, 80, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    stored.save(tmp_path / "portrait.jpg", exif=exif)
    generator = generators["pix2pix"]
    from_file = generator.translate(tmp_path / "portrait.jpg")
    with Image.open(tmp_path / "portrait.jpg") as opened:
        from_image = generator.translate(opened)
    assert from_file.size == from_image.size == (48, 80)
    np.testing.assert_array_equal(np.asarray(from_image), np.asarray(from_file))


def test_translate_uses_the_inference_generator(generators: dict[str, Generator]) -> None:
    generator = generators["pix2pix"]
    assert generator.info.ema and generator.module.inference_generator is generator.module.generator_ema.module
    assert generator.info.family == "pix2pix" and generator.module.training is False


# ---------------------------------------------------------------------------------------------------- SEGAN
def write_waves(folder: Path) -> dict[str, tuple[int, int]]:
    """``{name: (frames, rate)}``: shorter than a window, several windows, and 48 kHz (resampled to 16 kHz)."""
    rng = np.random.default_rng(1)
    waves = {"short": (700, 16000), "long": (5000, 16000), "fast": (3001, 48000)}
    folder.mkdir(parents=True)
    for name, (frames, rate) in waves.items():
        soundfile.write(folder / f"{name}.wav", rng.uniform(-0.4, 0.4, frames), rate, subtype="PCM_16")
    return waves


def test_enhance_gives_the_audio_predict_writes(runs, generators: dict[str, Generator], tmp_path: Path) -> None:
    waves = write_waves(tmp_path / "in")
    args, checkpoint = runs["segan"]
    predict(args, checkpoint, tmp_path / "in", tmp_path / "out")
    generator = generators["segan"]
    assert (generator.info.sample_rate, generator.info.pre_emphasis, generator.info.latent) == (16000, 0.95, False)
    for name, (frames, rate) in waves.items():
        enhanced = generator.enhance(tmp_path / "in" / f"{name}.wav")
        assert enhanced.ndim == 1 and enhanced.dtype == torch.float32
        assert enhanced.numel() == -(-frames * 16000 // rate)  # the input's length at the model's rate
        # The writer's 16-bit samples, compared as 16-bit samples.
        write_wav(tmp_path / "api" / f"{name}.wav", enhanced, 16000)
        written, _ = soundfile.read(tmp_path / "out" / f"{name}.wav", dtype="int16")
        ours, _ = soundfile.read(tmp_path / "api" / f"{name}.wav", dtype="int16")
        np.testing.assert_array_equal(ours, written)


def test_enhance_resamples_a_tensor_as_it_resamples_a_file(generators: dict[str, Generator], tmp_path: Path) -> None:
    write_waves(tmp_path / "in")
    generator = generators["segan"]
    from_file = generator.enhance(str(tmp_path / "in" / "fast.wav"))
    samples, rate = soundfile.read(tmp_path / "in" / "fast.wav", dtype="float32")
    from_tensor = generator.enhance(torch.from_numpy(samples)[None], sample_rate=rate)
    torch.testing.assert_close(from_tensor, from_file, rtol=0, atol=1e-6)
    at_model_rate = torch.rand(1, 1, 2500) - 0.5
    assert generator.enhance(at_model_rate, sample_rate=16000).shape == (2500,)
    torch.testing.assert_close(generator.enhance(at_model_rate), generator.enhance(at_model_rate[0, 0]))


def test_enhance_refuses_non_finite_samples(generators: dict[str, Generator], tmp_path: Path) -> None:
    """One NaN would make every output sample NaN (overlapping windows), with no error: refused, and located."""
    wave = torch.rand(3000) - 0.5
    wave[1234], wave[2000] = float("nan"), float("inf")
    where = r"2 NaN or infinite sample\(s\) of 3000, the first at index 1234 \(nan\)"
    with pytest.raises(ValueError, match=rf"enhance\(\): the waveform has {where}.*torch\.nan_to_num"):
        generators["segan"].enhance(wave)
    with pytest.raises(ValueError, match=where):  # checked before resampling: indices of the caller's tensor
        generators["segan"].enhance(wave[None], sample_rate=48000)
    samples = np.zeros(2000, dtype=np.float32)
    samples[700] = np.nan
    soundfile.write(tmp_path / "nan.wav", samples, 16000, subtype="FLOAT")
    with pytest.raises(ValueError, match=r"nan\.wav.*1 NaN or infinite sample"):
        generators["segan"].enhance(tmp_path / "nan.wav")


# ---------------------------------------------------------------------------------------------------- DCGAN
def test_sample_is_seeded_and_leaves_the_callers_random_state_alone(generators: dict[str, Generator]) -> None:
    generator = generators["dcgan"]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    images = generator.sample(5, seed=0)
    assert torch.equal(torch.get_rng_state(), state)
    assert images.shape == (5, 1, 32, 32) and images.abs().max() <= 1.0
    torch.testing.assert_close(generator.sample(5, seed=0), images, rtol=0, atol=0)
    assert not torch.equal(generator.sample(5, seed=1), images)
    assert not torch.equal(generator.sample(5), generator.sample(5))  # unseeded: the global RNG, as predict


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("family", "call", "expected"),
    [
        ("segan", lambda g: g.translate(Image.new("RGB", (8, 8))), "use enhance()"),
        ("pix2pix", lambda g: g.enhance(torch.zeros(100)), "use translate()"),
        ("pix2pix", lambda g: g.sample(2), "use translate()"),
        ("dcgan", lambda g: g.translate(Image.new("RGB", (8, 8))), "use sample()"),
    ],
    ids=["translate_on_segan", "enhance_on_pix2pix", "sample_on_pix2pix", "translate_on_dcgan"],
)
def test_wrong_use_says_what_to_use_instead(generators: dict[str, Generator], family: str, call, expected: str):
    with pytest.raises(ValueError, match=expected):
        call(generators[family])


def test_bad_arguments_are_refused(generators: dict[str, Generator], tmp_path: Path) -> None:
    write_waves(tmp_path / "in")
    with pytest.raises(ValueError, match="sample_rate is for tensors"):
        generators["segan"].enhance(tmp_path / "in" / "short.wav", sample_rate=16000)
    with pytest.raises(ValueError, match=r"one waveform .* got \(2, 100\)"):
        generators["segan"].enhance(torch.zeros(2, 100))
    with pytest.raises(ValueError, match="n >= 1"):
        generators["dcgan"].sample(0)
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_generator(tmp_path / "missing.ckpt")


def test_a_checkpoint_that_plants_a_command_is_refused_before_it_runs(runs, tmp_path: Path) -> None:
    """``weights_only=True`` is not enough: the hyper-parameters' class paths are imported and called."""
    _, checkpoint = runs["dcgan"]
    state = torch.load(checkpoint, weights_only=True)
    marker = tmp_path / "pwned"
    command = f"touch {shlex.quote(str(marker))}"
    state["hyper_parameters"]["g_optimizer"] = {"class_path": "os.system", "init_args": {"command": command}}
    torch.save(state, tmp_path / "planted.ckpt")
    refused = r"refusing to load checkpoint .*planted\.ckpt: hyper_parameters\.g_optimizer\.class_path is 'os\.system'"
    with pytest.raises(CheckpointError, match=rf"{refused}.*LIGHTNING_GAN_TRUSTED_MODULES=os "):
        load_generator(tmp_path / "planted.ckpt", device="cpu")
    assert not marker.exists()
