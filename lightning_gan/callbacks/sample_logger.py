"""Every N epochs, a fixed set of samples goes to the run folder and to the logger (W&B image panels / audio,
TensorBoard images / audio; other loggers get the files only).

Images are N x C x H x W in [-1, 1]; audio is N x 1 x T in [-1, 1]. Both arrive post-processed by the GAN module
(``GAN.postprocess``, e.g. SEGAN's de-emphasis).
"""

from pathlib import Path
from typing import Any

import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from torch import Tensor
from typing_extensions import override

from lightning_gan.data.image_folder import save_image
from lightning_gan.data.wav import write_wav
from lightning_gan.nets.labels import num_classes
from lightning_gan.training.run_folders import run_directory


def make_grid(images: Tensor, nrow: int, padding: int = 2, pad_value: float = 1.0) -> Tensor:
    """Tile N x C x H x W images into one C x H' x W' image, ``nrow`` images per row (torchvision's layout)."""
    n, c, h, w = images.shape
    ncol = min(nrow, n)
    nrows = (n + ncol - 1) // ncol
    grid = images.new_full((c, nrows * (h + padding) + padding, ncol * (w + padding) + padding), pad_value)
    for i, image in enumerate(images):
        r, k = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[:, top : top + h, left : left + w] = image
    return grid


def _first_loader(datamodule: Any, names: tuple[str, ...]) -> Any:
    """The first of the DataModule's loaders that exists (a module without a validation set raises or returns [])."""
    for name in names:
        try:
            loader = getattr(datamodule, name)()
        except (MisconfigurationException, NotImplementedError, FileNotFoundError, ValueError):
            continue
        if loader:
            return loader
    raise ValueError(f"SampleLogger needs one of the DataModule's {names}.")


def _as_rgb(x: Tensor, channels: int) -> Tensor:
    return x.expand(-1, channels, -1, -1) if x.shape[1] == 1 and channels == 3 else x


class SampleLogger(Callback):
    """Log a fixed set of samples every ``every_n_epochs`` epochs (and after the last one).

    Conditional models: the first ``num_samples`` validation items (training items when there is no validation
    set); images become a grid with one row per item, ``input | output | target``, audio becomes
    ``<name>_{input,output,target}.wav`` triples. Unconditional models: ``num_samples`` images from a fixed noise
    batch, so epochs are comparable; class-conditional ones (a generator with ``num_classes``): one row per class,
    ``num_samples // num_classes`` images each (at least one). Files go to ``<run folder>/samples/``.

    Args:
        every_n_epochs: how often.
        num_samples: how many items or images.
        sample_rate: audio sample rate of the model's signals.
        seed: seed of the fixed noise (unconditional models).
    """

    def __init__(self, every_n_epochs: int = 1, num_samples: int = 8, sample_rate: int = 16000, seed: int = 0) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"Expected `every_n_epochs` >= 1, got {every_n_epochs!r}.")
        self.every_n_epochs = every_n_epochs
        self.num_samples = num_samples
        self.sample_rate = sample_rate
        self.seed = seed
        self._fixed: dict[str, Any] | None = None

    def _collect(self, trainer: Trainer, pl_module: Any) -> dict[str, Any]:
        datamodule = trainer.datamodule  # type: ignore[attr-defined]  # set by Lightning's data connector
        loader = _first_loader(datamodule, ("val_dataloader", "train_dataloader"))
        first = next(iter(loader))
        if isinstance(first, Tensor) or "condition" not in first:
            classes = num_classes(pl_module.generator)
            per_class = max(1, self.num_samples // classes) if classes else self.num_samples
            count = per_class * (classes or 1)
            latent_shape = pl_module.generator.latent_shape(count, None)
            noise = torch.randn(latent_shape, generator=torch.Generator().manual_seed(self.seed))
            fixed: dict[str, Any] = {"noise": noise}
            if classes:
                fixed |= {"labels": torch.arange(classes).repeat_interleave(per_class), "per_row": per_class}
            return fixed
        items: dict[str, list[Any]] = {"condition": [], "real": [], "name": []}
        for batch in loader:
            for i in range(batch["condition"].shape[0]):
                items["condition"].append(batch["condition"][i : i + 1])
                items["real"].append(batch["real"][i : i + 1])
                items["name"].append(batch["name"][i] if "name" in batch else f"{len(items['name']):03d}")
                if len(items["name"]) >= self.num_samples:
                    return items
        return items

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        epoch = trainer.current_epoch
        last = trainer.max_epochs is not None and epoch + 1 >= trainer.max_epochs
        if ((epoch + 1) % self.every_n_epochs != 0 and not last) or not trainer.is_global_zero:
            return
        if self._fixed is None:
            self._fixed = self._collect(trainer, pl_module)
        was_training = pl_module.training
        pl_module.eval()
        try:
            with torch.no_grad():
                self.log_samples(trainer, pl_module, epoch)
        finally:
            pl_module.train(was_training)

    def log_samples(self, trainer: Trainer, pl_module: Any, epoch: int) -> None:
        assert self._fixed is not None
        folder = run_directory(trainer) / "samples"
        device = pl_module.device
        post = pl_module.postprocess
        if "noise" in self._fixed:
            inputs = [self._fixed[k].to(device) for k in ("noise", "labels") if k in self._fixed]
            images = post(pl_module.inference_generator(*inputs)).cpu()
            nrow = self._fixed.get("per_row", int(len(images) ** 0.5 + 0.999))
            caption = "one row per class" if "labels" in self._fixed else "generated samples"
            self._log_image(trainer, make_grid(images, nrow=nrow), folder / f"epoch_{epoch:04d}.png", caption)
            return
        rows, audio = [], []
        for condition, real, name in zip(
            self._fixed["condition"], self._fixed["real"], self._fixed["name"], strict=True
        ):
            output = post(pl_module(condition.to(device))).cpu()
            condition, real = post(condition).cpu(), post(real).cpu()
            if output.dim() == 4:
                c = max(output.shape[1], condition.shape[1])
                rows.append(torch.cat([_as_rgb(condition, c), _as_rgb(output, c), _as_rgb(real, c)]))
            else:
                audio.append((Path(name).stem, {"input": condition, "output": output, "target": real}))
        if rows:
            grid = make_grid(torch.cat(rows), nrow=3)
            self._log_image(trainer, grid, folder / f"epoch_{epoch:04d}.png", "input | output | target")
        if audio:
            self._log_audio(trainer, audio, folder / f"epoch_{epoch:04d}")

    def _log_image(self, trainer: Trainer, grid: Tensor, path: Path, caption: str) -> None:
        save_image(grid, path)
        shown = ((grid.clamp(-1, 1) + 1) / 2).float()
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key="samples", images=[shown], caption=[caption])
            elif isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image("samples", shown, trainer.global_step)

    def _log_audio(self, trainer: Trainer, audio: list[tuple[str, dict[str, Tensor]]], folder: Path) -> None:
        for stem, parts in audio:
            for part, wave in parts.items():
                write_wav(folder / f"{stem}_{part}.wav", wave.flatten(), self.sample_rate)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                waves = [w.flatten().numpy() for _, parts in audio for w in parts.values()]
                captions = [f"{stem} {part}" for stem, parts in audio for part in parts]
                logger.log_audio(
                    key="samples_audio", audios=waves, sample_rate=[self.sample_rate] * len(waves), caption=captions
                )
            elif isinstance(logger, TensorBoardLogger):
                for stem, parts in audio:
                    for part, wave in parts.items():
                        tag = f"samples/{stem}_{part}"
                        logger.experiment.add_audio(tag, wave.flatten(), trainer.global_step, self.sample_rate)
