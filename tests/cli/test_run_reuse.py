"""A trained run is the unit of work (issue #26): validate/test/predict/export from its checkpoint (or its folder)
alone, outputs that stay in the run and never overwrite, the run's config.yaml accepted by every subcommand, and a
readable end of fit with a metrics.json.

One tiny pix2pix run (W&B offline, as a user without an account meets it) is trained once for the module."""

import json
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml

from lightning_gan.callbacks import RunSummary
from lightning_gan.callbacks.html_report import expand_report_flag
from lightning_gan.cli import main
from tests.conftest import ROOT, console_error
from tests.experiments import EXPERIMENTS

PAIRS = ROOT / "data" / "pix2pix_demo"
TINY_TRAINER = [
    "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
    "--trainer.num_sanity_val_steps", "0", "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false", "--trainer.accelerator", "cpu",
]  # fmt: skip


def _fit_args(root: Path) -> list[str]:
    demo = EXPERIMENTS["pix2pix_demo"]
    return ["fit", *demo.config_args(), *demo.tiny, "--trainer.default_root_dir", str(root), *TINY_TRAINER]


class Trained:
    def __init__(self, root: Path, run: Path, summary: list[str]) -> None:
        self.root, self.run, self.summary = root, run, summary

    def runs(self) -> set[Path]:
        """Every run folder and W&B run under the root: evaluation must add none."""
        return {p for p in self.root.rglob("*") if p.is_dir() and (p / "checkpoints").is_dir()} | set(
            (self.root / "wandb").glob("offline-run-*")
        )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WANDB_MODE", "offline")
        patch.setenv("WANDB_SILENT", "true")
        for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
            (root.parent / "_wandb" / var).mkdir(parents=True, exist_ok=True)
            patch.setenv(var, str(root.parent / "_wandb" / var))
        patch.delenv("WANDB_API_KEY", raising=False)
        patch.chdir(ROOT)
        cli = main(_fit_args(root))
        (summary,) = [c for c in cli.trainer.callbacks if isinstance(c, RunSummary)]
        (run,) = {p.parent.parent for p in root.rglob("checkpoints/last.ckpt")}
        yield Trained(root, run, summary.lines)


def _test_metrics(args: list[str]) -> dict[str, float]:
    cli = main(["test", *args, "--trainer.limit_test_batches", "2"])
    return {k: float(v) for k, v in cli.trainer.callback_metrics.items()}


def test_test_with_only_the_checkpoint_equals_the_full_config_and_stays_in_the_run(trained: Trained) -> None:
    ckpt = trained.run / "checkpoints" / "last.ckpt"
    before = trained.runs()
    alone = _test_metrics(["--ckpt_path", str(ckpt)])
    demo = EXPERIMENTS["pix2pix_demo"]
    full = _test_metrics([*demo.config_args(), *demo.tiny, "--trainer.default_root_dir", str(trained.root),
                          "--trainer.accelerator", "cpu", "--ckpt_path", str(ckpt)])  # fmt: skip
    assert alone and alone == pytest.approx(full)
    assert trained.runs() == before  # no new run folder, no new W&B run
    reports = sorted((trained.run / "test").glob("*/metrics.json"))
    assert len(reports) == 2  # <run>/test/<time>/ and <time>-2: the second never replaced the first
    assert json.loads(reports[0].read_text())["summary"]["test/psnr"] == pytest.approx(alone["test/psnr"])


def test_a_run_folder_is_enough_and_its_best_checkpoint_is_taken(trained: Trained, capsys) -> None:
    recorded = json.loads((trained.run / "metrics.json").read_text())
    assert Path(recorded["best_checkpoint"]).is_file()
    main(["validate", "--ckpt_path", str(trained.run)])
    assert f"using its checkpoint {recorded['best_checkpoint']}" in capsys.readouterr().out


def test_two_predicts_into_the_default_place_do_not_overwrite_each_other(trained: Trained) -> None:
    inputs = PAIRS / "test"
    for _ in range(2):
        main(["predict", "--ckpt_path", str(trained.run), "--data.init_args.predict_dir", str(inputs)])
    first, second = trained.run / "predictions" / "test", trained.run / "predictions" / "test-2"
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in inputs.iterdir())
    assert sorted(p.name for p in second.iterdir()) == sorted(p.name for p in inputs.iterdir())


def test_a_given_output_folder_holding_files_is_refused_unless_overwrite(trained: Trained, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.png").write_bytes(b"x")
    args = ["predict", "--ckpt_path", str(trained.run), "--data.init_args.predict_dir", str(PAIRS / "test"),
            "--prediction_writer.output_dir", str(out)]  # fmt: skip
    assert console_error(args, capsys) == (
        f"--prediction_writer.output_dir {out} already holds files (mine.png): predictions are never mixed into "
        "earlier outputs. Nothing was written; choose a new or empty folder, or add --overwrite true to replace "
        "outputs of the same name"
    )
    assert [p.name for p in out.iterdir()] == ["mine.png"]
    main([*args, "--overwrite", "true"])
    assert len(list(out.iterdir())) == 1 + len(list((PAIRS / "test").iterdir()))


@pytest.mark.parametrize("subcommand", ["fit", "validate", "test", "predict", "export"])
def test_the_runs_config_yaml_is_accepted_by_every_subcommand(trained: Trained, subcommand: str, tmp_path) -> None:
    config = ["--config", str(trained.run / "config.yaml")]
    ckpt = ["--ckpt_path", str(trained.run / "checkpoints" / "last.ckpt")]
    if subcommand == "fit":
        before = trained.runs()  # a new run beside the first, in the root and W&B project the config recorded
        main(["fit", *config, "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1"])
        new = {p for p in trained.runs() - before if (p / "checkpoints" / "last.ckpt").is_file()}
        assert len(new) == 1 and new.pop().parent == trained.run.parent
    elif subcommand == "export":
        pytest.importorskip("onnx")
        written = main(["export", *config, *ckpt, "--output", str(tmp_path / "g.onnx")])
        assert written.is_file()
    elif subcommand == "predict":
        main(["predict", *config, *ckpt, "--data.init_args.predict_dir", str(PAIRS / "test"),
              "--prediction_writer.output_dir", str(tmp_path / "out")])  # fmt: skip
        assert len(list((tmp_path / "out").iterdir())) == len(list((PAIRS / "test").iterdir()))
    else:
        main([subcommand, *config, *ckpt, f"--trainer.limit_{subcommand.replace('validate', 'val')}_batches", "1",
              "--report.folder", str(tmp_path / "report")])  # fmt: skip


def test_export_from_the_run_folder_writes_beside_its_checkpoint(trained: Trained, tmp_path) -> None:
    pytest.importorskip("onnx")
    copy = tmp_path / trained.run.name
    shutil.copytree(trained.run, copy, ignore=shutil.ignore_patterns("predictions", "test"))
    (copy / "metrics.json").unlink()  # the copy's best_checkpoint names the original: take last.ckpt
    written = main(["export", "--ckpt_path", str(copy)])
    assert written == copy / "checkpoints" / "last.onnx"


def _moved_run(trained: Trained, tmp_path: Path, **changes: str) -> Path:
    """A copy of the run whose config.yaml has ``changes`` (dotted keys) applied."""
    copy = tmp_path / "moved"
    shutil.copytree(trained.run / "checkpoints", copy / "checkpoints")
    config = yaml.safe_load((trained.run / "config.yaml").read_text())
    for key, value in changes.items():
        node = config
        *path, last = key.split(".")
        for part in path:
            node = node[part]
        node[last] = value
    (copy / "config.yaml").write_text(yaml.safe_dump(config))
    return copy


def test_a_recorded_data_folder_that_is_gone_is_one_message(trained: Trained, tmp_path, capsys) -> None:
    gone = str(tmp_path / "gone")
    run = _moved_run(trained, tmp_path, **{"data.init_args.root": gone})
    args = ["test", "--ckpt_path", str(run / "checkpoints" / "last.ckpt")]
    assert console_error(args, capsys) == (
        f"the run's data folder data.init_args.root = {gone} (recorded in {run / 'config.yaml'}) no longer exists: "
        "pass the folder's new place with --data.init_args.root <folder>"
    )
    main([*args, "--data.init_args.root", str(PAIRS), "--trainer.limit_test_batches", "1"])


def test_a_found_config_naming_untrusted_code_is_refused_before_import(trained: Trained, tmp_path, capsys) -> None:
    run = _moved_run(trained, tmp_path, **{"model.generator.class_path": "collections.OrderedDict"})
    message = console_error(["validate", "--ckpt_path", str(run)], capsys)
    assert message.startswith(
        f"the run's config {run / 'config.yaml'}, found beside the checkpoint, names model.generator.class_path = "
        "'collections.OrderedDict', outside the trusted modules"
    )
    assert message.endswith(
        f"If you trust this run and its code, pass --trusted_modules collections, or --config {run / 'config.yaml'} "
        "to use it as your own config"
    )


def test_a_checkpoint_outside_a_run_folder_without_config_says_to_pass_one(trained: Trained, tmp_path, capsys) -> None:
    saved = torch.load(trained.run / "checkpoints" / "last.ckpt", weights_only=False)
    saved["lightning_gan_run"]["run_dir"] = str(tmp_path / "deleted_run")
    lone = tmp_path / "model.ckpt"
    torch.save(saved, lone)
    assert console_error(["predict", "--ckpt_path", str(lone)], capsys) == (
        f"{lone} is not inside a run folder (<run>/checkpoints/) and records none that still exists, so there is no "
        "run config to rebuild the model and data from: pass the training config with --config <config.yaml>"
    )
    empty = tmp_path / "empty_run"
    (empty / "checkpoints").mkdir(parents=True)
    assert console_error(["test", "--ckpt_path", str(empty)], capsys) == (
        f"--ckpt_path {empty} is a folder without a checkpoint (no metrics.json naming one, no checkpoints/last.ckpt): "
        "give a run folder written by `lightning_gan fit`, or the checkpoint file itself"
    )


def test_the_end_of_fit_summary_names_existing_files_and_commands_that_work(trained: Trained) -> None:
    lines = "\n".join(trained.summary)
    recorded = json.loads((trained.run / "metrics.json").read_text())
    assert recorded["monitor"] == "val/psnr" and recorded["best_score"] == pytest.approx(recorded["final"]["val/psnr"])
    fields = {k: v.strip() for k, v in (line.strip().split(": ", 1) for line in trained.summary[1:])}
    assert fields["best checkpoint"].startswith(recorded["best_checkpoint"] + " (val/psnr = ")
    for key in ("last checkpoint", "samples", "metrics"):
        assert Path(fields[key]).exists(), key
    assert "(offline): upload with `wandb sync " in fields["W&B run"]
    assert Path(fields["W&B run"].split("wandb sync ", 1)[1].rstrip("`")).is_dir()
    test = shlex.split(fields["test"])
    assert test[:4] == ["python", "-m", "lightning_gan", "test"] and "Run finished: " in lines
    main([*test[3:], "--trainer.limit_test_batches", "1"])
    assert fields["predict"].endswith("--data.init_args.predict_dir <your inputs>")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["--report"], ["--report.enabled=true"]),
        (["--report", "true"], ["--report.enabled=true"]),
        (["--report", "False"], ["--report.enabled=false"]),
        (["--report=no"], ["--report.enabled=false"]),
        (["--report", "--x"], ["--report.enabled=true", "--x"]),
        (["--report", "report.yaml"], ["--report", "report.yaml"]),
    ],
)
def test_the_report_flag_takes_true_or_false(given: list[str], expected: list[str]) -> None:
    assert expand_report_flag(given) == expected


def test_report_false_writes_no_report_into_the_run(trained: Trained) -> None:
    before = set((trained.run / "test").glob("*")) if (trained.run / "test").is_dir() else set()
    main(["test", "--ckpt_path", str(trained.run), "--report", "false", "--trainer.limit_test_batches", "1"])
    after = set((trained.run / "test").glob("*")) if (trained.run / "test").is_dir() else set()
    assert after == before
