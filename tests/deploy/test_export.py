"""``lightning_gan export``: the ONNX and TorchScript files compute what the PyTorch generator computes, at other
batch sizes, lengths and image sizes than the traced ones; they and their ``FILE.json`` carry the normalisation;
bad checkpoints and formats fail with a message naming what was expected.

Tiny pix2pix (with EMA), SEGAN and DCGAN models are trained for one batch through the CLI, once per module.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from lightning_gan.cli import main as cli_main
from lightning_gan.deploy.api import load_gan
from lightning_gan.deploy.export import EXTRA_FILE, METADATA_KEY, export, main, sidecar_path
from tests.conftest import CONFIGS, ROOT, console_error

ONE_BATCH = [
    "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "0",
    "--trainer.num_sanity_val_steps", "0", "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false", "--trainer.accelerator", "cpu",
]  # fmt: skip
PIX2PIX = [  # the demo U-Net (6 levels: H, W multiples of 64) at ngf 4, with an EMA copy of G
    "--config", str(CONFIGS / "pix2pix_demo.yaml"), "--data.init_args.root", str(ROOT / "data" / "pix2pix_demo"),
    "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
    "--data.init_args.num_workers", "0", "--model.ema_decay", "0.5",
]  # fmt: skip
SEGAN = [  # 4 layers (T a multiple of 16), 2048-sample windows, z of 32 channels
    "--config", str(CONFIGS / "segan_demo.yaml"),
    "--model.generator.init_args.channels", "[8, 16, 16, 32]",
    "--model.discriminator.init_args.channels", "[8, 16, 16, 32]",
    "--data.init_args.window", "2048", "--data.init_args.hop", "1024", "--data.init_args.batch_size", "8",
    "--data.init_args.num_workers", "0", "--data.init_args.cache_dir", "null",
    "--data.init_args.val_speakers", "[p005]",
]  # fmt: skip
DCGAN = [
    "--config", str(CONFIGS / "dcgan_digits.yaml"), "--model.generator.init_args.ngf", "8",
    "--model.discriminator.init_args.ndf", "8", "--data.init_args.batch_size", "8",
]  # fmt: skip
TOLERANCE = 1e-4  # max abs difference, fp32


def speech_corpus(root: Path) -> Path:
    """Four demo utterances in the VoiceBank layout (three to train on, p005 held out)."""
    demo = ROOT / "data" / "speech_demo"
    for split, names in {"trainset": ["p001_001", "p002_001", "p005_001"], "testset": ["p006_001"]}.items():
        for kind in ("clean", "noisy"):
            folder = root / f"{kind}_{split}_wav"
            folder.mkdir(parents=True)
            for name in names:
                shutil.copy(demo / f"{kind}_{split}_wav" / f"{name}.wav", folder / f"{name}.wav")
    return root


def fit_one_batch(args: list[str], folder: Path, batches: int = 1) -> Path:
    """Train for one batch (or ``batches``) through the CLI in-process; returns ``last.ckpt``."""
    limit = ["--trainer.limit_train_batches", str(batches)]
    cli_main(["fit", *args, *ONE_BATCH, *limit, "--trainer.default_root_dir", str(folder)])
    (checkpoint,) = folder.rglob("last.ckpt")
    return checkpoint


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("export_runs")
    corpus = speech_corpus(tmp / "corpus")
    return {
        # Two batches: the first EMA update copies G, the second makes the average differ from it.
        "pix2pix": fit_one_batch(PIX2PIX, tmp / "pix2pix", batches=2),
        "segan": fit_one_batch([*SEGAN, "--data.init_args.root", str(corpus)], tmp / "segan"),
        "dcgan": fit_one_batch(DCGAN, tmp / "dcgan"),
    }


# Per family: (batch, spatial size) cases, none of them the traced example (batch 2 at the training size).
CASES = {
    "pix2pix": [(1, (64, 64)), (3, (128, 64))],  # H != W, both multiples of 64
    "segan": [(1, (512,)), (3, (2048,))],
    "dcgan": [(1, ()), (3, ())],
}


def random_inputs(family: str, batch: int, size: tuple[int, ...], seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    if family == "pix2pix":
        return {"condition": torch.rand((batch, 3, *size), generator=gen) * 2 - 1}
    if family == "segan":
        return {
            "condition": torch.rand((batch, 1, *size), generator=gen) * 2 - 1,
            "z": torch.randn((batch, 32, size[0] // 16), generator=gen),
        }
    return {"z": torch.randn((batch, 100, 1, 1), generator=gen)}


def run_onnx(path: Path, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(["output"], {name: t.numpy() for name, t in inputs.items()})
    return torch.from_numpy(output)


def run_torchscript(path: Path, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        return torch.jit.load(str(path))(*inputs.values())


RUNNERS = {"onnx": run_onnx, "torchscript": run_torchscript}


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("family", ["pix2pix", "segan", "dcgan"])
def test_exported_generator_computes_what_pytorch_computes(
    checkpoints: dict[str, Path], tmp_path: Path, family: str, fmt: str
) -> None:
    path = export(checkpoints[family], fmt, tmp_path / f"g.{fmt}")
    module, _ = load_gan(checkpoints[family])
    generator = module.inference_generator  # the EMA copy for pix2pix
    for seed, (batch, size) in enumerate(CASES[family]):
        inputs = random_inputs(family, batch, size, seed)
        with torch.no_grad():
            expected = generator(*inputs.values())
        got = RUNNERS[fmt](path, inputs)
        assert got.shape == expected.shape == (batch, *expected.shape[1:])
        assert (got - expected).abs().max().item() < TOLERANCE
        if family == "segan":  # z is an input: other noise, other output (the file draws none of its own)
            other = {**inputs, "z": torch.randn_like(inputs["z"])}
            assert (RUNNERS[fmt](path, other) - got).abs().max().item() > TOLERANCE
    if family == "pix2pix":  # the export holds the EMA weights: the trained G's output is farther than the tolerance
        with torch.no_grad():
            assert (module.generator(*inputs.values()) - got).abs().max().item() > TOLERANCE


def read_metadata(path: Path, fmt: str) -> dict:
    if fmt == "onnx":
        props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        return json.loads(props[METADATA_KEY])
    files = {EXTRA_FILE: ""}
    torch.jit.load(str(path), _extra_files=files)
    return json.loads(files[EXTRA_FILE])


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_file_and_sidecar_carry_the_normalisation_of_segan(checkpoints: dict[str, Path], tmp_path: Path, fmt: str):
    path = export(checkpoints["segan"], fmt, tmp_path / f"segan.{fmt}")
    described = read_metadata(path, fmt)
    assert json.loads(sidecar_path(path).read_text()) == described
    assert sidecar_path(path).name == f"segan.{fmt}.json"
    assert described["family"] == "segan" and described["modality"] == "audio" and described["format"] == fmt
    assert described["value_range"] == [-1.0, 1.0]
    assert (described["sample_rate"], described["pre_emphasis"], described["de_emphasis"]) == (16000, 0.95, 0.95)
    assert (described["size_multiple"], described["example_size"]) == (16, 2048)
    assert described["z"] == {
        "input": True,
        "name": "z",
        "shape": "batch x 32 x (length / 16)",
        "distribution": "standard normal N(0, 1), i.i.d.",
    }
    condition, z = described["inputs"]
    assert condition["name"] == "condition" and condition["shape"] == ["batch", 1, "length"]
    assert z["name"] == "z" and z["shape"] == ["batch", 32, "latent_length"]
    assert described["outputs"][0]["shape"] == ["batch", 1, "length"]
    assert described["whole_input"]["strategy"] == "lightning_gan.whole_input.strategies.OverlapAdd"
    assert (described["whole_input"]["window"], described["whole_input"]["hop"]) == (2048, 1024)
    assert described["weights"] == "generator" and described["global_step"] == 2


def test_file_and_sidecar_carry_the_normalisation_of_pix2pix(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    path = export(checkpoints["pix2pix"], "onnx", tmp_path / "pix2pix.onnx")
    described = json.loads(sidecar_path(path).read_text())
    assert read_metadata(path, "onnx") == described
    assert (described["family"], described["modality"], described["weights"]) == ("pix2pix", "image", "ema")
    assert (described["condition_channels"], described["output_channels"]) == (3, 3)
    assert (described["size_multiple"], described["example_size"]) == (64, 64)
    assert described["value_range"] == [-1.0, 1.0] and described["z"] == {"input": False}
    assert described["sample_rate"] is None and described["pre_emphasis"] is None
    assert described["whole_input"] == {
        "strategy": "lightning_gan.whole_input.geometry.AtTrainingScale", "pad_mode": "reflect", "quantize": True,
        "multiple": 64,
        "geometry": {"preprocess": "resize_and_crop", "load_size": 72, "crop_size": 64, "size_multiple": 4},
    }  # fmt: skip
    assert "training scale (preprocess 'resize_and_crop', load_size 72" in described["preprocess"]
    assert "x / 127.5 - 1" in described["preprocess"]
    # onnxruntime sees the same names and dynamic dimensions.
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape) for i in session.get_inputs()] == [("condition", ["batch", 3, "height", "width"])]
    assert [(o.name, o.shape) for o in session.get_outputs()] == [("output", ["batch", 3, "height", "width"])]


def test_dcgan_exports_z_as_its_only_input(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    described = read_metadata(export(checkpoints["dcgan"], "onnx", tmp_path / "dcgan.onnx"), "onnx")
    assert [i["name"] for i in described["inputs"]] == ["z"]
    assert described["inputs"][0]["shape"] == ["batch", 100, 1, 1]
    assert described["outputs"][0]["shape"] == ["batch", 1, 32, 32]
    assert described["z"]["shape"] == "batch x 100 x 1 x 1" and described["condition_channels"] is None


def test_command_line_writes_beside_the_checkpoint_by_default(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.ckpt"
    shutil.copy(checkpoints["segan"], checkpoint)
    written = cli_main(["export", "--ckpt_path", str(checkpoint), "--format", "torchscript"])
    assert written == tmp_path / "model.torchscript.pt" and written.is_file()
    assert sidecar_path(written).is_file()
    written = cli_main(["export", "--ckpt_path", str(checkpoint), "--output", str(tmp_path / "out" / "g.onnx")])
    assert written == tmp_path / "out" / "g.onnx" and onnx.load(str(written)).graph.input[0].name == "condition"


# ---------------------------------------------------------------------------------------------------- never over a file
def _refused(args: list[str], capsys: pytest.CaptureFixture) -> str:
    return console_error(["export", *args], capsys)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith("_")}


def test_the_default_output_of_a_checkpoint_named_pt_is_not_the_checkpoint(
    checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    checkpoint = tmp_path / "model.pt"  # a checkpoint saved as .pt: the old default (.pt) was the checkpoint itself
    shutil.copy(checkpoints["dcgan"], checkpoint)
    before = checkpoint.read_bytes()
    written = cli_main(["export", "--ckpt_path", str(checkpoint), "--format", "torchscript"])
    assert written == tmp_path / "model.torchscript.pt" and checkpoint.read_bytes() == before
    assert torch.jit.load(str(written))(torch.zeros(1, 100, 1, 1)).shape == (1, 1, 32, 32)


@pytest.mark.parametrize("way", ["same path", "symbolic link", "hard link", "its FILE.json"])
def test_an_output_that_is_the_checkpoint_is_refused_and_the_checkpoint_kept(
    checkpoints: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture, way: str
) -> None:
    checkpoint = tmp_path / ("g.onnx.json" if way == "its FILE.json" else "model.pt")
    shutil.copy(checkpoints["dcgan"], checkpoint)
    output = {"same path": checkpoint, "its FILE.json": tmp_path / "g.onnx"}.get(way, tmp_path / "alias.onnx")
    if way == "symbolic link":
        output.symlink_to(checkpoint)
    elif way == "hard link":
        os.link(checkpoint, output)
    before = _files(tmp_path)
    message = _refused(["--ckpt_path", str(checkpoint), "--output", str(output), "--overwrite"], capsys)
    written = sidecar_path(output) if way == "its FILE.json" else output
    assert message.startswith(
        f"export would write {written}, which is the checkpoint --ckpt_path {checkpoint} itself: a checkpoint is "
        "never written over. Give another file, e.g. --output "
    )
    assert _files(tmp_path) == before


def test_an_existing_folder_as_output_is_one_line(checkpoints: dict[str, Path], tmp_path: Path, capsys) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    message = _refused(["--ckpt_path", str(checkpoints["dcgan"]), "--output", str(folder)], capsys)
    assert message == (
        f"--output {folder}: {folder} is an existing folder, not a file; give the file to write, e.g. --output "
        f"{folder / 'generator.onnx'}"
    )
    assert list(folder.iterdir()) == []


def test_an_existing_export_is_replaced_only_with_overwrite(checkpoints: dict[str, Path], tmp_path: Path, capsys):
    output = tmp_path / "generator.onnx"
    output.write_bytes(b"a file the user meant to keep\n")
    args = ["--ckpt_path", str(checkpoints["dcgan"]), "--output", str(output)]
    message = _refused(args, capsys)
    assert message == (
        f"{output} already exists: export does not replace files unasked. Add --overwrite to replace them (a "
        "checkpoint is never replaced), or give another --output"
    )
    assert output.read_bytes() == b"a file the user meant to keep\n" and not sidecar_path(output).exists()
    assert cli_main(["export", *args, "--overwrite"]) == output
    assert onnx.load(str(output)).graph.input[0].name == "z" and sidecar_path(output).is_file()


# ---------------------------------------------------------------------------------------------------- bad input
def not_a_gan(tmp_path: Path) -> dict[str, tuple[Path, type[Exception], str]]:
    """Bad checkpoints: (file, exception export raises, text the message must contain)."""
    plain = tmp_path / "plain.ckpt"
    torch.save({"weights": torch.zeros(3)}, plain)
    classifier = tmp_path / "classifier.ckpt"
    torch.save({"state_dict": {"net.weight": torch.zeros(3)}, "hyper_parameters": {"num_classes": 10}}, classifier)
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint")
    return {
        "missing": (tmp_path / "no_such.ckpt", FileNotFoundError, "checkpoint not found"),
        "plain_dict": (plain, ValueError, "not a lightning_gan GAN checkpoint"),
        "other_family": (classifier, ValueError, "another model family"),
        "not_torch": (text, ValueError, "not a PyTorch checkpoint"),
    }


@pytest.mark.parametrize("case", ["missing", "plain_dict", "other_family", "not_torch"])
def test_bad_checkpoints_fail_naming_the_file_and_what_was_expected(tmp_path: Path, capsys, case: str) -> None:
    path, error, text = not_a_gan(tmp_path)[case]
    with pytest.raises(error, match=text) as raised:
        export(path, "onnx", tmp_path / "g.onnx")
    assert str(path) in str(raised.value) and "python -m lightning_gan fit" in str(raised.value)
    with pytest.raises(SystemExit) as exit_info:
        main(["--ckpt_path", str(path), "--output", str(tmp_path / "g.onnx")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: lightning_gan export") and text in err and "Traceback" not in err
    assert not (tmp_path / "g.onnx").exists()


def test_unsupported_format_is_refused_with_the_choices(checkpoints: dict[str, Path], tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--ckpt_path", str(checkpoints["segan"]), "--format", "tflite"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'tflite'" in err and "onnx" in err and "torchscript" in err
    with pytest.raises(ValueError, match="format must be one of"):
        export(checkpoints["segan"], "tflite", tmp_path / "g.tflite")  # type: ignore[arg-type]


def test_exported_model_runs_without_lightning_gan(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    """What a service does with the files alone: ONNX via onnxruntime, z drawn by the caller, numbers in range."""
    path = export(checkpoints["segan"], "onnx", tmp_path / "segan.onnx")
    spec = json.loads(sidecar_path(path).read_text())
    length = 3 * spec["size_multiple"]
    rng = np.random.default_rng(0)
    feeds = {"condition": rng.uniform(-0.5, 0.5, (2, 1, length)).astype(np.float32),
             "z": rng.standard_normal((2, 32, length // spec["size_multiple"])).astype(np.float32)}  # fmt: skip
    (output,) = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    assert output.shape == (2, 1, length) and np.abs(output).max() <= 1.0
