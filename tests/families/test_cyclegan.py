"""The CycleGAN family end to end through the CLI: the dataset configs are the reference's recipe; a tiny fit, test
and predict in both directions on a few images of the bundled unpaired demo; a resumed fit with its image pools is
bit-identical to an uninterrupted one; bad data stops at setup with one message.

Training runs use tiny networks (ngf 4, one residual block) on a copy of a few demo images: seconds on a CPU.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lightning_gan.cli import main
from lightning_gan.deploy.api import load_generator
from lightning_gan.deploy.export import main as export_main
from lightning_gan.deploy.export import sidecar_path
from lightning_gan.deploy.loading import load_gan
from lightning_gan.errors import ConfigError, InputError, user_error
from tests.conftest import CONFIGS, ROOT
from tests.experiments import EXPERIMENTS
from tests.training.test_resume import assert_same_training_state

DEMO = ROOT / "data" / "cyclegan_demo"
TINY = [
    "--model.generator.init_args.ngf", "4", "--model.generator.init_args.n_blocks", "1",
    "--model.discriminator.init_args.ndf", "4", "--data.init_args.num_workers", "0",
    "--data.init_args.batch_size", "2", "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
    "--trainer.callbacks+=lightning_gan.callbacks.SampleLogger",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def copy_small_demo(root: Path) -> Path:
    """6 A and 4 B training images, 2 + 2 test images, copied from the bundled demo."""
    for split, n in (("trainA", 6), ("trainB", 4), ("testA", 2), ("testB", 2)):
        (root / split).mkdir(parents=True)
        for path in sorted((DEMO / split).glob("*.png"))[:n]:
            shutil.copy(path, root / split / path.name)
    return root


@pytest.fixture
def small_demo(tmp_path: Path) -> Path:
    return copy_small_demo(tmp_path / "data")


def run(command: str, root: Path, data: Path, *extra: str):
    return main([command, "--config", str(CONFIGS / "cyclegan_demo.yaml"), "--data.init_args.root", str(data),
                 "--trainer.default_root_dir", str(root), *TINY, *extra])  # fmt: skip


def last_checkpoint(root: Path) -> Path:
    return root / "csv" / "version_0" / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One tiny epoch: (the data, last.ckpt)."""
    tmp = tmp_path_factory.mktemp("cyclegan")
    data = copy_small_demo(tmp / "data")
    torch.set_num_threads(1)
    run("fit", tmp / "run", data, "--trainer.max_epochs", "1")
    return data, last_checkpoint(tmp / "run")


def test_fit_test_and_predict_in_both_directions(tmp_path: Path, small_demo: Path) -> None:
    cli = run("fit", tmp_path / "run", small_demo, "--trainer.max_epochs", "1")
    assert cli.trainer.global_step == 2 * 3  # max(6, 4) = 6 items in batches of 2, two optimizer steps each
    assert len(cli.model.objective.pool_fake_a) == 6 and len(cli.model.objective.pool_fake_b) == 6
    checkpoint = last_checkpoint(tmp_path / "run")
    saved = torch.load(checkpoint, weights_only=False)["state_dict"]
    assert saved["objective.pool_fake_b._extra_state"].shape == (6, 3, 64, 64)  # the pools are in the checkpoint

    tested = run("test", tmp_path / "run", small_demo, "--ckpt_path", str(checkpoint))
    logged = tested.trainer.callback_metrics
    assert {"test/psnr", "test/ssim", "test/l1", "test/cycle_l1_A", "test/cycle_l1_B"} <= set(logged)
    assert 0 < float(logged["test/cycle_l1_A"]) < 2 and 0 < float(logged["test/cycle_l1_B"]) < 2
    reports = list((tmp_path / "run").rglob("index.html"))  # input | output | target per test image
    assert len(reports) == 1 and "0000.png" in reports[0].read_text()
    assert {p.name for p in (reports[0].parent / "images").iterdir()} >= {"00000_input.png", "00000_output.png"}

    outputs = {}
    for direction, source in (("AtoB", "testA"), ("BtoA", "testB")):
        out = tmp_path / f"pred_{direction}"
        cli = run("predict", tmp_path / "run", small_demo, "--ckpt_path", str(checkpoint),
                  "--data.init_args.predict_dir", str(small_demo / source), "--data.init_args.direction", direction,
                  "--prediction_writer.output_dir", str(out))  # fmt: skip
        assert cli.model.objective.direction == direction and cli.model.generator.direction == direction
        names = sorted(p.name for p in out.iterdir())
        assert names == sorted(p.name for p in (small_demo / source).iterdir())  # the inputs' names
        outputs[direction] = [Image.open(out / name).size for name in names]
        g = cli.model.generator
        translator = g.g_a if direction == "AtoB" else g.g_b
        x = torch.rand(1, 3, 64, 64) * 2 - 1
        generated = cli.model.objective.generate(g, x, None, None, torch.device("cpu"))
        assert torch.equal(generated, translator(x))  # the direction's own generator translates
    assert outputs["AtoB"] == outputs["BtoA"] == [(64, 64), (64, 64)]


def test_the_python_api_translates_in_the_direction_asked(fitted: tuple[Path, Path]) -> None:
    data, checkpoint = fitted
    generator = load_generator(checkpoint, device="cpu")
    assert (generator.info.family, generator.info.direction) == ("cyclegan", "AtoB")
    image = data / "testA" / "0000.png"
    a_to_b = generator.translate(image)
    assert generator.translate(image, direction="AtoB") == a_to_b
    b_to_a = generator.translate(image, direction="BtoA")  # an A image through G_B: a different translation
    assert generator.info.direction == "BtoA" and b_to_a.size == a_to_b.size == (64, 64)
    assert np.abs(np.asarray(b_to_a, dtype=float) - np.asarray(a_to_b, dtype=float)).mean() > 0.5
    with pytest.raises(ValueError, match=r"`direction` to be one of \('AtoB', 'BtoA'\)"):
        generator.translate(image, direction="AtoC")


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_export_writes_one_direction_with_its_geometry(
    fitted: tuple[Path, Path], tmp_path: Path, direction: str
) -> None:
    _, checkpoint = fitted
    out = export_main(["--ckpt_path", str(checkpoint), "--format", "torchscript", "--direction", direction,
                       "--output", str(tmp_path / "g.pt")])  # fmt: skip
    meta = json.loads(sidecar_path(out).read_text())
    assert (meta["family"], meta["direction"]) == ("cyclegan", direction)
    assert meta["whole_input"]["geometry"]["crop_size"] == 64 and meta["whole_input"]["geometry"]["load_size"] == 72
    traced = torch.jit.load(str(out))
    module, _ = load_gan(checkpoint)
    pair = module.inference_generator.eval()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        expected = (pair.g_a if direction == "AtoB" else pair.g_b)(x)
        torch.testing.assert_close(traced(x), expected)


def test_a_resumed_fit_with_pools_is_bit_identical(tmp_path: Path, small_demo: Path) -> None:
    """2 epochs straight == 1 epoch, then resume from last.ckpt for 1 more: same weights, optimizer states and image
    pools (pool 4 < 6 fakes per epoch, so the second epoch swaps stored images at random)."""
    pool = ["--model.objective.init_args.pool_size", "4"]
    run("fit", tmp_path / "straight", small_demo, "--trainer.max_epochs", "2", *pool)
    run("fit", tmp_path / "resumed", small_demo, "--trainer.max_epochs", "1", *pool)
    run("fit", tmp_path / "resumed", small_demo, "--trainer.max_epochs", "2", *pool,
        "--ckpt_path", str(last_checkpoint(tmp_path / "resumed")))  # fmt: skip
    straight = torch.load(last_checkpoint(tmp_path / "straight"), weights_only=False)
    resumed = torch.load(last_checkpoint(tmp_path / "resumed"), weights_only=False)
    assert straight["global_step"] == 2 * 3 * 2
    assert straight["state_dict"]["objective.pool_fake_a._extra_state"].shape[0] == 4
    assert_same_training_state(straight, resumed)


def test_bad_data_stops_with_one_message_naming_it(tmp_path: Path, small_demo: Path) -> None:
    shutil.rmtree(small_demo / "trainB")
    (small_demo / "trainB").mkdir()
    with pytest.raises(InputError, match=r"no images in .*trainB"):
        run("fit", tmp_path / "a", small_demo, "--trainer.max_epochs", "1")
    shutil.rmtree(small_demo / "trainB")
    with pytest.raises(InputError, match=r"domain folder not found: .*trainB"):
        run("fit", tmp_path / "b", small_demo, "--trainer.max_epochs", "1")
    with pytest.raises(InputError, match=r"has the paired layout .* expected trainA/, trainB/"):
        run("fit", tmp_path / "c", ROOT / "data" / "pix2pix_demo", "--trainer.max_epochs", "1")


def test_channels_and_identity_are_checked_at_setup(tmp_path: Path, small_demo: Path) -> None:
    with pytest.raises(ConfigError, match=r"identity_weight = 0.5, but domain A has 1 channels and domain B 3"):
        run("fit", tmp_path / "a", small_demo, "--trainer.max_epochs", "1", "--data.init_args.channels_a", "1")
    with pytest.raises(ConfigError, match=r"model.generator.init_args.channels_a = 3, but the data's domain A has 1"):
        run("fit", tmp_path / "b", small_demo, "--trainer.max_epochs", "1", "--data.init_args.channels_a", "1",
            "--model.objective.init_args.identity_weight", "0",
            "--model.generator.init_args.channels_a", "3")  # fmt: skip


def test_a_direction_that_does_not_exist_is_refused(tmp_path: Path, small_demo: Path) -> None:
    """The parser refuses it, naming the key, the value and the two directions (one line on the command line)."""
    with pytest.raises(Exception) as info:  # jsonargparse's error; user_error finds the message
        run("predict", tmp_path / "a", small_demo, "--data.init_args.direction", "AtoC")
    message = str(user_error(info.value))
    assert "direction" in message and "AtoC" in message and "'AtoB', 'BtoA'" in message


@pytest.mark.parametrize("dataset", ["horse2zebra", "monet2photo"])
def test_dataset_configs_are_the_reference_recipe(dataset: str, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["fit", *EXPERIMENTS[f"cyclegan_{dataset}"].config_args(), "--print_config"])
    import yaml

    printed = yaml.safe_load(capsys.readouterr().out)
    model, data = printed["model"], printed["data"]["init_args"]
    assert data["root"] == f"datasets/{dataset}" and printed["trainer"]["max_epochs"] == 200
    assert (data["load_size"], data["crop_size"], data["flip"], data["batch_size"]) == (286, 256, True, 1)
    g, d = model["generator"]["init_args"], model["discriminator"]["init_args"]
    assert (g["ngf"], g["n_blocks"], g["norm"], g["dropout"]) == (64, 9, "instance", False)
    assert (d["ndf"], d["n_layers"], d["norm"]) == (64, 3, "instance")
    objective = model["objective"]["init_args"]
    assert objective["loss"]["class_path"].endswith("LeastSquaresLoss")
    assert (objective["lambda_a"], objective["lambda_b"], objective["identity_weight"], objective["pool_size"]) == (
        10.0, 10.0, 0.5, 50)  # fmt: skip
    for side in ("g", "d"):
        assert model[f"{side}_optimizer"]["init_args"]["lr"] == 0.0002
        assert model[f"{side}_optimizer"]["init_args"]["betas"] == [0.5, 0.999]
        scheduler = model[f"{side}_scheduler"]["init_args"]
        assert (scheduler["constant_epochs"], scheduler["decay_epochs"]) == (100, 100)
