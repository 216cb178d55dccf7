"""A checkpoint can name only classes of trusted modules (``lightning_gan.checkpoints.trust``): a planted
``{class_path: os.system, init_args: {command: ...}}`` is refused with one message, by every command that loads a
checkpoint, before anything it names is imported or run; the default modules, ``$LIGHTNING_GAN_TRUSTED_MODULES``
and ``trusted_modules=`` decide what is trusted, by whole module components.

One tiny toy checkpoint (``tests/configs/toy.yaml``) and one of the relativistic example are written through the
CLI, once for the module. The toy nets live in ``tests.toy``, which the CLI tests trust through the variable, so
that the refusal they see is the planted entry's.
"""

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from lightning_gan.checkpoints import TRUSTED_MODULES_VARIABLE, read_checkpoint
from lightning_gan.checkpoints.trust import (
    DEFAULT_TRUSTED_MODULES,
    check_trusted,
    config_class_paths,
    is_under,
    trust_from,
    untrusted_entries,
)
from lightning_gan.cli import console
from lightning_gan.deploy.api import load_gan, load_generator
from lightning_gan.errors import CheckpointError, ConfigError
from tests.conftest import CONFIGS, ROOT

TOY = str(ROOT / "tests" / "configs" / "toy.yaml")
QUIET = ["--trainer.logger", "false", "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary",
         "false", "--trainer.accelerator", "cpu"]  # fmt: skip
ONE_BATCH = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "0",
             "--trainer.num_sanity_val_steps", "0", *QUIET]  # fmt: skip
RELATIVISTIC = "examples.relativistic.RelativisticAverage"


def fit(root: Path, *args: str) -> Path:
    console(["fit", *args, *ONE_BATCH, "--trainer.default_root_dir", str(root)])
    (checkpoint,) = root.glob("*/checkpoints/last.ckpt")
    return checkpoint


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit(tmp_path_factory.mktemp("toy"), "--config", TOY)


@pytest.fixture(scope="module")
def relativistic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example of docs/write_your_own_gan.md: the quickstart with examples/relativistic.py's objective."""
    example = ["--config", str(CONFIGS / "dcgan_digits.yaml"),
               "--config", str(ROOT / "examples" / "relativistic_digits.yaml"),
               "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4"]  # fmt: skip
    return fit(tmp_path_factory.mktemp("relativistic"), *example)


@pytest.fixture
def trust_toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRUSTED_MODULES_VARIABLE, "tests.toy")


def planted(checkpoint: Path, folder: Path, key: str, marker: Path) -> Path:
    """A copy of ``checkpoint`` whose ``hyper_parameters[key]`` runs ``touch marker`` when the model is built."""
    state = torch.load(checkpoint, weights_only=True)
    state["hyper_parameters"][key] = {
        "class_path": "os.system",
        "init_args": {"command": f"touch {shlex.quote(str(marker))}"},
    }
    path = folder / f"planted_{key}.ckpt"
    torch.save(state, path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int | str | None, str]:
    try:
        console(list(args))
        code: int | str | None = 0
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def assert_refused(code: int | str | None, err: str, path: Path, key: str, prefix: str = "lightning_gan") -> None:
    assert code == 2, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    (line,) = [line for line in err.splitlines() if line.startswith(f"{prefix}: error: ")]
    refusal = f"refusing to load checkpoint {path}: hyper_parameters.{key}.class_path is 'os.system', outside the "
    assert refusal + "trusted modules (lightning_gan, torch.optim, " in line, line
    assert f"{TRUSTED_MODULES_VARIABLE}=os " in line, line


# ------------------------------------------------------------------------------------------------ every entry point
@pytest.mark.parametrize(
    ("subcommand", "key"),
    [("validate", "g_optimizer"), ("predict", "g_scheduler"), ("fit", "d_optimizer")],
)
def test_the_cli_refuses_a_planted_command_before_running_it(toy, trust_toy, tmp_path, capsys, subcommand, key) -> None:
    marker = tmp_path / "pwned"
    evil = planted(toy, tmp_path, key, marker)
    code, err = run(capsys, subcommand, "--config", TOY, *QUIET, "--ckpt_path", str(evil),
                    "--trainer.default_root_dir", str(tmp_path / "root"))  # fmt: skip
    assert_refused(code, err, evil, key)
    assert not marker.exists()
    assert not (tmp_path / "root").exists()  # refused before anything was written


def test_export_refuses_a_planted_command_before_running_it(toy, trust_toy, tmp_path, capsys) -> None:
    marker = tmp_path / "pwned"
    evil = planted(toy, tmp_path, "d_scheduler", marker)
    code, err = run(capsys, "export", "--ckpt_path", str(evil), "--output", str(tmp_path / "g.onnx"))
    assert_refused(code, err, evil, "d_scheduler", prefix="lightning_gan export")
    assert not marker.exists()
    assert not (tmp_path / "g.onnx").exists()


def test_load_gan_refuses_a_planted_command_before_running_it(toy, trust_toy, tmp_path) -> None:
    marker = tmp_path / "pwned"
    evil = planted(toy, tmp_path, "g_optimizer", marker)
    with pytest.raises(CheckpointError, match=r"hyper_parameters\.g_optimizer\.class_path is 'os\.system'"):
        load_gan(evil)
    assert not marker.exists()


def test_nothing_untrusted_is_imported_before_the_refusal(toy, trust_toy, tmp_path, monkeypatch) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "planted_module_x.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    state = torch.load(toy, weights_only=True)
    state["hyper_parameters"]["objective"]["init_args"]["loss"] = {"class_path": "planted_module_x.Evil"}
    with pytest.raises(CheckpointError, match=r"objective\.init_args\.loss\.class_path is 'planted_module_x\.Evil'"):
        check_trusted(state, toy)
    assert not marker.exists() and "planted_module_x" not in sys.modules


# ------------------------------------------------------------------------------------------------ what still loads
def test_a_normal_checkpoint_loads_once_its_own_modules_are_trusted(toy, monkeypatch) -> None:
    monkeypatch.delenv(TRUSTED_MODULES_VARIABLE, raising=False)
    with pytest.raises(
        CheckpointError, match=rf"is 'tests\.toy\.ToyConditionalGenerator'.*{TRUSTED_MODULES_VARIABLE}=tests\.toy "
    ):
        read_checkpoint(toy)
    assert read_checkpoint(toy, trusted_modules="tests.toy")["hyper_parameters"]
    module, _ = load_gan(toy, trusted_modules=["tests"])
    assert type(module.generator).__name__ == "ToyConditionalGenerator"
    monkeypatch.setenv(TRUSTED_MODULES_VARIABLE, " examples ,tests.toy,")
    assert read_checkpoint(toy)["hyper_parameters"]


def test_the_relativistic_example_loads_with_its_module_trusted(relativistic, monkeypatch) -> None:
    monkeypatch.delenv(TRUSTED_MODULES_VARIABLE, raising=False)
    with pytest.raises(CheckpointError, match=rf"objective\.class_path is '{RELATIVISTIC}'.*=examples\.relativistic "):
        load_generator(relativistic, device="cpu")
    generator = load_generator(relativistic, device="cpu", trusted_modules="examples.relativistic")
    assert type(generator.module.objective).__name__ == "RelativisticAverage"
    assert generator.sample(2, seed=0).shape == (2, 1, 32, 32)
    monkeypatch.setenv(TRUSTED_MODULES_VARIABLE, "examples.relativistic")
    assert type(load_gan(relativistic)[0].objective).__name__ == "RelativisticAverage"


# ------------------------------------------------------------------------------------------------ the allow-list
def refused(hparams: dict[str, Any], trusted: str | list[str] | None = None, **extra: Any) -> dict[str, str]:
    """``{key: why}`` of the refused entries of a checkpoint with these hyper-parameters."""
    entries = untrusted_entries({"hyper_parameters": hparams, **extra}, trust_from(trusted))
    return {key: why for key, _, why, _ in entries}


def test_modules_match_by_whole_components() -> None:
    assert is_under("torch.optim.Adam", ["torch.optim"]) and is_under("torch.optim", ["torch.optim"])
    assert not is_under("torch.optimx.Adam", ["torch.optim"]) and not is_under(
        "lightning_gan_evil.X", ["lightning_gan"]
    )
    ok = {"class_path": "torch.optim.lr_scheduler.StepLR"}
    assert refused({"a": ok, "b": {"class_path": "torchmetrics.MeanAbsoluteError"}}) == {}
    assert set(refused({"a": {"class_path": "torch.optimx.Adam"}, "b": [{"class_path": "lightning_gan_evil.X"}]})) == {
        "hyper_parameters.a.class_path",
        "hyper_parameters.b[0].class_path",
    }
    assert "lightning_gan" in DEFAULT_TRUSTED_MODULES and "torchmetrics" in DEFAULT_TRUSTED_MODULES


def test_every_place_that_would_import_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "optimizer.yaml"
    config.write_text("class_path: os.system\ninit_args:\n  command: touch pwned\n")
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"PK\x03\x04\x00\xff\xfe binary")
    inception = {"weights": str(config), "check_hash": "${oc.env:HOME}"}  # weights: `str | None`, never a config
    found = refused(
        {
            "g_optimizer": "os.system",  # jsonargparse imports a bare string where a callable is expected
            "g_scheduler": str(config),  # ... and reads a file named there as a config
            "d_optimizer": "optimizer.yaml",  # relative to the working folder, as jsonargparse reads it
            "d_scheduler": {"class_path": "lightning_gan.checkpoints.trust.os.system"},  # a re-export of os
            "generator": {"class_path": "lightning_gan._compat.PrivateCLIHooks"},
            "discriminator": {"class_path": "lightning_gan.checkpoints.atomic.atomic_torch_save"},  # a function
            "objective": {"class_path": "Synthesis"},
            "n_critic": "${oc.env:WANDB_API_KEY}",
            "metrics": {"fid": {"class_path": "lightning_gan.metrics.InceptionFeatures", "init_args": inception}},
            "_instantiator": "os.system",
            "inference": str(weights),  # a binary file cannot be a config
        },
        datamodule_hyper_parameters={"_class_path": "os.system", "root": "data"},
        module_arguments={"g_optimizer": {"class_path": "subprocess.Popen"}},
    )
    file = "a text file, which jsonargparse would read here as a config and build what it names"
    interpolation = "an interpolation, which the CLI would resolve (e.g. read an environment variable)"
    system = f"{'nt' if sys.platform == 'win32' else 'posix'}.system"
    assert found == {
        "hyper_parameters.g_optimizer": "a name jsonargparse would import here, outside the trusted modules",
        "hyper_parameters.g_scheduler": file,
        "hyper_parameters.d_optimizer": file,
        "hyper_parameters.d_scheduler.class_path": f"which resolves to `{system}`, outside the trusted modules",
        "hyper_parameters.generator.class_path": "a path through the private name '_compat', which a checkpoint "
        "written by fit never names",
        "hyper_parameters.discriminator.class_path": "a function, not a class (a checkpoint may only name classes)",
        "hyper_parameters.objective.class_path": "not a full dotted class path (module.Class)",
        "hyper_parameters.n_critic": interpolation,
        "hyper_parameters.metrics.fid.init_args.check_hash": interpolation,
        "hyper_parameters._instantiator": "not Lightning's instantiator (lightning.pytorch.cli.instantiate_module)",
        "datamodule_hyper_parameters._class_path": "outside the trusted modules",
        "module_arguments.g_optimizer.class_path": "outside the trusted modules",
    }


def test_the_user_extends_the_list_by_variable_or_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    hparams = {"objective": {"class_path": RELATIVISTIC}, "generator": {"class_path": "tests.toy.ToyGenerator"}}
    monkeypatch.delenv(TRUSTED_MODULES_VARIABLE, raising=False)
    assert len(refused(hparams)) == 2
    assert refused(hparams, "examples, tests.toy") == {}
    assert refused(hparams, ["examples.relativistic", "tests"]) == {}
    assert set(refused(hparams, [RELATIVISTIC])) == {"hyper_parameters.generator.class_path"}  # an exact class path
    assert len(refused(hparams, "example")) == 2  # whole components: `example` is not `examples`
    monkeypatch.setenv(TRUSTED_MODULES_VARIABLE, "tests.toy")
    assert set(refused(hparams)) == {"hyper_parameters.objective.class_path"}
    monkeypatch.setenv(TRUSTED_MODULES_VARIABLE, "tests/toy")
    with pytest.raises(ConfigError, match=rf"{TRUSTED_MODULES_VARIABLE}: 'tests/toy' is not a module path"):
        refused(hparams)
    monkeypatch.delenv(TRUSTED_MODULES_VARIABLE)
    with pytest.raises(ConfigError, match=r"trusted_modules: '\*' is not a module path"):
        refused(hparams, "*")


def test_functions_are_accepted_only_from_modules_the_user_named() -> None:
    hparams = {"g_optimizer": {"class_path": "lightning_gan.checkpoints.atomic.atomic_torch_save"}}
    assert refused(hparams) == {
        "hyper_parameters.g_optimizer.class_path": "a function, not a class (a checkpoint may only name classes)"
    }
    assert refused(hparams, "lightning_gan.checkpoints.atomic") == {}


def test_the_cli_can_trust_what_its_config_names() -> None:
    config = {"model": {"objective": {"class_path": RELATIVISTIC, "init_args": {"loss": {"class_path": "a.B"}}}},
              "trainer": {"callbacks": [{"class_path": "my.Callback"}]}, "ckpt_path": "x.ckpt"}  # fmt: skip
    assert config_class_paths(config) == (RELATIVISTIC, "a.B", "my.Callback")
    assert refused({"objective": {"class_path": RELATIVISTIC}}, list(config_class_paths(config))) == {}


def test_the_message_names_the_file_the_key_the_value_and_the_way_out(toy: Path, monkeypatch) -> None:
    monkeypatch.delenv(TRUSTED_MODULES_VARIABLE, raising=False)
    state = torch.load(toy, weights_only=True)
    state["hyper_parameters"]["g_optimizer"] = {"class_path": "os.system", "init_args": {"command": "true"}}
    state["hyper_parameters"]["g_scheduler"] = "${oc.env:HOME}"
    with pytest.raises(CheckpointError) as info:
        check_trusted(state, toy, "tests.toy")
    assert str(info.value) == (
        f"refusing to load checkpoint {toy}: hyper_parameters.g_optimizer.class_path is 'os.system', outside the "
        "trusted modules (lightning_gan, torch.optim, torch.nn, torchmetrics, lightning.pytorch.callbacks, "
        "lightning.pytorch.loggers, pytorch_lightning.callbacks, pytorch_lightning.loggers, and 1 named by the user or "
        "the config); loading the checkpoint would import and run it. If you trust this file and the code it names, "
        f"allow the module with {TRUSTED_MODULES_VARIABLE}=os (comma-separated module prefixes; trusted_modules= in "
        "Python) (1 more refused: hyper_parameters.g_scheduler)."
    )
