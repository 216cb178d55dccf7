"""Say once, at the start of a run, where its checkpoints, samples, report and logs will be."""

from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_info

from lightning_gan.callbacks.html_report import HtmlReport
from lightning_gan.callbacks.prediction_writer import PredictionWriter
from lightning_gan.callbacks.sample_logger import SampleLogger
from lightning_gan.training.run_folders import run_directory


def run_locations(trainer: Trainer, stage: str) -> dict[str, str]:
    """What this run writes where, by label, in the order a person looks for them."""
    where: dict[str, str] = {"run folder": str(run_directory(trainer))}
    if stage == "fit":
        checkpoints = [c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)]  # type: ignore[attr-defined]
        if checkpoints and checkpoints[0].dirpath:
            where["checkpoints"] = str(checkpoints[0].dirpath)
        if any(isinstance(c, SampleLogger) for c in trainer.callbacks):  # type: ignore[attr-defined]
            where["samples"] = str(run_directory(trainer) / "samples")
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if stage == "predict" and isinstance(callback, PredictionWriter) and callback.output_dir is not None:
            where["predictions"] = str(callback.output_dir)
        if isinstance(callback, HtmlReport) and callback.path is not None:
            where["report"] = str(callback.path)
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            run = logger.experiment
            mode = "offline" if run.offline else "online"
            where[f"W&B run {run.id} ({mode})"] = str(Path(run.dir).parent)
        elif isinstance(logger, TensorBoardLogger):
            where["TensorBoard logs"] = str(logger.log_dir)
        elif isinstance(logger, CSVLogger):
            where["CSV metrics"] = str(Path(logger.log_dir) / "metrics.csv")
    return where


class RunLocations(Callback):
    """Print :func:`run_locations` once per run, on rank 0, after the checkpoint folders are known.

    Added by the CLI last, so its ``setup`` runs after ``ModelCheckpoint``'s (which resolves the checkpoint folder) and
    the report's (which resolves the report folder).
    """

    def __init__(self) -> None:
        self._printed: set[str] = set()

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage in self._printed or not trainer.is_global_zero:
            return
        self._printed.add(stage)
        where = run_locations(trainer, stage)
        width = max(len(k) for k in where)
        rank_zero_info("\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in where.items()))


__all__ = ["RunLocations", "run_locations"]
