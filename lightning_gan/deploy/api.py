"""Use a trained generator from Python (a notebook, a service) in one call, with exactly what ``predict`` does.

>>> from lightning_gan.deploy.api import load_generator
>>> g = load_generator("runs/pix2pix_demo/.../checkpoints/last.ckpt")      # doctest: +SKIP
>>> g.translate("labels.png").save("photo.png")                            # doctest: +SKIP
>>> wave = load_generator("segan.ckpt").enhance("noisy.wav")               # doctest: +SKIP
>>> images = load_generator("dcgan.ckpt").sample(16, seed=0)               # doctest: +SKIP

Nothing here re-implements a step of the pipeline: :class:`Generator` builds the batch the family's DataModule
builds in ``predict`` (with the helpers of :mod:`lightning_gan.data.image_folder`, :mod:`lightning_gan.data.wav` and
:mod:`lightning_gan.data.emphasis`) and hands it to :meth:`lightning_gan.gan.GAN.predict_step`, which runs the inference
generator (the EMA copy when the run kept one) through the model's whole-input strategy (pad or resize images,
overlap-add audio windows) and its ``postprocess`` (SEGAN's de-emphasis). The results are therefore the values the
:class:`~lightning_gan.callbacks.PredictionWriter` would write, before it quantises them to 8-bit pixels or 16-bit
samples.

This module is the user facade. Reading and checking checkpoints lives in :mod:`lightning_gan.deploy.loading`
(:func:`read_checkpoint`, :func:`load_gan`) and describing a generator in :mod:`lightning_gan.deploy.description`
(:func:`describe`, :class:`ModelInfo`: family, channels, sizes, sample rate, pre-emphasis, which
:mod:`lightning_gan.deploy.export` also writes next to exported models); both are re-exported here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageOps
from torch import Tensor

from lightning_gan.data.emphasis import pre_emphasis
from lightning_gan.data.image_folder import load_image, mode_channels, pil_to_tensor, tensor_to_pil, to_8bit
from lightning_gan.data.paired_images import check_predict_channels
from lightning_gan.data.wav import read_wav, resample
from lightning_gan.deploy.description import Family, Modality, ModelInfo, describe
from lightning_gan.deploy.loading import load_gan, read_checkpoint, set_direction
from lightning_gan.gan import GAN
from lightning_gan.nets.labels import as_label_tensor, num_classes


# ---------------------------------------------------------------------------------------------------- the API
def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _check_finite(wave: Tensor, call: str) -> None:
    """Refuse a waveform with NaN or infinite samples: the output would be NaN everywhere, with no error."""
    bad = ~torch.isfinite(wave)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"{call}: the waveform has {int(bad.sum())} NaN or infinite sample(s) of {wave.numel()}, the first at "
            f"index {first} ({wave[first].item()}); the generator's overlapping windows would make the whole output "
            "NaN. Repair or drop them first, e.g. torch.nan_to_num(audio)"
        )


class Generator:
    """A trained GAN's generator, ready to use: :meth:`translate` images, :meth:`enhance` speech, :meth:`sample`.

    Build it with :func:`load_generator`. Each call runs :meth:`lightning_gan.gan.GAN.predict_step` under
    ``torch.inference_mode`` on the batch ``predict``'s DataModule would build, so outputs equal ``predict``'s.

    Args:
        module: the GAN module (put in eval mode and moved to ``device`` here).
        info: what the generator expects (:func:`describe`).
        device: where to run.

    Attributes:
        module: the GAN module.
        info: the :class:`ModelInfo`.
        device: the device it runs on.
    """

    def __init__(self, module: GAN, info: ModelInfo, device: torch.device) -> None:
        self.module = module.to(device).eval()
        self.info = info
        self.device = device

    def __repr__(self) -> str:
        return f"Generator(family={self.info.family!r}, generator={self.info.generator!r}, device={self.device})"

    def _require(self, method: str, modality: Modality, conditional: bool) -> None:
        info = self.info
        if info.modality != modality or info.conditional != conditional:
            kind = f"{'a conditional' if info.conditional else 'an unconditional'} {info.modality} generator"
            use = {("image", True): "translate", ("audio", True): "enhance"}.get((info.modality, info.conditional))
            raise ValueError(
                f"{method}() needs {'a conditional' if conditional else 'an unconditional'} {modality} generator, but "
                f"this checkpoint's {info.generator} is {kind} ({info.family}); use {use or 'sample'}() instead"
            )

    @contextlib.contextmanager
    def _seeded(self, seed: int | None) -> Iterator[None]:
        """Draw G's noise from ``seed`` without disturbing the caller's random state (``None``: global RNG)."""
        if seed is None:
            with torch.inference_mode():
                yield
            return
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(seed)
            yield

    def _predict(self, batch: dict[str, Any], seed: int | None = None) -> Tensor:
        with self._seeded(seed):
            return self.module.predict_step(batch, 0)["output"].float().cpu()

    def translate(self, image: Image.Image | str | Path, direction: str | None = None) -> Image.Image:
        """Translate one image of any size (pix2pix, CycleGAN): the image ``predict`` would write for it.

        The image is converted to the generator's channels (grayscale by ITU-R 601-2 luma, or RGB) and mapped to
        [-1, 1] as :class:`~lightning_gan.data.paired_images.ConditionImageDataset` does; the module's whole-input
        strategy brings it to the training scale (:class:`~lightning_gan.whole_input.geometry.AtTrainingScale`, recorded
        in
        the checkpoint: :attr:`ModelInfo.geometry`), or pads it, and returns the output at the input's size.

        Args:
            image: a PIL image or an image file.
            direction: CycleGAN only: ``"AtoB"`` (G_A) or ``"BtoA"`` (G_B); it stays chosen for later calls
                (:attr:`info` describes it). Default: the current one (at loading: the checkpoint's data direction).

        Returns:
            An 8-bit ``"RGB"`` or ``"L"`` image of the input's size.

        Raises:
            ValueError: the generator does not translate images; the image's channel count (alpha aside) differs
                from the checkpoint's condition channels (as ``predict`` refuses it).
            ImageReadError: the file cannot be read (named).
        """
        self._require("translate", "image", conditional=True)
        if direction is not None and direction != self.info.direction:
            set_direction(self.module, direction)
            generator = self.module.inference_generator
            self.info = replace(
                self.info,
                direction=direction,
                condition_channels=int(getattr(generator, "in_channels", 3)),
                output_channels=int(getattr(generator, "out_channels", 3)),
            )
        channels = int(self.info.condition_channels or 3)
        if isinstance(image, str | Path):
            check_predict_channels([Path(image)], channels)
            picture = load_image(Path(image), channels)
        elif isinstance(image, Image.Image):
            if mode_channels(image.mode) != channels:
                raise ValueError(
                    f"translate() needs the checkpoint's {channels} condition channel(s); got a PIL image in mode "
                    f"{image.mode!r} ({mode_channels(image.mode)}). Convert it first, e.g. with image.convert("
                    f"{'L' if channels == 1 else 'RGB'!r})"
                )
            # Upright as its EXIF orientation says, and converted, as predict reads files.
            picture = to_8bit(ImageOps.exif_transpose(image)).convert("L" if channels == 1 else "RGB")
        else:
            raise ValueError(f"translate() expected a PIL image or an image file path, got {type(image).__name__}")
        condition = pil_to_tensor(picture).unsqueeze(0).to(self.device)
        return tensor_to_pil(self._predict({"condition": condition})[0])

    def enhance(self, audio: Tensor | str | Path, sample_rate: int | None = None, seed: int | None = None) -> Tensor:
        """Enhance a waveform of any length (SEGAN): the samples ``predict`` would write for it, as float32.

        Files are read as :class:`~lightning_gan.data.speech.SpeechFiles` reads them (:func:`read_wav`: mono,
        resampled to the model's rate); the waveform is pre-emphasised with the checkpoint's coefficient; the
        module overlap-adds G over windows and de-emphasises the result.

        Args:
            audio: a 1-D (or 1 x T, 1 x 1 x T) waveform in [-1, 1], or an audio file.
            sample_rate: the rate of a tensor ``audio`` when it differs from the model's (it is resampled); files
                carry their own rate, so leave it ``None`` for them.
            seed: seed for the generator's noise ``z`` (``None``: torch's global RNG, as ``predict``); the caller's
                random state is left as it was.

        Returns:
            A 1-D float32 waveform at the model's rate (:attr:`ModelInfo.sample_rate`), on the CPU, as long as the
            input at that rate.

        Raises:
            ValueError: the generator does not enhance audio; a tensor that is not one waveform, or with NaN or
                infinite samples (G's overlapping windows would spread one over the whole output); ``sample_rate``
                given with a file, or needed but unknown.
            RuntimeError: the file cannot be read (named).
        """
        self._require("enhance", "audio", conditional=True)
        rate = self.info.sample_rate
        if isinstance(audio, str | Path):
            if sample_rate is not None:
                raise ValueError(f"enhance({audio}): sample_rate is for tensors; a file's header gives its own rate")
            if rate is None:
                raise ValueError("enhance(): this checkpoint does not record its sample rate, so a file cannot be read")
            wave = read_wav(Path(audio), rate)
            _check_finite(wave, f"enhance({audio})")
        elif isinstance(audio, Tensor):
            if audio.numel() == 0 or audio.squeeze().ndim > 1:
                raise ValueError(f"enhance() expected one waveform (T, 1 x T or 1 x 1 x T), got {tuple(audio.shape)}")
            wave = audio.detach().float().reshape(-1)
            _check_finite(wave, "enhance()")
            if sample_rate is not None and sample_rate != rate:
                if rate is None:
                    raise ValueError("enhance(): this checkpoint does not record its sample rate; cannot resample")
                wave = resample(wave, sample_rate, rate)
        else:
            raise ValueError(f"enhance() expected a tensor or an audio file path, got {type(audio).__name__}")
        condition = pre_emphasis(wave.to(self.device), self.info.pre_emphasis or 0.0)[None, None]
        return self._predict({"condition": condition}, seed)[0, 0]

    def sample(self, n: int, seed: int | None = None, labels: Sequence[int] | Tensor | None = None) -> Tensor:
        """Draw ``n`` samples from a noise-to-image generator (DCGAN): N x C x H x W in [-1, 1], on the CPU.

        Args:
            n: how many.
            seed: seed for the noise (``None``: torch's global RNG); the caller's random state is left as it was.
            labels: for a class-conditional generator, the class of each sample (``n`` indices, a sequence or a
                tensor); ``None`` draws the classes uniformly (from ``seed`` when given).

        Raises:
            ValueError: the generator takes a condition, ``n < 1``, labels for an unconditional generator, a label
                outside ``num_classes`` or not ``n`` of them.
        """
        self._require("sample", self.info.modality, conditional=False)
        if n < 1:
            raise ValueError(f"sample() expected n >= 1, got {n!r}")
        classes = num_classes(self.module.inference_generator)
        tensor = as_label_tensor(labels, n, classes, "sample()")
        if tensor is None and classes is not None:
            rng = torch.Generator().manual_seed(seed) if seed is not None else None
            tensor = torch.randint(classes, (n,), generator=rng)
        batch = {"batch_size": n} if tensor is None else {"batch_size": n, "label": tensor.to(self.device)}
        return self._predict(batch, seed)


def load_generator(
    ckpt_path: str | Path, device: str | torch.device | None = None, trusted_modules: str | Iterable[str] | None = None
) -> Generator:
    """Load a checkpoint written by ``python -m lightning_gan fit`` as a ready-to-use :class:`Generator`.

    The checkpoint may only name classes of trusted modules (:func:`read_checkpoint`); a GAN built with your own
    classes needs their modules trusted here or in ``$LIGHTNING_GAN_TRUSTED_MODULES``.

    Args:
        ckpt_path: the ``.ckpt`` file.
        device: where to run (``None``: CUDA when available, else the CPU).
        trusted_modules: module prefixes (comma-separated, or a list) to trust beyond the defaults, e.g.
            ``"examples.relativistic"``; trust only files whose origin you trust.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError: it is not a lightning_gan GAN checkpoint, or it names something outside the trusted modules
            (see :func:`read_checkpoint`).
    """
    module, checkpoint = load_gan(ckpt_path, trusted_modules=trusted_modules)
    set_direction(module, None, checkpoint.get("datamodule_hyper_parameters"))
    info = describe(module, checkpoint.get("datamodule_hyper_parameters"))
    return Generator(module, info, torch.device(device) if device is not None else _default_device())


__all__ = ["Family", "Generator", "Modality", "ModelInfo", "describe", "load_gan", "load_generator", "read_checkpoint"]
