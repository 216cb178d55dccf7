"""The SEGAN configs end to end: the paper config's numbers, the VBN reference callback, enhancing files of any length
and rate with ``predict``, and a short fit that enhances."""

import copy
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile
import torch
from lightning import Trainer
from torch import Tensor, nn

from lightning_gan.callbacks import PredictionWriter
from lightning_gan.callbacks.vbn_reference import VirtualBatchNormReference
from lightning_gan.cli import main
from lightning_gan.data.emphasis import DeEmphasis
from lightning_gan.data.speech import NoisyCleanSpeechDataModule
from lightning_gan.gan import GAN
from lightning_gan.metrics import composite_measures
from lightning_gan.nets.segan import SEGANDiscriminator
from lightning_gan.objectives import PairedTranslation
from lightning_gan.objectives.losses import LeastSquaresLoss
from lightning_gan.whole_input.strategies import OverlapAdd
from tests.conftest import CONFIGS, ROOT

PAPER = CONFIGS / "segan_voicebank.yaml"
DEMO = CONFIGS / "segan_demo.yaml"
DEMO_DATA = ROOT / "data" / "speech_demo"
WINDOW = 1024
DEMO_WINDOW = 2048  # the demo's STFT loss (FFT sizes up to 2048) needs windows of more than 1024 samples

# The demo config at test size: 4 layers of at most 32 maps on 2048-sample windows (a multiple of 2**4).
TINY = [
    "--model.generator.init_args.channels", "[8, 16, 16, 32]",
    "--model.discriminator.init_args.channels", "[8, 16, 16, 32]",
    "--data.init_args.window", str(DEMO_WINDOW),
    "--data.init_args.hop", str(DEMO_WINDOW // 2),
    "--data.init_args.batch_size", "8",
    "--data.init_args.num_workers", "0",
    "--data.init_args.cache_dir", "null",
    "--trainer.logger", "false",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
    "--trainer.num_sanity_val_steps", "0",
    "--trainer.accelerator", "cpu",
]  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few demo utterances in the VoiceBank layout: 3 training, 1 validation (p005), 1 test file."""
    root = tmp_path_factory.mktemp("corpus")
    files = {"trainset": ["p001_001", "p002_001", "p003_001", "p005_001"], "testset": ["p006_001"]}
    for split, names in files.items():
        for kind in ("clean", "noisy"):
            folder = root / f"{kind}_{split}_wav"
            folder.mkdir()
            for name in names:
                shutil.copy(DEMO_DATA / f"{kind}_{split}_wav" / f"{name}.wav", folder / f"{name}.wav")
    return root


def tiny_args(corpus: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--config", str(DEMO), *TINY,
        "--data.init_args.root", str(corpus),
        "--trainer.default_root_dir", str(tmp_path / "runs"),
        *extra,
    ]  # fmt: skip


def references(discriminator: nn.Module) -> list[Tensor]:
    return [t.clone() for norm in discriminator.norms for t in (norm.reference_mean, norm.reference_mean_sq)]


# ---------------------------------------------------------------------------------------------------- paper config
def test_paper_config_has_the_paper_settings() -> None:
    # On the meta device: the counts need no memory and no initialisation (the real build takes 8-40 s here).
    with torch.device("meta"):
        cli = main(["--config", str(PAPER), "--trainer.logger", "false"], run=False)
    model = cli.model
    assert sum(p.numel() for p in model.generator.parameters()) == 73_100_049
    assert sum(p.numel() for p in model.discriminator.parameters()) == 24_373_081
    assert model.generator.kernel_size == 31 and model.discriminator.window == 16384
    assert model.discriminator.act.negative_slope == 0.3
    assert isinstance(model.objective, PairedTranslation) and isinstance(model.objective.loss, LeastSquaresLoss)
    assert model.objective.reconstruction_weight == 100 and model.hparams.n_critic == 1
    for build in (model.g_optimizer, model.d_optimizer):
        optimizer = build([nn.Parameter(torch.zeros(1))])
        assert isinstance(optimizer, torch.optim.RMSprop)
        assert optimizer.defaults["lr"] == 2e-4 and optimizer.defaults["alpha"] == 0.9
    assert cli.trainer.max_epochs == 86
    assert cli.datamodule.batch_size == 100 and cli.datamodule.window == 16384 and cli.datamodule.hop == 8192
    assert cli.datamodule.pre_emphasis == 0.95 and model.postprocess.coef == 0.95
    assert (model.inference.window, model.inference.hop) == (16384, 8192)
    table = ("si_sdr", "pesq", "csig", "cbak", "covl", "ssnr", "stoi")
    assert set(model.val_metrics.keys()) == {f"val/{k}" for k in table}
    (vbn,) = [c for c in cli.trainer.callbacks if isinstance(c, VirtualBatchNormReference)]
    assert vbn.size == 100 and vbn.every_n_steps is None
    assert cli.trainer.checkpoint_callback.monitor == "val/pesq" and cli.trainer.checkpoint_callback.mode == "max"


# ---------------------------------------------------------------------------------------------------- VBN reference
def test_reference_is_the_discriminator_input_of_a_real_batch(corpus: Path) -> None:
    dm = NoisyCleanSpeechDataModule(str(corpus), window=WINDOW, hop=WINDOW // 2, val_speakers=("p005",), num_workers=0)
    dm.setup("fit")
    torch.manual_seed(0)
    model = GAN(
        nn.Identity(), SEGANDiscriminator(channels=(8, 16, 16, 32), kernel_size=15, window=WINDOW), PairedTranslation()
    )
    VirtualBatchNormReference(size=5, seed=3).on_fit_start(SimpleNamespace(ckpt_path=None, datamodule=dm), model)
    # What the training loop feeds D for this batch, captured at D's input.
    batch = dm.reference_batch(5, seed=3)
    seen: list[Tensor] = []
    hook = model.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    model.objective.discriminate(model.discriminator, model.discriminator, batch["real"], batch["condition"], None)
    hook.remove()
    for order in (seen[0], torch.cat([batch["real"], batch["condition"]], 1)):
        expected = copy.deepcopy(model.discriminator)
        expected.set_reference(order)
        pairs = zip(references(model.discriminator), references(expected), strict=True)
        same = all(torch.equal(a, b) for a, b in pairs)
        assert same == (order is seen[0])  # equal to the loop's input, not to the swapped one
    assert int(model.discriminator.norms[0].reference_batch_size) == 5


def test_reference_every_n_steps_takes_the_live_batch(corpus: Path) -> None:
    dm = NoisyCleanSpeechDataModule(str(corpus), window=WINDOW, hop=WINDOW // 2, val_speakers=("p005",), num_workers=0)
    dm.setup("fit")
    model = GAN(nn.Identity(), SEGANDiscriminator(channels=(8, 16), kernel_size=15, window=WINDOW))
    callback = VirtualBatchNormReference(every_n_steps=2)
    callback.on_fit_start(SimpleNamespace(ckpt_path=None, datamodule=None), model)  # draws nothing, needs nothing
    assert not model.discriminator.has_reference
    batches = [dm.reference_batch(3, seed) for seed in range(3)]
    for index, batch in enumerate(batches):
        callback.on_train_batch_start(None, model, batch, index)
        expected = copy.deepcopy(model.discriminator)
        drawn = batches[index - index % 2]  # batch 1 is skipped: the reference stays batch 0's
        expected.set_reference(torch.cat([drawn["condition"], drawn["real"]], 1))
        for a, b in zip(references(model.discriminator), references(expected), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_reference_needs_a_datamodule_that_draws_one() -> None:
    model = GAN(nn.Identity(), SEGANDiscriminator(channels=(8,), window=WINDOW))
    with pytest.raises(ValueError, match="reference_batch"):
        VirtualBatchNormReference().on_fit_start(SimpleNamespace(ckpt_path=None, datamodule=object()), model)
    with pytest.raises(ValueError, match="size"):
        VirtualBatchNormReference(size=0)


def test_reference_is_set_at_fit_start_saved_and_kept_on_resume(corpus: Path, tmp_path: Path) -> None:
    fit = ["--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1"]
    cli = main(["fit", *tiny_args(corpus, tmp_path, *fit, "--trainer.max_epochs", "1")])
    reference = references(cli.model.discriminator)
    assert all(t.abs().sum() > 0 for t in reference)  # changed from the initial zeros
    (last,) = (tmp_path / "runs").glob("*/checkpoints/last.ckpt")  # the run's own folder
    loaded = GAN.load_from_checkpoint(last)
    assert loaded.discriminator.has_reference
    for a, b in zip(references(loaded.discriminator), reference, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # Resuming keeps the checkpoint's reference (D has trained since it was drawn, so a redraw would differ).
    resumed = main(["fit", *tiny_args(corpus, tmp_path, *fit, "--trainer.max_epochs", "2", "--ckpt_path", str(last))])
    for a, b in zip(references(resumed.model.discriminator), reference, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------------- predict
def write_inputs(folder: Path) -> dict[str, tuple[int, int]]:
    """Odd-length noise-like inputs: ``{name: (frames, rate)}``."""
    rng = np.random.default_rng(0)
    inputs = {
        "short": (WINDOW // 2 + 37, 16000),  # shorter than one window
        "long": (10 * WINDOW + 333, 16000),  # longer than ten windows
        "fast": (3 * WINDOW + 1000, 48000),  # 48 kHz, resampled to the model's 16 kHz; 4072 % 3 != 0
    }
    folder.mkdir(parents=True)
    for name, (frames, rate) in inputs.items():
        soundfile.write(folder / f"{name}.wav", rng.uniform(-0.3, 0.3, frames), rate, subtype="PCM_16")
    return inputs


@pytest.mark.parametrize("audio_rate", ["model", "input"])
def test_predict_writes_one_wav_per_input_with_its_name_and_length(
    corpus: Path, tmp_path: Path, audio_rate: str
) -> None:
    inputs = write_inputs(tmp_path / "in")
    out = ["--prediction_writer.output_dir", str(tmp_path / "out"), "--prediction_writer.audio_rate", audio_rate]
    predict_dir = ["--data.init_args.predict_dir", str(tmp_path / "in")]
    main(["predict", "--untrained", "true", *tiny_args(corpus, tmp_path, *predict_dir, *out)])
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(f"{name}.wav" for name in inputs)
    for name, (frames, rate) in inputs.items():
        info = soundfile.info(tmp_path / "out" / f"{name}.wav")
        assert info.subtype == "PCM_16" and info.channels == 1
        if audio_rate == "input":
            assert (info.samplerate, info.frames) == (rate, frames)
        else:
            assert (info.samplerate, info.frames) == (16000, -(-frames * 16000 // rate))


def test_identity_generator_through_predict_gives_back_the_input(tmp_path: Path) -> None:
    """Pre-emphasis, overlap-add, de-emphasis and the 16-bit writer together are transparent."""
    inputs = {name: spec for name, spec in write_inputs(tmp_path / "in").items() if spec[1] == 16000}
    dm = NoisyCleanSpeechDataModule(
        str(tmp_path), window=WINDOW, hop=WINDOW // 2, predict_dir=str(tmp_path / "in"), num_workers=0
    )
    objective = PairedTranslation(postprocess=DeEmphasis(0.95))
    model = GAN(nn.Identity(), nn.Identity(), objective, inference=OverlapAdd(WINDOW, WINDOW // 2))
    trainer = Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[PredictionWriter(str(tmp_path / "out"))], default_root_dir=str(tmp_path),
    )  # fmt: skip
    trainer.predict(model, datamodule=dm, return_predictions=False)
    for name in inputs:
        original, _ = soundfile.read(tmp_path / "in" / f"{name}.wav", dtype="int16")
        enhanced, _ = soundfile.read(tmp_path / "out" / f"{name}.wav", dtype="int16")
        assert enhanced.shape == original.shape
        assert np.abs(enhanced.astype(int) - original).max() <= 1  # at most one 16-bit step


# ---------------------------------------------------------------------------------------------------- training
def test_a_short_fit_enhances(corpus: Path, tmp_path: Path) -> None:
    """Three epochs of the tiny demo model beat the noisy input on the held-out speaker's utterance: the loop learns.

    With the demo's L1 reconstruction of before and its fixed windows: at this size (4 layers, a few dozen steps) the
    STFT term and the window augmentation of the shipped demo need more steps than a unit test has (the shipped
    recipe's own runs: docs/segan_recipe.md)."""
    args = tiny_args(
        corpus, tmp_path, "--model.g_optimizer.init_args.lr", "0.001",
        "--model.objective.init_args.reconstruction", "lightning_gan.objectives.L1Loss",
        "--data.init_args.window_augment", "null",
    )  # fmt: skip
    before = main(["validate", "--untrained", "true", *args]).trainer.callback_metrics["val/si_sdr"]
    fitted = main(["fit", *args, "--trainer.max_epochs", "3", "--trainer.check_val_every_n_epoch", "3"])
    after = fitted.trainer.callback_metrics
    assert float(after["val/input_si_sdr"]) == pytest.approx(-0.01, abs=0.01)  # p005_001's noisy input
    assert float(after["val/si_sdr"]) > float(after["val/input_si_sdr"]) + 2.0  # measured: 4.04 dB vs -0.01 dB
    assert float(after["val/si_sdr"]) > float(before) + 20.0  # the untrained G: -34.8 dB


TABLE = ("pesq", "csig", "cbak", "covl", "ssnr", "stoi", "si_sdr")


def test_demo_test_prints_the_speech_enhancement_table(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`test` reports the field's table for the enhanced output and, beside it, for the noisy input itself."""
    fit = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "0"]
    main(["fit", *tiny_args(corpus, tmp_path, *fit)])
    (last,) = (tmp_path / "runs").glob("*/checkpoints/last.ckpt")  # the run's own folder
    metrics = main(["test", *tiny_args(corpus, tmp_path, "--ckpt_path", str(last))]).trainer.callback_metrics
    printed = capsys.readouterr().out
    for key in TABLE:
        for name in (f"test/{key}", f"test/input_{key}"):
            assert torch.isfinite(metrics[name]), name
            assert name in printed, name
    # The noisy input's row is the composite measures of the test file itself (after pre- and de-emphasis).
    clean, noisy = (
        torch.from_numpy(soundfile.read(corpus / f"{kind}_testset_wav" / "p006_001.wav", dtype="float32")[0])
        for kind in ("clean", "noisy")
    )
    expected = composite_measures(noisy, clean, 16000)
    for key in ("pesq", "csig", "cbak", "covl", "ssnr"):
        assert float(metrics[f"test/input_{key}"]) == pytest.approx(float(expected[key]), abs=2e-3), key


def test_demo_config_runs_on_any_corpus_within_ten_minutes() -> None:
    cli = main(["--config", str(DEMO), "--trainer.logger", "false"], run=False)
    assert cli.datamodule.val_speakers == "auto"
    assert cli.config.trainer.max_time == "00:00:10:00"
    assert (cli.trainer.checkpoint_callback.monitor, cli.trainer.checkpoint_callback.mode) == ("val/pesq", "max")
    assert set(cli.model.test_metrics.keys()) == {f"test/{k}" for k in TABLE}
