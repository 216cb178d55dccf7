"""``predict`` writes one output file per input, with the input's file name, never over what the user owns.

The output folder is checked before anything is predicted: it must be apart from the input folder (not the same
folder, not inside it, not around it; symbolic links resolved), or predict would replace its own inputs. Each file is
written whole or not at all, never through a symbolic link out of the output folder
(:mod:`lightning_gan.training.output_paths`).
"""

from functools import partial
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
from lightning_gan.errors import ConfigError
from lightning_gan.training.output_paths import check_apart, free_folder, target_inside, write_atomically

OUTPUT_KEY = "--prediction_writer.output_dir"
INPUT_KEY = "--data.init_args.predict_dir"


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

    What the user owns is never overwritten: an output folder that is the data module's ``predict_dir``, is inside
    it or contains it is refused at ``setup``, before anything is predicted; a folder on the way that is a symbolic
    link out of the output folder is refused, naming it; a symbolic link in an output file's place is replaced by
    the file (the link's target is left alone); each file is written to a temporary name beside it and renamed into
    place, so a full disk leaves no empty or truncated file and stops with one message naming the file.

    A folder that already holds files is refused unless :attr:`overwrite` (``predict --overwrite true`` sets it; an
    attribute, not an argument, so saved configs keep their keys): a second predict
    into it would replace some of the first's outputs and leave the others, mixing two models' files. The default
    folder is never shared: ``<default_root_dir>/predictions``, else ``predictions-2`` ... (the CLI puts a training
    run's predictions into ``<run>/predictions/<input folder name>/`` the same way).

    Args:
        output_dir: the folder to write into (created if missing); ``None``: a free ``<default_root_dir>/predictions``.
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
        self.overwrite = False  # write into a folder that already holds files (outputs of the same name replaced)
        self._by_class: dict[int, list[Tensor]] = {}

    @override
    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage != "predict":
            return
        if self.output_dir is None:
            self.output_dir = free_folder(trainer.default_root_dir, "predictions")
        if self.output_dir.exists() and not self.output_dir.is_dir():
            raise ConfigError(
                f"{OUTPUT_KEY} {self.output_dir} is a file, not a folder: give the folder to write the predictions into"
            )
        source = getattr(trainer.datamodule, "predict_dir", None)  # type: ignore[attr-defined]
        if source is not None:
            check_apart(self.output_dir, OUTPUT_KEY, source, INPUT_KEY)
        if not self.overwrite and self.output_dir.is_dir() and any(self.output_dir.iterdir()):
            held = sorted(p.name for p in self.output_dir.iterdir())
            listed = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
            raise ConfigError(
                f"{OUTPUT_KEY} {self.output_dir} already holds files ({listed}): predictions are never mixed into "
                f"earlier outputs. Nothing was written; choose a new or empty folder, or add --overwrite true to "
                "replace outputs of the same name"
            )

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
        assert self.output_dir is not None  # set in setup
        for i, name in enumerate(names):
            path = target_inside(self.output_dir, name, OUTPUT_KEY)
            if output.dim() == 4:
                write_atomically(path, partial(save_image, output[i]), OUTPUT_KEY)
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
            write_atomically(path.with_suffix(".wav"), partial(write_wav, wave=wave, sample_rate=rate), OUTPUT_KEY)

    @override
    def on_predict_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        folder = self.output_dir
        assert folder is not None  # set in setup
        for label, images in sorted(self._by_class.items()):
            grid = make_grid(torch.stack(images), nrow=int(len(images) ** 0.5 + 0.999))
            path = target_inside(folder, f"class_{label}.png", OUTPUT_KEY)
            write_atomically(path, partial(save_image, grid), OUTPUT_KEY)
        self._by_class = {}
