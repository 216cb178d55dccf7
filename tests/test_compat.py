"""Each private Lightning (or torch) attribute in ``lightning_gan._compat`` still exists and behaves as the package
expects; when a release renames one, these fail with an error naming it, instead of behaviour changing silently."""

import pytest
from lightning.fabric.utilities import cloud_io
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.overrides import distributed
from lightning.pytorch.strategies import DDPStrategy, Strategy
from torch import nn

from lightning_gan import _compat
from lightning_gan.cli import main
from lightning_gan.gan import GAN
from tests.toy import ToyConditionalGenerator, ToyData, ToyDiscriminator, ToyGenerator

TOY = "tests/configs/toy.yaml"


def trainer() -> Trainer:
    return Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False)


class _LogDue(Callback):
    def __init__(self) -> None:
        self.due: list[bool] = []

    def on_train_batch_start(self, trainer: Trainer, *args: object) -> None:
        self.due.append(_compat.should_update_logs(trainer))


def test_should_update_logs(monkeypatch, tmp_path) -> None:
    """True on the batches whose step values the loggers write: every `log_every_n_steps`-th batch."""
    probe = _LogDue()
    fitting = Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, max_epochs=1, limit_train_batches=7, log_every_n_steps=3,
                      default_root_dir=tmp_path, callbacks=[probe])  # fmt: skip
    fitting.fit(GAN(ToyGenerator(), ToyDiscriminator()), ToyData(n=56, batch_size=8))
    assert probe.due == [False, False, True, False, False, True, False]
    t = trainer()
    monkeypatch.delattr(type(t._logger_connector), "should_update_logs")
    with pytest.raises(AttributeError, match="should_update_logs"):
        _compat.should_update_logs(t)
    monkeypatch.delattr(t, "_logger_connector")
    with pytest.raises(AttributeError, match="_logger_connector"):
        _compat.should_update_logs(t)


def test_attached_trainer(monkeypatch) -> None:
    module = GAN(ToyConditionalGenerator(), ToyDiscriminator(2))
    assert _compat.attached_trainer(module) is None
    t = trainer()
    module.trainer = t
    assert _compat.attached_trainer(module) is t
    monkeypatch.delattr(module, "_trainer")
    with pytest.raises(AttributeError, match=r"GAN\._trainer"):
        _compat.attached_trainer(module)


def test_is_compiled(monkeypatch) -> None:
    net = nn.Linear(2, 2)
    assert not _compat.is_compiled(net)
    net.compile()
    assert _compat.is_compiled(net)
    monkeypatch.delattr(nn.Module, "_compiled_call_impl")  # a class attribute, None until compile() sets its own
    with pytest.raises(AttributeError, match="_compiled_call_impl"):
        _compat.is_compiled(nn.Linear(2, 2))


def test_wandb_run_started(tmp_path, monkeypatch) -> None:
    logger = WandbLogger(save_dir=tmp_path, offline=True)
    assert _compat.wandb_run_started(logger) is False  # and asking did not start one
    assert _compat.wandb_run_started(logger) is False
    monkeypatch.delattr(logger, "_experiment")
    with pytest.raises(AttributeError, match="_experiment"):
        _compat.wandb_run_started(logger)


def test_subcommand_parser(tmp_path, monkeypatch) -> None:
    cli = main(["validate", "--untrained", "true", "--config", TOY, "--trainer.default_root_dir", str(tmp_path),
                "--trainer.limit_val_batches", "1"])  # fmt: skip
    parser = _compat.subcommand_parser(cli, "fit")
    assert parser.get_default("model.n_critic") == 1
    monkeypatch.delattr(cli, "_subcommand_parsers")
    with pytest.raises(AttributeError, match="_subcommand_parsers"):
        _compat.subcommand_parser(cli, "fit")


def test_is_local_path(monkeypatch) -> None:
    assert _compat.is_local_path("runs/x/last.ckpt") and not _compat.is_local_path("s3://bucket/last.ckpt")
    monkeypatch.delattr(cloud_io, "_is_local_file_protocol")
    with pytest.raises(AttributeError, match="_is_local_file_protocol"):
        _compat.is_local_path("runs/x/last.ckpt")


def test_ddp_helpers(monkeypatch) -> None:
    """Without a process group they cannot run here; ``tests/training/test_ddp.py`` runs them in real DDP."""
    wrap = _compat.ddp_wrapper(DDPStrategy())
    assert wrap.__func__ is DDPStrategy._setup_model  # DDP's own wrapper, not Strategy's no-op default
    monkeypatch.delattr(DDPStrategy, "_setup_model")
    monkeypatch.delattr(Strategy, "_setup_model")
    with pytest.raises(AttributeError, match="_setup_model"):
        _compat.ddp_wrapper(DDPStrategy())
    monkeypatch.delattr(distributed, "_sync_module_states")
    with pytest.raises(AttributeError, match="_sync_module_states"):
        _compat.sync_module_states(nn.Linear(1, 1))


@pytest.mark.parametrize("name", ["_parse_ckpt_path", "_run_subcommand"])
def test_the_overridden_cli_steps_exist_and_run(name: str, tmp_path, monkeypatch) -> None:
    """``PrivateCLIHooks`` overrides these two; both must still be LightningCLI methods that Lightning calls."""
    assert callable(getattr(LightningCLI, name))
    calls = []
    hook = {"_parse_ckpt_path": "after_parse_ckpt_path", "_run_subcommand": "after_run_subcommand"}[name]
    original = getattr(_compat.PrivateCLIHooks, hook)
    monkeypatch.setattr(_compat.PrivateCLIHooks, hook, lambda self: calls.append(hook))
    from lightning_gan.cli import GANCLI

    monkeypatch.setattr(GANCLI, hook, lambda self: (calls.append(hook), original(self)))
    main(["validate", "--untrained", "true", "--config", TOY, "--trainer.default_root_dir", str(tmp_path),
          "--trainer.limit_val_batches", "1"])  # fmt: skip
    assert calls == [hook]


def test_the_before_hooks_and_subcommand_arguments_run(tmp_path, monkeypatch) -> None:
    """``_prepare_subcommand_parser`` (once per subcommand), then ``_parse_ckpt_path`` and ``_run_subcommand``."""
    assert callable(LightningCLI._prepare_subcommand_parser)
    from lightning_gan.cli import GANCLI

    calls = []
    for hook in ("before_parse_ckpt_path", "before_run_subcommand", "add_subcommand_arguments"):
        original = getattr(GANCLI, hook)
        monkeypatch.setattr(GANCLI, hook, lambda self, *a, _h=hook, _o=original: (calls.append(_h), _o(self, *a)))
    cli = main(["validate", "--untrained", "true", "--config", TOY, "--trainer.default_root_dir", str(tmp_path),
                "--trainer.limit_val_batches", "1"])  # fmt: skip
    assert calls == ["add_subcommand_arguments"] * 4 + ["before_parse_ckpt_path", "before_run_subcommand"]
    assert cli.config.validate.untrained is True  # a subcommand argument


def test_logger_version(tmp_path, monkeypatch) -> None:
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    for kind in (CSVLogger, TensorBoardLogger):
        logger = kind(tmp_path, name="x")
        assert _compat.logger_version(logger) is None  # not chosen yet (and asking did not choose)
        _compat.set_logger_version(logger, 7)
        assert logger.version == 7 and logger.log_dir.endswith("version_7")
        _compat.set_logger_version(logger, "version_3")
        assert logger.log_dir.endswith("version_3")
        monkeypatch.delattr(logger, "_version")
        with pytest.raises(AttributeError, match="_version"):
            _compat.logger_version(logger)


def test_a_missing_private_name_says_which() -> None:
    with pytest.raises(AttributeError, match=r"private `Linear._renamed`.*update lightning_gan/_compat.py"):
        _compat._require(nn.Linear(1, 1), "_renamed")
    with pytest.raises(AttributeError, match=r"private `DDPStrategy._renamed`"):
        _compat._require(DDPStrategy, "_renamed")
