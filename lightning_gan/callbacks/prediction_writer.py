"""``predict`` writes one output file per input, with the input's file name."""

from pathlib import Path
from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter
from torch import Tensor
from typing_extensions import override

from lightning_gan.callbacks.sample_logger import make_grid
from lightning_gan.data.image_folder import save_image
from lightning_gan.data.wav import resample, write_wav


class PredictionWriter(BasePredictionWriter):
    """Write each prediction to ``output_dir`` under its input's file name.

    Always present: the CLI adds it, configured at the top level of a config or on the command line as
    ``--prediction_writer.output_dir DIR`` (default: ``<trainer.default_root_dir>/predictions``).

    Images (4-D outputs) are written in the format their name's extension says, from [-1, 1] (the training
    normalisation) to 8-bit. Audio (3-D outputs) is written as 16-bit PCM WAV, trimmed to the input's length
    (batch key ``length``), at the model's ``sample_rate`` or, with ``audio_rate="input"``, resampled back to each
    input file's own rate (batch key ``sample_rate``) and length (``frames``).

    Class-conditional predictions (batch key ``label``) also get one grid per class, ``class_<k>.png``, written
    when ``predict`` ends.

    Args:
        output_dir: the folder to write into (created if missing); ``None``: ``<default_root_dir>/predictions``.
        sample_rate: the model's audio rate.
        audio_rate: ``"model"`` (default: 16 kHz for SEGAN) or ``"input"``.
    """

    def __init__(
        self,
        output_dir: str | None = None,
        sample_rate: int = 16000,
        audio_rate: Literal["model", "input"] = "model",
    ) -> None:
        super().__init__(write_interval="batch")
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.sample_rate = sample_rate
        self.audio_rate = audio_rate
        self._by_class: dict[int, list[Tensor]] = {}

    @override
    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.output_dir is None:
            self.output_dir = Path(trainer.default_root_dir) / "predictions"

    @override
    def write_on_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        prediction: dict[str, Any],
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        output = prediction["output"].detach().float().cpu()
        names = prediction.get("name") or [f"{batch_idx:05d}_{i:03d}.png" for i in range(len(output))]
        labels = prediction.get("label")
        for i, name in enumerate(names):
            path = self.output_dir / name
            if output.dim() == 4:
                save_image(output[i], path)
                if labels is not None:
                    self._by_class.setdefault(int(labels[i]), []).append(output[i])
                continue
            wave = output[i].flatten()
            if "length" in prediction:
                wave = wave[: int(prediction["length"][i])]
            rate = self.sample_rate
            if self.audio_rate == "input" and "sample_rate" in prediction:
                rate = int(prediction["sample_rate"][i])
                wave = resample(wave, self.sample_rate, rate)
                if "frames" in prediction:  # resampling rounds lengths up: trim to the file's own frame count
                    wave = wave[: int(prediction["frames"][i])]
            write_wav(path.with_suffix(".wav"), wave, rate)

    @override
    def on_predict_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        folder = self.output_dir
        assert folder is not None  # set in setup
        for label, images in sorted(self._by_class.items()):
            grid = make_grid(torch.stack(images), nrow=int(len(images) ** 0.5 + 0.999))
            save_image(grid, folder / f"class_{label}.png")
        self._by_class = {}
