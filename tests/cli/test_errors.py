"""Bad input and faults at the edges, through the command line: each error is one message naming the culprit, with
exit status 2 and no traceback; a predict folder is checked before anything is written; runs sharing a root keep
every file of each other; a resumed run continues the same W&B run, run folder and step axis."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from lightning.pytorch import Callback
from PIL import Image

from lightning_gan.cli import console
from lightning_gan.errors import CheckpointError
from tests.conftest import CONFIGS, ROOT
from tests.wandb_records import history, run_id, wait_until_closed

TOY = str(ROOT / "tests" / "configs" / "toy.yaml")
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
ONE_EPOCH = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
             "--trainer.num_sanity_val_steps", "0", "--trainer.accelerator", "cpu", *QUIET]  # fmt: skip
DCGAN = ["--config", str(CONFIGS / "dcgan_digits.yaml"),
         "--model.generator.init_args.ngf", "8", "--model.discriminator.init_args.ndf", "8"]  # fmt: skip
PIX2PIX = ["--config", str(CONFIGS / "pix2pix_demo.yaml"), "--data.init_args.root", str(ROOT / "data" / "pix2pix_demo"),
           "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
           "--data.init_args.num_workers", "0"]  # fmt: skip
SEGAN = ["--config", str(CONFIGS / "segan_demo.yaml"), "--data.init_args.root", str(ROOT / "data" / "speech_demo"),
         "--model.generator.init_args.channels", "[8, 16]", "--model.discriminator.init_args.channels", "[8, 16]",
         "--data.init_args.window", "256", "--data.init_args.hop", "128", "--data.init_args.batch_size", "8",
         "--data.init_args.cache_dir", "null",
         # 256-sample windows are shorter than the demo's STFT sizes: L1 alone at this size
         "--model.objective.init_args.reconstruction", "lightning_gan.objectives.L1Loss"]  # fmt: skip


def run(capsys, *args: str) -> tuple[int, str]:
    """``lightning_gan *args`` in this process: (exit status, stderr)."""
    try:
        console(list(args))
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def assert_one_message(code: int, err: str, *culprits: str) -> None:
    assert code == 2, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    message = err[err.index("lightning_gan: error: ") :]
    for culprit in culprits:
        assert culprit in message, (culprit, message)
    assert message.count("\n") <= 8, message  # a few lines, not one per tensor


def fit_checkpoint(root: Path, *args: str) -> Path:
    console(["fit", *args, *ONE_EPOCH, "--trainer.logger", "false", "--trainer.default_root_dir", str(root)])
    (checkpoint,) = root.glob("*/checkpoints/last.ckpt")
    return checkpoint


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny DCGAN, pix2pix and SEGAN checkpoints written by the CLI, and broken files."""
    root = tmp_path_factory.mktemp("checkpoints")
    out = {
        "dcgan": fit_checkpoint(root / "dcgan", *DCGAN),
        "pix2pix": fit_checkpoint(root / "pix2pix", *PIX2PIX),
        "segan": fit_checkpoint(root / "segan", *SEGAN),
    }
    data = out["dcgan"].read_bytes()
    (root / "truncated.ckpt").write_bytes(data[: len(data) // 2])
    (root / "empty.ckpt").write_bytes(b"")
    torch.save({"weights": torch.zeros(2)}, root / "foreign.ckpt")
    return out | {name: root / f"{name}.ckpt" for name in ("truncated", "empty", "foreign")}


# ------------------------------------------------------------------------------------------------ broken checkpoints
@pytest.mark.parametrize(
    ("subcommand", "case", "culprit"),
    [
        ("fit", "truncated", "is truncated"),
        ("predict", "truncated", "is truncated"),
        ("fit", "empty", "is empty (0 bytes)"),
        ("test", "foreign", "is not a lightning_gan GAN checkpoint"),
    ],
)
def test_broken_checkpoints_are_named(checkpoints, tmp_path, capsys, subcommand: str, case: str, culprit: str) -> None:
    code, err = run(capsys, subcommand, *DCGAN, "--ckpt_path", str(checkpoints[case]),
                    "--trainer.default_root_dir", str(tmp_path / "root"))  # fmt: skip
    assert_one_message(code, err, str(checkpoints[case]), culprit)
    assert not (tmp_path / "root").exists()  # stopped before writing anything


def test_truncated_checkpoint_through_the_real_command(checkpoints, tmp_path, capsys, monkeypatch) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lightning_gan", "predict", *DCGAN, "--ckpt_path", str(checkpoints["truncated"]),
         "--trainer.default_root_dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert_one_message(result.returncode, result.stderr, "is truncated", str(checkpoints["truncated"]))
    monkeypatch.setenv("LIGHTNING_GAN_DEBUG", "1")  # the traceback, on request
    with pytest.raises(CheckpointError, match="is truncated"):
        console(["predict", *DCGAN, "--ckpt_path", str(checkpoints["truncated"])])


@pytest.mark.parametrize(
    ("config", "checkpoint", "names"),
    [
        (DCGAN, "pix2pix", ("UnetGenerator", "PatchGANDiscriminator", "DCGANGenerator", "config.yaml")),
        (PIX2PIX, "dcgan", ("DCGANGenerator", "UnetGenerator")),
    ],
    ids=["pix2pix_checkpoint_dcgan_config", "dcgan_checkpoint_pix2pix_config"],
)
def test_another_familys_checkpoint_names_both_architectures(checkpoints, capsys, config, checkpoint, names) -> None:
    code, err = run(capsys, "predict", *config, "--ckpt_path", str(checkpoints[checkpoint]))
    assert_one_message(code, err, "another architecture", *names)


def test_other_network_settings_give_a_short_summary(checkpoints, tmp_path, capsys) -> None:
    code, err = run(capsys, "predict", *DCGAN, "--ckpt_path", str(checkpoints["dcgan"]),
                    "--model.generator.init_args.ngf", "32", "--trainer.default_root_dir", str(tmp_path))  # fmt: skip
    assert_one_message(code, err, "differ in shape", "model.generator.init_args.ngf: checkpoint 8, config 32",
                       "DCGANGenerator")  # fmt: skip
    assert "size mismatch" not in err


def test_export_uses_the_same_checker(checkpoints, tmp_path, capsys) -> None:
    code, err = run(capsys, "export", "--ckpt_path", str(checkpoints["empty"]), "--output", str(tmp_path / "g.onnx"))
    assert code == 2 and "is empty (0 bytes)" in err and "Traceback" not in err


def test_api_uses_the_same_checker(checkpoints) -> None:
    from lightning_gan.deploy.api import load_generator

    with pytest.raises(ValueError, match="is truncated"):
        load_generator(checkpoints["truncated"])


# ------------------------------------------------------------------------------------------------ untrained models
@pytest.mark.parametrize("subcommand", ["predict", "test"])
def test_evaluation_refuses_an_untrained_model(tmp_path, capsys, subcommand: str) -> None:
    code, err = run(capsys, subcommand, *PIX2PIX, "--trainer.default_root_dir", str(tmp_path / "root"))
    assert_one_message(code, err, f"{subcommand} needs --ckpt_path", "--untrained true")
    assert not (tmp_path / "root").exists()


def test_untrained_model_on_explicit_request(tmp_path, capsys) -> None:
    out = tmp_path / "generated"
    code, _ = run(capsys, "predict", *DCGAN, "--untrained", "true", "--data.init_args.num_predict", "2",
                  "--prediction_writer.output_dir", str(out), "--trainer.logger", "false", *QUIET)  # fmt: skip
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["sample_00000.png", "sample_00001.png"]


# ------------------------------------------------------------------------------------------------ config ranges
@pytest.mark.parametrize(
    ("config", "args", "culprit"),
    [
        (["--config", TOY], ["--trainer.max_epochs", "-5"], "trainer.max_epochs = -5"),
        (["--config", TOY], ["--model.g_optimizer.init_args.lr", "-0.1"], "model.g_optimizer.init_args.lr = -0.1"),
        (SEGAN, ["--data.init_args.batch_size", "0"], "data.init_args.batch_size = 0"),
    ],
    ids=["negative_max_epochs", "negative_lr", "segan_batch_size_0"],
)
def test_out_of_range_values_name_their_key(tmp_path, capsys, config, args, culprit: str) -> None:
    code, err = run(capsys, "fit", *config, *args, "--trainer.default_root_dir", str(tmp_path))
    assert_one_message(code, err, culprit, "expected")
    assert "size" not in err.replace("batch_size", "")  # SEGAN's VBN reference `size` is not blamed


# ------------------------------------------------------------------------------------------------ predict folders
def _png(path: Path, size: int = 20) -> None:
    Image.fromarray(np.full((size, size, 3), 128, np.uint8)).save(path)


def test_bad_images_in_a_predict_folder_stop_before_any_output(checkpoints, tmp_path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "c.png"):
        _png(folder / name)
    (folder / "b.png").write_bytes(b"not an image")
    (folder / "d.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("ignored")
    predict = ["predict", *PIX2PIX, "--ckpt_path", str(checkpoints["pix2pix"]), "--data.init_args.predict_dir",
               str(folder), "--prediction_writer.output_dir", str(tmp_path / "out"), "--trainer.logger", "false",
               "--trainer.default_root_dir", str(tmp_path / "root"), *QUIET]  # fmt: skip
    code, err = run(capsys, *predict)
    assert_one_message(code, err, "2 of 4 image files", "b.png", "d.jpg", "nothing was written", "--skip_bad_inputs")
    assert not (tmp_path / "out").exists()

    with pytest.warns(UserWarning) as warned:
        code, err = run(capsys, *predict, "--skip_bad_inputs", "true")
    assert code == 0, err[-3000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]  # every good file
    texts = [str(w.message) for w in warned]
    assert any("skipping" in t and "b.png" in t for t in texts) and any("skipping" in t and "d.jpg" in t for t in texts)
    assert any("skipped 2 bad inputs" in t for t in texts)  # listed again at the end
    assert sum("notes.txt" in t for t in texts) == 1  # ignored files listed once


def test_bad_audio_in_a_predict_folder(checkpoints, tmp_path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    t = np.arange(800) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 300 * t)
    soundfile.write(folder / "a.wav", tone, 16000, subtype="PCM_16")
    soundfile.write(folder / "b.flac", tone, 16000)  # FLAC is read too
    soundfile.write(folder / "c.wav", 10 * tone, 16000, subtype="FLOAT")  # peaks at 3.0
    soundfile.write(folder / "empty.wav", np.zeros(0), 16000, subtype="PCM_16")  # 0 samples
    predict = ["predict", *SEGAN, "--ckpt_path", str(checkpoints["segan"]), "--data.init_args.predict_dir",
               str(folder), "--prediction_writer.output_dir", str(tmp_path / "out"), "--trainer.logger", "false",
               "--trainer.default_root_dir", str(tmp_path / "root"), *QUIET]  # fmt: skip
    code, err = run(capsys, *predict)
    assert_one_message(code, err, "1 of 4 audio files", "empty.wav: no samples", "nothing was written")
    assert not (tmp_path / "out").exists()

    with pytest.warns(UserWarning) as warned:
        code, err = run(capsys, *predict, "--skip_bad_inputs", "true")
    assert code == 0, err[-3000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.wav", "b.wav", "c.wav"]
    texts = [str(w.message) for w in warned]
    assert any("c.wav" in t and "peak at 3" in t for t in texts)
    assert any("skipping" in t and "empty.wav" in t for t in texts)


# ------------------------------------------------------------------------------------------------ run folders
def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sequential_runs_into_one_root_keep_every_file(tmp_path, capsys) -> None:
    args = ["fit", "--config", TOY, "--trainer.logger", "false", "--trainer.max_epochs", "1",
            "--trainer.default_root_dir", str(tmp_path)]  # fmt: skip
    assert run(capsys, *args)[0] == 0
    first = _files(tmp_path)
    assert run(capsys, *args)[0] == 0
    # A third run that fails at setup (channel mismatch) writes nothing of the others' either.
    code, err = run(capsys, *args, "--model.generator.init_args.in_channels", "3")
    assert_one_message(code, err, "generator.in_channels = 3")
    after = _files(tmp_path)
    assert {k: after[k] for k in first} == first  # every file of the first run, byte for byte
    runs = sorted(p.parent.parent for p in tmp_path.glob("*/checkpoints/last.ckpt"))
    assert len(runs) == 2 and all((r / "config.yaml").is_file() and (r / "samples").is_dir() for r in runs)
    for r in runs:  # each last.ckpt is its own run's
        assert torch.load(r / "checkpoints" / "last.ckpt", weights_only=False)["lightning_gan_run"]["run_id"] == r.name


@pytest.mark.slow
def test_concurrent_runs_into_one_root_keep_every_file(tmp_path) -> None:
    """Two runs without a logger started together into one root (they shared checkpoints/ before)."""
    command = [sys.executable, "-m", "lightning_gan", "fit", "--config", TOY, "--trainer.max_epochs", "1",
               "--trainer.logger", "false", "--trainer.default_root_dir", str(tmp_path / "runs")]  # fmt: skip
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in "ab"]
    for p in processes:
        assert p.wait(timeout=600) == 0, p.stderr.read().decode()[-3000:]
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == ["checkpoints", "config.yaml", "metrics.json", "samples"]
        assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["epoch=0-step=16.ckpt", "last.ckpt"]
        saved = torch.load(folder / "checkpoints" / "last.ckpt", weights_only=False)
        assert saved["lightning_gan_run"]["run_dir"] == str(folder.resolve())


def test_csv_versions_are_claimed_so_runs_started_together_get_their_own(tmp_path) -> None:
    """Lightning picks a CSV/TensorBoard version by listing the folder, so two runs starting together took the same
    one; the CLI claims it with an exclusive mkdir."""
    from lightning.pytorch import Trainer
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    from lightning_gan.training.run_folders import assign_run_folder

    trainers = [
        Trainer(logger=logger(tmp_path, name="logs"), default_root_dir=tmp_path, enable_progress_bar=False)
        for logger in (CSVLogger, TensorBoardLogger, CSVLogger)
    ]  # all created before any of them writes
    folders = [assign_run_folder(t, tmp_path, None, None) for t in trainers]
    assert [f.name for f in folders] == ["version_0", "version_1", "version_2"]
    assert [t.checkpoint_callback.dirpath for t in trainers] == [str(f / "checkpoints") for f in folders]


def test_second_run_into_an_earlier_runs_folder_is_refused(tmp_path, capsys) -> None:
    dirpath = str(tmp_path / "shared" / "checkpoints")
    args = ["fit", "--config", TOY, "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path),
            "--trainer.callbacks.dirpath", dirpath]  # fmt: skip
    assert run(capsys, *args)[0] == 0
    first = _files(tmp_path / "shared")
    code, err = run(capsys, *args)
    assert_one_message(code, err, dirpath, "already holds files of another run", "--ckpt_path")
    assert _files(tmp_path / "shared") == first


# ------------------------------------------------------------------------------------------------ resume continuity
LOGGERS = """
trainer:
  logger:
    - class_path: lightning.pytorch.loggers.WandbLogger
      init_args:
        project: toy_resume
        save_dir: ${trainer.default_root_dir}
    - class_path: lightning.pytorch.loggers.CSVLogger
      init_args:
        save_dir: ${trainer.default_root_dir}
        name: csv
"""


def test_resume_continues_the_wandb_run_the_run_folder_and_the_step_axis(tmp_path, capsys) -> None:
    loggers = tmp_path / "loggers.yaml"
    loggers.write_text(LOGGERS)
    root = tmp_path / "runs"
    base = ["fit", "--config", TOY, "--config", str(loggers), "--trainer.default_root_dir", str(root)]
    assert run(capsys, *base, "--trainer.max_epochs", "1")[0] == 0
    (checkpoint,) = root.glob("toy_resume/*/checkpoints/last.ckpt")
    run_folder = checkpoint.parent.parent
    assert run(capsys, *base, "--trainer.max_epochs", "2", "--ckpt_path", str(checkpoint))[0] == 0

    assert [p.parent.parent for p in root.rglob("last.ckpt")] == [run_folder]  # one run folder
    assert sorted(p.name for p in run_folder.glob("config*.yaml")) == ["config-2.yaml", "config.yaml"]
    assert sorted(p.name for p in (run_folder / "samples").iterdir()) == ["epoch_0000.png", "epoch_0001.png"]
    files = sorted(root.glob("wandb/offline-run-*/run-*.wandb"))
    for f in files:
        wait_until_closed(f)
    assert len(files) == 2 and {run_id(f) for f in files} == {run_folder.name}  # one W&B run id
    steps = [row["trainer/global_step"] for f in files for row in history(f) if "train/discrim_loss" in row]
    assert steps == list(range(16))  # 8 batches per epoch: no gap, no duplicate
    (csv_dir,) = (root / "csv").iterdir()  # one CSV version, appended to
    rows = (csv_dir / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    cells = [r.split(",") for r in rows[1:]]
    train_steps = [int(c[header.index("step")]) for c in cells if c[header.index("train/discrim_loss")]]
    assert train_steps == list(range(16))


def test_new_run_from_a_checkpoint_starts_fresh(tmp_path, capsys) -> None:
    base = ["fit", "--config", TOY, "--trainer.default_root_dir", str(tmp_path), "--trainer.max_epochs", "1"]
    assert run(capsys, *base)[0] == 0
    checkpoint = tmp_path / "csv" / "version_0" / "checkpoints" / "last.ckpt"
    assert run(capsys, *base, "--ckpt_path", str(checkpoint), "--new_run", "true")[0] == 0
    fresh = torch.load(tmp_path / "csv" / "version_1" / "checkpoints" / "last.ckpt", weights_only=False)
    assert fresh["global_step"] == 16  # one epoch from step 0, not a continuation
    assert fresh["lightning_gan_run"]["run_id"] == "version_1"


def test_checkpoint_of_another_wandb_project_is_refused(tmp_path, capsys) -> None:
    loggers = tmp_path / "loggers.yaml"
    loggers.write_text(LOGGERS)
    base = ["fit", "--config", TOY, "--config", str(loggers), "--trainer.default_root_dir", str(tmp_path)]
    assert run(capsys, *base, "--trainer.max_epochs", "1")[0] == 0
    (checkpoint,) = tmp_path.glob("toy_resume/*/checkpoints/last.ckpt")
    other = tmp_path / "other.yaml"
    other.write_text(LOGGERS.replace("toy_resume", "other"))
    code, err = run(capsys, "fit", "--config", TOY, "--config", str(other), "--trainer.default_root_dir", str(tmp_path),
                    "--trainer.max_epochs", "2", "--ckpt_path", str(checkpoint))  # fmt: skip
    assert_one_message(code, err, "project 'toy_resume'", "'other'", "--new_run true")


# ------------------------------------------------------------------------------------------------ faults during saves
def _fit_until_the_disk_fills(tmp_path: Path, capsys, *extra: str) -> tuple[int, str]:
    return run(capsys, "fit", "--config", TOY, "--trainer.max_epochs", "3", "--trainer.default_root_dir",
               str(tmp_path / "runs"), *extra)  # fmt: skip


def _assert_epoch_0_intact(checkpoints: Path) -> None:
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch=0-step=16.ckpt", "last.ckpt"]  # no .tmp left
    for name in ("epoch=0-step=16.ckpt", "last.ckpt"):
        assert torch.load(checkpoints / name, weights_only=False)["global_step"] == 16


def test_full_disk_during_a_save_stops_with_one_message(tmp_path, capsys, monkeypatch) -> None:
    """The writer raises ENOSPC from the third save on (epoch 0 wrote epoch=0-step=16.ckpt and last.ckpt)."""
    import errno

    import lightning_gan.checkpoints.atomic as checkpoint_module

    real_save, calls = torch.save, []

    def save(obj, f):
        calls.append(f)
        if len(calls) <= 2:
            return real_save(obj, f)
        f.write(b"\0" * 4096)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_module.torch, "save", save)
    code, err = _fit_until_the_disk_fills(tmp_path, capsys)
    monkeypatch.undo()
    (checkpoints,) = (tmp_path / "runs").glob("csv/version_0/checkpoints")
    assert_one_message(code, err, f"no space left on {checkpoints}: need about 0.1 MB", "intact")
    _assert_epoch_0_intact(checkpoints)


def test_full_disk_on_a_real_tmpfs(tmp_path, capsys) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    # 15 pages of 4 KiB: epoch 0's two 21 KB checkpoints fit (6 pages each), epoch 1's do not.
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=60k", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        code, err = _fit_until_the_disk_fills(tmp_path, capsys, "--trainer.callbacks.dirpath", str(mount / "ckpts"))
        assert_one_message(code, err, f"no space left on {mount / 'ckpts'}", "need about")
        _assert_epoch_0_intact(mount / "ckpts")
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_killed_saves_temporary_file_is_removed_and_checkpoints_follow_the_umask(tmp_path, capsys) -> None:
    root = tmp_path / "runs"
    args = ["fit", "--config", TOY, "--trainer.default_root_dir", str(root)]
    old = os.umask(0o027)
    try:
        assert run(capsys, *args, "--trainer.max_epochs", "1")[0] == 0
        checkpoints = root / "csv" / "version_0" / "checkpoints"
        assert (checkpoints / "last.ckpt").stat().st_mode & 0o777 == 0o640
        # What a SIGKILL during a save leaves: a dead process's temporary file beside the checkpoints.
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        stale = checkpoints / f".last.ckpt.{dead.pid}.abc123.tmp"
        stale.write_bytes(b"\0" * 1000)
        assert run(capsys, *args, "--trainer.max_epochs", "2", "--ckpt_path", str(checkpoints / "last.ckpt"))[0] == 0
    finally:
        os.umask(old)
    assert not stale.exists() and not list(checkpoints.glob(".*.tmp"))


# ------------------------------------------------------------------------------------------------ config files
def test_yaml_syntax_error_names_the_file_line_and_column(tmp_path, capsys) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("trainer:\n  max_epochs: 2\n  devices: [1\nmodel: {}\n")
    code, err = run(capsys, "fit", "--config", TOY, "--config", str(broken))
    assert_one_message(code, err, f"{broken}, line 4, column 6: not valid YAML", "expected ',' or ']'", "line 3")
    assert "<unicode string>" not in err


@pytest.mark.parametrize(
    ("overlay", "culprit"),
    [
        (
            "data:\n  init_args:\n    image_size: ${model.generator.init_args.image_size}\n",
            "model.generator.init_args.image_size -> data.init_args.image_size -> model.generator.init_args.image_size",
        ),
        (
            "data:\n  init_args:\n    image_size: ${data.init_args.image_size}\n",
            "data.init_args.image_size refers to itself",
        ),
    ],
    ids=["two_keys", "itself"],
)
def test_circular_interpolation_names_the_keys(tmp_path, capsys, overlay: str, culprit: str) -> None:
    """configs/dcgan_digits.yaml sets model.generator.init_args.image_size: ${data.init_args.image_size}."""
    circle = tmp_path / "circle.yaml"
    circle.write_text(overlay)
    code, err = run(capsys, "fit", "--config", str(CONFIGS / "dcgan_digits.yaml"), "--config", str(circle))
    assert_one_message(code, err, "circular ${...} interpolation", culprit)


def test_devices_minus_one_means_all_and_zero_is_refused() -> None:
    """configs/trainer/ddp.yaml's `devices: -1` (every GPU) passes the range check; 0 devices does not."""
    from lightning_gan.cli.config_validation import check_config
    from lightning_gan.errors import ConfigError

    check_config({"trainer": {"devices": -1}})
    with pytest.raises(ConfigError, match=r"trainer\.devices = 0: expected an integer >= 1, -1 for all devices"):
        check_config({"trainer": {"devices": 0}})


# ------------------------------------------------------------------------------------------------ unwritable folders
def test_root_dir_that_is_a_file(tmp_path, capsys) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    code, err = run(capsys, "fit", "--config", TOY, "--trainer.default_root_dir", str(file))
    assert_one_message(code, err, f"trainer.default_root_dir = {file}: is a file, expected a folder")
    code, err = run(capsys, "fit", "--config", TOY, "--trainer.default_root_dir", str(file / "runs"))
    assert_one_message(code, err, f"{file / 'runs'}: cannot be created: {file} is a file")
    assert file.read_text() == "mine"


def _permissions_enforced(folder: Path) -> bool:
    """Whether a 0o555 folder refuses writes here: not as root (``os.geteuid() == 0``), unless its capabilities were
    dropped, so probe."""
    probe = folder / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        (probe / "x").touch()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
        shutil.rmtree(probe)
    return False


class ReadOnly:
    """Makes a folder read-only: ``chmod -R a-w`` where permissions are enforced, else (root) a read-only remount of
    a tmpfs mounted there; ``None`` from :meth:`prepare` where neither works."""

    def __init__(self, folder: Path, how: str) -> None:
        self.folder, self.how = folder, how

    @classmethod
    def prepare(cls, folder: Path) -> "ReadOnly | None":
        folder.mkdir(parents=True)
        if _permissions_enforced(folder.parent):
            return cls(folder, "chmod")
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=10m", "tmpfs", str(folder)], capture_output=True)
        return cls(folder, "remount") if mounted.returncode == 0 else None

    def apply(self) -> None:
        if self.how == "chmod":
            for path in [self.folder, *self.folder.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o555)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(self.folder)], check=True, capture_output=True)

    def undo(self) -> None:
        if self.how == "chmod":
            for path in [self.folder, *self.folder.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o755)
        else:
            subprocess.run(["umount", str(self.folder)], check=False, capture_output=True)


class ReadOnlyAfterEpoch(Callback):
    """Makes ``folder`` read-only at the end of training epoch ``epoch``, before that epoch's checkpoint is saved."""

    def __init__(self, folder: str, how: str, epoch: int = 1) -> None:
        self.switch, self.epoch = ReadOnly(Path(folder), how), epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            self.switch.apply()


@pytest.fixture
def read_only(tmp_path):
    switch = ReadOnly.prepare(tmp_path / "root")
    if switch is None:
        pytest.skip("running as root, and no tmpfs can be mounted to make a folder read-only")
    yield switch
    switch.undo()


def test_read_only_root_is_refused_before_training(read_only, capsys) -> None:
    read_only.apply()
    for root in (read_only.folder, read_only.folder / "runs"):
        code, err = run(capsys, "fit", "--config", TOY, "--trainer.default_root_dir", str(root))
        why = "not writable (permission denied)" if read_only.how == "chmod" else "on a read-only file system"
        assert_one_message(code, err, f"trainer.default_root_dir = {root}", why, "--trainer.default_root_dir")
    assert list(read_only.folder.iterdir()) == []  # stopped before anything was built


def test_run_folder_turning_read_only_keeps_the_last_checkpoint(read_only, capsys) -> None:
    """The folder turns read-only after epoch 1's validation: epoch 1's checkpoint fails, epoch 0's stay intact."""
    code, err = run(capsys, "fit", "--config", TOY, "--trainer.max_epochs", "3",
                    "--trainer.default_root_dir", str(read_only.folder),
                    f"--trainer.callbacks+={__name__}.ReadOnlyAfterEpoch", "--trainer.callbacks.folder",
                    str(read_only.folder), "--trainer.callbacks.how", read_only.how)  # fmt: skip
    checkpoints = read_only.folder / "csv" / "version_0" / "checkpoints"
    oserror = "[Errno 13] Permission denied" if read_only.how == "chmod" else "[Errno 30] Read-only file system"
    assert_one_message(code, err, f"cannot write epoch=1-step=32.ckpt in {checkpoints}: {oserror}",
                       f"last checkpoint written, {checkpoints / 'last.ckpt'}, is intact",
                       f"resume with --ckpt_path {checkpoints / 'last.ckpt'}")  # fmt: skip
    _assert_epoch_0_intact(checkpoints)
