"""Use a trained generator from Python (a notebook, a service) in one call, with exactly what ``predict`` does.

>>> from lightning_gan.api import load_generator
>>> g = load_generator("runs/pix2pix_demo/.../checkpoints/last.ckpt")      # doctest: +SKIP
>>> g.translate("labels.png").save("photo.png")                            # doctest: +SKIP
>>> wave = load_generator("segan.ckpt").enhance("noisy.wav")               # doctest: +SKIP
>>> images = load_generator("dcgan.ckpt").sample(16, seed=0)               # doctest: +SKIP

Nothing here re-implements a step of the pipeline: :class:`Generator` builds the batch the family's DataModule
builds in ``predict`` (with the helpers of :mod:`lightning_gan.data.image_folder`, :mod:`lightning_gan.data.wav` and
:mod:`lightning_gan.audio`) and hands it to :meth:`lightning_gan.gan.GAN.predict_step`, which runs the inference
generator (the EMA copy when the run kept one) through the model's whole-input strategy (pad or resize images,
overlap-add audio windows) and its ``postprocess`` (SEGAN's de-emphasis). The results are therefore the values the
:class:`~lightning_gan.callbacks.PredictionWriter` would write, before it quantises them to 8-bit pixels or 16-bit
samples.

Checkpoints are read with ``torch.load(weights_only=True)`` (no arbitrary code runs) and checked before the model is
rebuilt, so a missing file, a file that is not a checkpoint, or the checkpoint of another model fails with a message
naming the file and what was expected (:func:`read_checkpoint`). :func:`describe` tells what a checkpoint's generator
expects (family, channels, sizes, sample rate, pre-emphasis); :mod:`lightning_gan.export` writes the same facts next
to exported models.
"""

from __future__ import annotations

import contextlib
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from PIL import Image
from torch import Tensor, nn

from lightning_gan.audio import pre_emphasis
from lightning_gan.data.image_folder import load_image, pil_to_tensor, tensor_to_pil
from lightning_gan.data.wav import read_wav, resample
from lightning_gan.gan import GAN
from lightning_gan.inference import OverlapAdd, PadToMultiple, ResizeTo
from lightning_gan.labels import as_label_tensor, num_classes
from lightning_gan.nets.dcgan import DCGANGenerator
from lightning_gan.nets.pix2pix import ResnetGenerator, UnetGenerator
from lightning_gan.nets.segan import SEGANGenerator

Family = Literal["pix2pix", "segan", "dcgan", "conditional", "unconditional"]
Modality = Literal["image", "audio"]

_FAMILIES: tuple[tuple[type[nn.Module], str], ...] = (
    (UnetGenerator, "pix2pix"),
    (ResnetGenerator, "pix2pix"),
    (SEGANGenerator, "segan"),
    (DCGANGenerator, "dcgan"),
)
_EXPECTED = "a lightning_gan GAN checkpoint written by `python -m lightning_gan fit`"


# ---------------------------------------------------------------------------------------------------- checkpoints
def read_checkpoint(ckpt_path: str | Path) -> dict[str, Any]:
    """Read and check a lightning_gan GAN checkpoint without building the model.

    The file is memory-mapped (cheap even for the paper models' checkpoints with their optimizer states) and
    unpickled with ``weights_only=True``; CLI checkpoints hold nothing else (their hyper-parameters are
    ``class_path``/``init_args`` dicts).

    Raises:
        FileNotFoundError: ``ckpt_path`` does not exist or is not a file.
        ValueError: the file is not a PyTorch checkpoint, holds Python objects beyond tensors and plain values, or is
            the checkpoint of another model (no ``hyper_parameters.generator`` with a ``class_path``, or no
            ``generator.*`` weights).
    """
    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}; expected {_EXPECTED}, e.g. <run>/checkpoints/last.ckpt")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a PyTorch checkpoint (not a torch.save zip archive); expected {_EXPECTED}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:
        raise ValueError(
            f"cannot read {path} as a lightning_gan checkpoint: {err}. Expected {_EXPECTED}; checkpoints of a GAN "
            "built in Python with network objects as arguments hold pickled objects and are not loaded here."
        ) from err
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    generator = hparams.get("generator") if isinstance(hparams, dict) else None
    if not isinstance(generator, dict) or "class_path" not in generator:
        keys = hparams if isinstance(hparams, dict) else checkpoint if isinstance(checkpoint, dict) else {}
        found = sorted(map(str, keys))
        raise ValueError(
            f"{path} is not a lightning_gan GAN checkpoint: expected hyper_parameters with a `generator` "
            f"{{class_path, init_args}}, found keys {found[:12]}. It may be the checkpoint of another model family; "
            f"expected {_EXPECTED}."
        )
    state = checkpoint.get("state_dict", {})
    if not any(key.startswith("generator.") for key in state):
        raise ValueError(f"{path} has no generator weights (no `generator.*` in its state_dict); expected {_EXPECTED}")
    return checkpoint


def load_gan(ckpt_path: str | Path, map_location: str | torch.device = "cpu") -> tuple[GAN, dict[str, Any]]:
    """Check ``ckpt_path`` (:func:`read_checkpoint`) and rebuild the GAN module from it, in eval mode.

    Returns:
        The module and the checkpoint as :func:`read_checkpoint` read it (memory-mapped), for its other entries:
        ``datamodule_hyper_parameters`` (SEGAN's sample rate, window and pre-emphasis), ``epoch``, ``global_step``.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError: it is not a lightning_gan GAN checkpoint (:func:`read_checkpoint`), or the module cannot be
            rebuilt from it (a ``class_path`` that no longer imports, weights that do not fit the networks).
    """
    checkpoint = read_checkpoint(ckpt_path)
    with warnings.catch_warnings():
        # Noise from rebuilding the module, not actionable here: Lightning's advice to `ignore=` the networks in
        # save_hyperparameters (GAN keeps them on purpose) and jsonargparse's deprecation notice of an API it calls.
        warnings.filterwarnings("ignore", message=r".*is an instance of `nn\.Module`")
        warnings.filterwarnings("ignore", message=r"(?s).*instantiate_classes")
        try:
            # Building the networks draws their (then overwritten) initial weights from torch's global RNG: fork it,
            # so loading a model leaves the caller's random state as it was.
            with torch.random.fork_rng(devices=[]):
                module = GAN.load_from_checkpoint(Path(ckpt_path).expanduser(), map_location=map_location)
        except Exception as err:  # e.g. a class_path that no longer imports, weights that no longer fit
            raise ValueError(
                f"cannot rebuild the GAN of {ckpt_path} from its hyper-parameters and weights: {err}"
            ) from err
    module.eval()
    return module, checkpoint


# ---------------------------------------------------------------------------------------------------- description
@dataclass(frozen=True)
class ModelInfo:
    """What a checkpoint's generator expects and returns (see :func:`describe`).

    Attributes:
        family: ``"pix2pix"``, ``"segan"`` or ``"dcgan"`` for the project's generators; ``"conditional"`` or
            ``"unconditional"`` for others.
        modality: ``"image"`` (N x C x H x W) or ``"audio"`` (N x 1 x T).
        generator: the generator's class path.
        conditional: whether the generator takes a condition (an image to translate, noisy speech).
        latent: whether the generator takes noise ``z``.
        condition_channels: channels of the condition (``None`` when unconditional).
        output_channels: channels of the output.
        size_multiple: H and W (images) or T (audio) must be multiples of this; ``None``: only the example size.
        example_size: the image side or audio window the model was trained on (``None`` when unconditional).
        sample_rate: the audio rate in Hz (``None`` for images or when the checkpoint does not record it).
        pre_emphasis: coefficient applied to the condition before G (``None``: none).
        de_emphasis: coefficient of the de-emphasis applied to G's output (``None``: none).
        ema: whether the weights are the exponential moving average of G.
    """

    family: Family
    modality: Modality
    generator: str
    conditional: bool
    latent: bool
    condition_channels: int | None
    output_channels: int | None
    size_multiple: int | None
    example_size: int | None
    sample_rate: int | None
    pre_emphasis: float | None
    de_emphasis: float | None
    ema: bool


def _modality(module: GAN, generator: nn.Module, data: dict[str, Any], conditional: bool) -> Modality:
    if isinstance(generator, SEGANGenerator):
        return "audio"
    if isinstance(generator, UnetGenerator | ResnetGenerator | DCGANGenerator):
        return "image"
    if conditional:
        if isinstance(module.inference, OverlapAdd) or "sample_rate" in data:
            return "audio"
        if isinstance(module.inference, PadToMultiple | ResizeTo) or {"crop_size", "image_size"} & data.keys():
            return "image"
        raise ValueError(
            f"cannot tell whether {type(generator).__name__} takes images or audio: the checkpoint has neither an "
            "image/audio whole-input strategy (PadToMultiple, ResizeTo, OverlapAdd) nor image/audio data settings"
        )
    shape = generator.latent_shape(1, None)
    with torch.no_grad():
        ndim = generator(torch.zeros(shape)).ndim
    return "image" if ndim == 4 else "audio"


def _size_multiple(generator: nn.Module, modality: Modality) -> int | None:
    if isinstance(generator, ResnetGenerator):
        return 4  # two stride-2 convolutions
    value = getattr(generator, "size_multiple" if modality == "image" else "multiple", None)
    return int(value) if isinstance(value, int) else None


def _example_size(module: GAN, generator: nn.Module, data: dict[str, Any], modality: Modality) -> int | None:
    """The training geometry: the data's crop/window, else what the generator or the inference strategy says."""
    inference = module.inference
    if modality == "audio":
        candidates = [data.get("window"), getattr(inference, "window", None), getattr(generator, "multiple", None)]
    else:
        candidates = [
            data.get("crop_size"),
            getattr(generator, "size_multiple", None),
            getattr(inference, "size", None),
            getattr(inference, "multiple", None),
        ]
    return next((int(c) for c in candidates if isinstance(c, int) and c > 0), None)


def describe(module: GAN, data: dict[str, Any] | None = None) -> ModelInfo:
    """What ``module``'s inference generator expects, from the module and its checkpoint's DataModule settings.

    Args:
        module: the GAN, e.g. from :func:`load_gan`.
        data: the checkpoint's ``datamodule_hyper_parameters`` (SEGAN's record the sample rate, window and
            pre-emphasis).

    Raises:
        ValueError: a conditional generator of unknown kind whose checkpoint says nothing of images or audio.
    """
    data = dict(data or {})
    generator = module.inference_generator
    conditional = hasattr(generator, "in_channels")
    latent = getattr(generator, "latent_shape", None) is not None and (
        not isinstance(generator, SEGANGenerator) or generator.latent
    )
    family = next((name for cls, name in _FAMILIES if isinstance(generator, cls)), None)
    modality = _modality(module, generator, data, conditional)
    postprocess = getattr(module.postprocess, "coef", None)
    pre = data.get("pre_emphasis", postprocess if modality == "audio" else None)
    return ModelInfo(
        family=family or ("conditional" if conditional else "unconditional"),
        modality=modality,
        generator=f"{type(generator).__module__}.{type(generator).__qualname__}",
        conditional=conditional,
        latent=latent,
        condition_channels=int(generator.in_channels) if conditional else None,
        output_channels=getattr(generator, "out_channels", None),
        size_multiple=_size_multiple(generator, modality),
        example_size=_example_size(module, generator, data, modality) if conditional else None,
        sample_rate=data.get("sample_rate") if modality == "audio" else None,
        pre_emphasis=float(pre) if pre else None,
        de_emphasis=float(postprocess) if postprocess else None,
        ema=module.generator_ema is not None,
    )


# ---------------------------------------------------------------------------------------------------- the API
def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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

    def translate(self, image: Image.Image | str | Path) -> Image.Image:
        """Translate one image of any size (pix2pix): the image ``predict`` would write for it.

        The image is converted to the generator's channels (grayscale by ITU-R 601-2 luma, or RGB) and mapped to
        [-1, 1] as :class:`~lightning_gan.data.paired_images.ConditionImageDataset` does; the module's whole-input
        strategy pads (or resizes) it to the generator's geometry and crops the output back to the input's size.

        Args:
            image: a PIL image or an image file.

        Returns:
            An 8-bit ``"RGB"`` or ``"L"`` image of the input's size.

        Raises:
            ValueError: the generator does not translate images.
            ImageReadError: the file cannot be read (named).
        """
        self._require("translate", "image", conditional=True)
        channels = int(self.info.condition_channels or 3)
        if isinstance(image, str | Path):
            picture = load_image(Path(image), channels)
        elif isinstance(image, Image.Image):
            picture = image.convert("L" if channels == 1 else "RGB")
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
            ValueError: the generator does not enhance audio; a tensor that is not one waveform; ``sample_rate``
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
        elif isinstance(audio, Tensor):
            if audio.numel() == 0 or audio.squeeze().ndim > 1:
                raise ValueError(f"enhance() expected one waveform (T, 1 x T or 1 x 1 x T), got {tuple(audio.shape)}")
            wave = audio.detach().float().reshape(-1)
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


def load_generator(ckpt_path: str | Path, device: str | torch.device | None = None) -> Generator:
    """Load a checkpoint written by ``python -m lightning_gan fit`` as a ready-to-use :class:`Generator`.

    Args:
        ckpt_path: the ``.ckpt`` file.
        device: where to run (``None``: CUDA when available, else the CPU).

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError: it is not a lightning_gan GAN checkpoint (see :func:`read_checkpoint`).
    """
    module, checkpoint = load_gan(ckpt_path)
    info = describe(module, checkpoint.get("datamodule_hyper_parameters"))
    return Generator(module, info, torch.device(device) if device is not None else _default_device())


__all__ = ["Generator", "ModelInfo", "describe", "load_gan", "load_generator", "read_checkpoint"]
