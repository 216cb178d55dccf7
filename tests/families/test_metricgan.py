"""The MetricGAN+ configs end to end through the CLI: a tiny fit, `test`'s speech-enhancement table beside the noisy
input's, `predict` of files of any length and rate, TorchScript export, and bad settings as one message each."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from lightning_gan.cli import main
from lightning_gan.deploy.api import load_generator
from lightning_gan.errors import run_reporting_errors
from lightning_gan.nets import MetricGANGenerator
from tests.conftest import CONFIGS, ROOT

DEMO = CONFIGS / "metricgan_demo.yaml"
DEMO_DATA = ROOT / "data" / "speech_demo"

TINY = [
    "--model.generator.init_args.hidden_size", "8",
    "--model.generator.init_args.linear_size", "8",
    "--model.discriminator.init_args.base_channels", "4",
    "--model.objective.init_args.target_metric.init_args.workers", "0",
    "--data.init_args.window", "8192",
    "--data.init_args.hop", "4096",
    "--data.init_args.batch_size", "2",
    "--data.init_args.num_workers", "0",
    "--data.init_args.cache_dir", "null",
    "--trainer.logger", "false",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
    "--trainer.num_sanity_val_steps", "0",
    "--trainer.accelerator", "cpu",
    "--trainer.max_time", "null",
]  # fmt: skip
TABLE = ("pesq", "csig", "cbak", "covl", "ssnr", "stoi", "si_sdr")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few demo utterances in the VoiceBank layout: 2 training, 1 validation (p005), 1 test file."""
    root = tmp_path_factory.mktemp("corpus")
    files = {"trainset": ["p001_001", "p002_001", "p005_001"], "testset": ["p006_001"]}
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


@pytest.fixture(scope="module")
def checkpoint(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny fit: 2 batches and a validation."""
    tmp = tmp_path_factory.mktemp("fit")
    fit = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.check_val_every_n_epoch", "1"]
    main(["fit", *tiny_args(corpus, tmp, *fit)])
    (last,) = (tmp / "runs").glob("*/checkpoints/last.ckpt")
    return last


def test_test_prints_the_table_beside_the_noisy_inputs(
    corpus: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = torch.load(checkpoint, weights_only=False)["state_dict"]
    assert len(state["objective.replay._extra_state"]["scores"]) == 4  # 2 batches of 2 windows, every one scored
    metrics = main(["test", *tiny_args(corpus, tmp_path, "--ckpt_path", str(checkpoint))]).trainer.callback_metrics
    printed = capsys.readouterr().out
    for key in TABLE:
        for name in (f"test/{key}", f"test/input_{key}"):
            assert torch.isfinite(metrics[name]), name
            assert name in printed, name
    # An untrained-ish mask (floor 0.05, ceiling 1.2) stays near its input: not a broken resynthesis.
    assert float(metrics["test/si_sdr"]) > float(metrics["test/input_si_sdr"]) - 10.0


@pytest.mark.parametrize("audio_rate", ["model", "input"])
def test_predict_writes_one_wav_per_input_with_its_name_and_length(
    corpus: Path, checkpoint: Path, tmp_path: Path, audio_rate: str
) -> None:
    rng = np.random.default_rng(0)
    inputs = {"short": (900, 16000), "long": (40_001, 16000), "fast": (13_001, 48000)}
    (tmp_path / "in").mkdir()
    for name, (frames, rate) in inputs.items():
        soundfile.write(tmp_path / "in" / f"{name}.wav", rng.uniform(-0.3, 0.3, frames), rate, subtype="PCM_16")
    out = ["--prediction_writer.output_dir", str(tmp_path / "out"), "--prediction_writer.audio_rate", audio_rate]
    predict = ["--data.init_args.predict_dir", str(tmp_path / "in"), "--ckpt_path", str(checkpoint)]
    main(["predict", *tiny_args(corpus, tmp_path, *predict, *out)])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}.wav" for n in inputs)
    for name, (frames, rate) in inputs.items():
        info = soundfile.info(tmp_path / "out" / f"{name}.wav")
        if audio_rate == "input":
            assert (info.samplerate, info.frames) == (rate, frames)
        else:
            assert (info.samplerate, info.frames) == (16000, -(-frames * 16000 // rate))


def test_torchscript_export_matches_pytorch(checkpoint: Path, tmp_path: Path) -> None:
    """The whole enhancer (STFT, mask, inverse STFT) as TorchScript, checked against PyTorch at another length."""
    output = tmp_path / "enhancer.torchscript.pt"
    main(["export", "--ckpt_path", str(checkpoint), "--format", "torchscript", "--output", str(output)])
    scripted = torch.jit.load(str(output))
    generator = torch.load(checkpoint, weights_only=False)["state_dict"]
    g = MetricGANGenerator(hidden_size=8, linear_size=8)
    g.load_state_dict({k[len("generator.") :]: v for k, v in generator.items() if k.startswith("generator.")})
    x = 0.1 * torch.randn(2, 1, 12_345)
    with torch.no_grad():
        assert torch.allclose(scripted(x), g.eval()(x), atol=1e-5)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--data.init_args.sample_rate", "22050"], "8000 or 16000 Hz"),  # the metrics refuse it first
        (["--model.objective.init_args.target_metric", "nope"], "target_metric"),
        (["--data.init_args.window", "2048", "--data.init_args.hop", "1024"], "the discriminator needs at least"),
    ],
)
def test_bad_settings_stop_with_one_message(
    corpus: Path, tmp_path: Path, extra: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["fit", *tiny_args(corpus, tmp_path, "--trainer.max_steps", "2", *extra)]
    with pytest.raises(SystemExit) as exit_info:
        run_reporting_errors(main, args)
    assert exit_info.value.code != 0
    assert expected in capsys.readouterr().err


def test_python_api_enhances_a_file_to_its_length(checkpoint: Path) -> None:
    """`load_generator(...).enhance` is the generator on the whole file: no windows, no emphasis."""
    path = DEMO_DATA / "noisy_testset_wav" / "p006_001.wav"
    enhancer = load_generator(checkpoint)
    assert (enhancer.info.family, enhancer.info.sample_rate) == ("metricgan", 16000)
    enhanced = enhancer.enhance(path)
    noisy = torch.from_numpy(soundfile.read(path, dtype="float32")[0])
    assert enhanced.shape == noisy.shape
    state = torch.load(checkpoint, weights_only=False)["state_dict"]
    g = MetricGANGenerator(hidden_size=8, linear_size=8)
    g.load_state_dict({k[len("generator.") :]: v for k, v in state.items() if k.startswith("generator.")})
    with torch.no_grad():
        assert torch.allclose(enhanced, g.eval()(noisy[None, None])[0, 0], atol=1e-5)
