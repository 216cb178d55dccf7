"""What a finished ``fit`` left, in a few plain lines and in ``<run>/metrics.json``.

Why: at the end of a run a person wants to know which checkpoint is best and by how much, where the samples are,
where the logs went and how to test or predict with the result. Lightning prints none of that, and W&B's end-of-run
summary hides most metrics behind "+N ..." (or keeps them in an offline binary file when there is no account).
:class:`RunSummary` writes the final and best metrics to ``<run>/metrics.json`` (readable without W&B) and prepares
the lines; the CLI prints them last, after the logger's own output.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.model_helpers import is_overridden

from lightning_gan.training.run_folders import run_directory

SUMMARY_FILE = "metrics.json"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _command(*parts: str) -> str:
    return " ".join(shlex.quote(part) if not part.startswith("<") else part for part in parts)


class RunSummary(Callback):
    """At the end of ``fit``, write ``<run>/metrics.json`` and the end-of-run lines (rank 0 only).

    ``metrics.json`` holds ``best_checkpoint``, ``monitor``, ``best_score``, ``last_checkpoint``, ``epochs``
    (completed), ``global_step`` and ``final`` (every metric's last value); ``validate``/``test``/``predict`` given
    the run folder as ``--ckpt_path`` take its ``best_checkpoint``.

    Args:
        print_lines: print the lines in ``on_fit_end``; the CLI passes ``False`` and prints :attr:`lines` itself,
            after the logger has finished.
    """

    def __init__(self, print_lines: bool = True) -> None:
        self.print_lines = print_lines
        self.lines: list[str] = []

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        folder = run_directory(trainer)
        checkpoints = [c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)]  # type: ignore[attr-defined]
        monitored = next((c for c in checkpoints if c.monitor and c.best_model_path), None)
        last = next((c.last_model_path for c in checkpoints if c.last_model_path), None)
        if last is None:  # no save_last: the newest file any checkpoint callback wrote
            written = [Path(c.best_model_path) for c in checkpoints if c.best_model_path]
            last = str(max(written, key=lambda p: p.stat().st_mtime)) if written else None
        best = monitored.best_model_path if monitored is not None else None
        score = _number(monitored.best_model_score) if monitored is not None else None
        final = {k: _number(v) for k, v in sorted(trainer.callback_metrics.items())}
        record = {
            "best_checkpoint": best,
            "monitor": monitored.monitor if monitored is not None else None,
            "best_score": score,
            "last_checkpoint": last,
            "epochs": trainer.current_epoch,  # completed epochs
            "global_step": trainer.global_step,
            "final": {k: v for k, v in final.items() if v is not None},
        }
        if folder.is_dir():
            (folder / SUMMARY_FILE).write_text(json.dumps(record, indent=1) + "\n")
        self.lines = self._lines(trainer, folder, record)
        if self.print_lines:
            rank_zero_info("\n".join(self.lines))

    @staticmethod
    def _lines(trainer: Trainer, folder: Path, record: dict[str, Any]) -> list[str]:
        rows: list[tuple[str, str]] = []
        if record["best_checkpoint"]:
            score = record["best_score"]
            rows.append(("best checkpoint", f"{record['best_checkpoint']} ({record['monitor']} = {score:.4g})"))
        if record["last_checkpoint"]:
            rows.append(("last checkpoint", str(record["last_checkpoint"])))
        if (folder / "samples").is_dir():
            rows.append(("samples", str(folder / "samples")))
        if (folder / SUMMARY_FILE).is_file():
            rows.append(("metrics", str(folder / SUMMARY_FILE)))
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger) and logger.version:
                run = logger.experiment
                if getattr(run, "offline", False):
                    rows.append(("W&B run", f"{run.id} (offline): upload with `wandb sync {Path(run.dir).parent}`"))
                else:
                    rows.append(("W&B run", str(getattr(run, "url", None) or run.id)))
        checkpoint = record["best_checkpoint"] or record["last_checkpoint"]
        if checkpoint:
            if is_overridden("test_dataloader", trainer.datamodule):  # type: ignore[attr-defined]
                rows.append(("test", _command("python", "-m", "lightning_gan", "test", "--ckpt_path", checkpoint)))
            predict = ["python", "-m", "lightning_gan", "predict", "--ckpt_path", checkpoint]
            if hasattr(trainer.datamodule, "predict_dir"):  # type: ignore[attr-defined]
                predict += ["--data.init_args.predict_dir", "<your inputs>"]
            rows.append(("predict", _command(*predict)))
            rows.append(("export", _command("python", "-m", "lightning_gan", "export", "--ckpt_path", checkpoint)))
        width = max((len(label) for label, _ in rows), default=0)
        return ["Run finished: " + str(folder), *(f"  {label + ':':<{width + 1}} {text}" for label, text in rows)]


__all__ = ["SUMMARY_FILE", "RunSummary"]
