"""How a generator trained on a fixed geometry is applied to whole inputs of any size.

Generators are trained on fixed crops (pix2pix: 256 x 256 images; SEGAN: 16384-sample windows), but validation,
test and predict see whole images and whole utterances. The GAN module calls ``self.inference(generate, condition)``
where ``generate`` maps a batch in the training geometry to outputs of the same spatial/temporal size (the channel
count may differ); a :class:`WholeInput` strategy decides how to get from the whole input to such batches and back.

- :class:`Direct`: call ``generate`` on the input as it is (inputs already in the training geometry, or fully
  convolutional generators that accept the size).
- :class:`PadToMultiple`: pad images up to the U-Net's multiple, generate, crop back (no resampling).
- :class:`ResizeTo`: resize images to the training size, generate, resize back (what pix2pix's ``--preprocess
  resize`` test path amounts to; loses detail on large images).
- :class:`OverlapAdd`: cut audio into overlapping windows, generate in mini-batches, cross-fade them back.

Each strategy states its own facts in :meth:`WholeInput.describe` (its settings, the modality it handles, the input
size it runs G at, and the policy in words), which :mod:`lightning_gan.deploy.description` and
:mod:`lightning_gan.deploy.export`
read instead of inspecting the strategy's type.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from typing_extensions import override

Generate = Callable[[Tensor], Tensor]


def _check_images(condition: Tensor, owner: str) -> None:
    if condition.ndim != 4 or condition.shape[-2] < 1 or condition.shape[-1] < 1:
        raise ValueError(f"{owner} expected images of shape N x C x H x W, got {tuple(condition.shape)}.")


@dataclass(frozen=True)
class StrategyInfo:
    """What a :class:`WholeInput` strategy does, as :meth:`WholeInput.describe` states it.

    Attributes:
        strategy: the strategy's class path.
        settings: its constructor settings (plain values), as stored beside exported models.
        modality: ``"image"`` or ``"audio"`` when the strategy handles only one; ``None``: any.
        example_size: an input size it runs G at (the window, the resize side, the pad multiple); ``None``: any.
        words: the policy in words, completing "for inputs of any size lightning_gan ...".
    """

    strategy: str
    settings: dict[str, Any]
    modality: Literal["image", "audio"] | None
    example_size: int | None
    words: str


class WholeInput:
    """Strategy interface: ``strategy(generate, condition) -> output`` for a whole (any-size) ``condition``.

    Subclasses override :meth:`describe` (the default knows only their settings).
    """

    def __call__(self, generate: Generate, condition: Tensor) -> Tensor:
        raise NotImplementedError

    def describe(self) -> StrategyInfo:
        """This strategy's facts; see :class:`StrategyInfo`."""
        return self._info(None, None, f"{type(self).__name__} (see whole_input)")

    def _info(self, modality: Literal["image", "audio"] | None, example_size: int | None, words: str) -> StrategyInfo:
        settings = {k: v for k, v in vars(self).items() if isinstance(v, int | float | str | bool)}
        path = f"{type(self).__module__}.{type(self).__qualname__}"
        return StrategyInfo(path, settings, modality, example_size, words)

    def state_dict(self) -> dict[str, Any]:
        """What the strategy learnt from the run (e.g. the training geometry), saved in checkpoints; ``{}``: nothing."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` from a checkpoint."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Direct(WholeInput):
    """Call ``generate(condition)`` unchanged."""

    def __call__(self, generate: Generate, condition: Tensor) -> Tensor:
        return generate(condition)

    @override
    def describe(self) -> StrategyInfo:
        return self._info(None, None, "runs G on the input as it is")


class PadToMultiple(WholeInput):
    """Pad images so H and W are multiples of ``multiple``, generate, crop the output back to H x W.

    The padding is split evenly between the two sides (the extra pixel after), so the image stays centred and both
    borders see the same kind of context. ``reflect`` mirrors the image without repeating the edge pixel, which
    avoids the flat bands ``replicate`` and the grey frame ``constant`` (0 in [-1, 1]) would feed the generator; it
    cannot pad more than ``size - 1`` pixels, so a dimension that needs more falls back to ``replicate``.

    Args:
        multiple: the generator's size multiple: 256 for the pix2pix ``unet_256`` (8 stride-2 levels), 128 for
            ``unet_128``.
        mode: ``"reflect"`` (default), ``"replicate"`` or ``"constant"`` (zeros).

    Raises:
        ValueError: on ``multiple < 1`` or an unknown ``mode``; on call, on a condition that is not N x C x H x W.
    """

    def __init__(self, multiple: int = 256, mode: Literal["reflect", "replicate", "constant"] = "reflect") -> None:
        if multiple < 1:
            raise ValueError(f"PadToMultiple: expected `multiple` >= 1, got {multiple!r}.")
        if mode not in ("reflect", "replicate", "constant"):
            raise ValueError(f"PadToMultiple: expected `mode` in ('reflect', 'replicate', 'constant'), got {mode!r}.")
        self.multiple = multiple
        self.mode = mode

    def _pad(self, x: Tensor, dim: int, before: int, after: int) -> Tensor:
        if before == 0 and after == 0:
            return x
        mode = self.mode
        if mode == "reflect" and max(before, after) >= x.shape[dim]:
            mode = "replicate"
        pad = (before, after, 0, 0) if dim == -1 else (0, 0, before, after)
        return F.pad(x, pad, mode=mode) if mode != "constant" else F.pad(x, pad, value=0.0)

    @override
    def describe(self) -> StrategyInfo:
        words = (
            f"pads H and W to multiples of {self.multiple} ({self.mode}, centred), runs G, crops the output back to "
            "the input's size"
        )
        return self._info("image", self.multiple, words)

    def __call__(self, generate: Generate, condition: Tensor) -> Tensor:
        _check_images(condition, "PadToMultiple")
        height, width = condition.shape[-2:]
        pads = []
        x = condition
        for dim, size in ((-2, height), (-1, width)):
            total = -size % self.multiple
            before = total // 2
            pads.append(before)
            x = self._pad(x, dim, before, total - before)
        out = generate(x)
        top, left = pads
        return out[..., top : top + height, left : left + width]


class ResizeTo(WholeInput):
    """Resize images to ``size`` x ``size`` (bicubic), generate, resize the output back to the input's H x W.

    Antialiasing is on when a resize shrinks the image (bicubic alone aliases on downscale) and off otherwise, where
    it would do nothing but blur. Bicubic overshoots, so the result is clamped to [-1, 1] (the image convention;
    ``clamp=False`` keeps it as is). Inputs already ``size`` x ``size`` are passed through without resampling.

    Args:
        size: the training crop (pix2pix: 256).
        clamp: clamp the output to [-1, 1].

    Raises:
        ValueError: on ``size < 1``; on call, on a condition that is not N x C x H x W.
    """

    def __init__(self, size: int = 256, clamp: bool = True) -> None:
        if size < 1:
            raise ValueError(f"ResizeTo: expected `size` >= 1, got {size!r}.")
        self.size = size
        self.clamp = clamp

    @staticmethod
    def _resize(x: Tensor, height: int, width: int) -> Tensor:
        if tuple(x.shape[-2:]) == (height, width):
            return x
        shrink = height < x.shape[-2] or width < x.shape[-1]
        return F.interpolate(x, size=(height, width), mode="bicubic", align_corners=False, antialias=shrink)

    @override
    def describe(self) -> StrategyInfo:
        words = f"resizes to {self.size} x {self.size} (bicubic), runs G, resizes the output back"
        return self._info("image", self.size, words)

    def __call__(self, generate: Generate, condition: Tensor) -> Tensor:
        _check_images(condition, "ResizeTo")
        height, width = condition.shape[-2:]
        out = self._resize(generate(self._resize(condition, self.size, self.size)), height, width)
        return out.clamp(-1.0, 1.0) if self.clamp and (height, width) != (self.size, self.size) else out


class OverlapAdd(WholeInput):
    """Apply a fixed-window audio generator to N x C x T signals of any length by windowed overlap-add.

    Policy:

    1. Zero-pad ``window - hop`` samples in front, and at the end enough (at least ``window - hop``) for a whole
       number of hops, so every real sample is covered by the same number of windows as in the middle of the file,
       the first and last included. A signal shorter than one window becomes at least one zero-padded window.
    2. Cut windows every ``hop`` samples and run ``generate`` on at most ``batch_size`` of them at a time (windows of
       all N inputs together), which bounds memory for long files (santi-pdp/segan issue #38 and PR #7,
       ``docs/references.md``, "SEGAN: data and inference").
    3. Cross-fade: each output window is weighted by ``w[n] = sin(pi * (n + 1/2) / window)**2`` (a Hann window
       shifted by half a sample, strictly positive) and the weighted sum is divided by the summed weights, so the
       weights sum to exactly 1 at every sample for any hop, edges included. At ``hop = window / 2`` the window is
       already COLA (``sin**2 + cos**2 = 1``). Neighbouring windows therefore blend smoothly instead of meeting at a
       seam every window as in the reference's non-overlapping concatenation
       (santi-pdp/segan c88a08d ``model.py`` ``clean``); ``hop = window`` reproduces that concatenation exactly.
    4. Trim the padding: the output has the input's length ``T``.

    The sums run in float64 (float32 on MPS, which has no float64), so an identity generator gives back its input
    exactly. Generators that see zero padding at the file edges (SEGAN always does on its last window) behave as in
    the references.

    Args:
        window: the generator's input length (SEGAN: 16384 samples, 1.024 s at 16 kHz).
        hop: window step, ``1 <= hop <= window``; 50 % overlap (8192) as in SEGAN's training slices.
        batch_size: windows per ``generate`` call.

    Raises:
        ValueError: on invalid arguments; on call, on a condition that is not N x C x T with T >= 1, or a generator
            output that is not ``window`` samples long.
    """

    def __init__(self, window: int = 16384, hop: int = 8192, batch_size: int = 32) -> None:
        if window < 1:
            raise ValueError(f"OverlapAdd: expected `window` >= 1, got {window!r}.")
        if not 1 <= hop <= window:
            raise ValueError(f"OverlapAdd: expected 1 <= `hop` <= `window` ({window}), got {hop!r}.")
        if batch_size < 1:
            raise ValueError(f"OverlapAdd: expected `batch_size` >= 1, got {batch_size!r}.")
        self.window = window
        self.hop = hop
        self.batch_size = batch_size

    @override
    def describe(self) -> StrategyInfo:
        words = (
            f"zero-pads, cuts {self.window}-sample windows every {self.hop} samples, runs G on them and "
            "overlap-adds the outputs with a sin**2 cross-fade, trimmed to the input's length"
        )
        return self._info("audio", self.window, words)

    def weights(self, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> Tensor:
        """The synthesis window ``sin(pi * (n + 1/2) / window)**2``, n = 0 ... window - 1."""
        n = torch.arange(self.window, dtype=torch.float64, device=device)
        return torch.sin(math.pi * (n + 0.5) / self.window).square().to(dtype)

    def __call__(self, generate: Generate, condition: Tensor) -> Tensor:
        if condition.ndim != 3 or condition.shape[-1] < 1:
            raise ValueError(f"OverlapAdd expected audio of shape N x C x T with T >= 1, got {tuple(condition.shape)}.")
        batch, _, length = condition.shape
        window, hop = self.window, self.hop
        front = window - hop
        count = max(1, math.ceil((length + 2 * front - window) / hop) + 1)  # windows needed
        padded_length = (count - 1) * hop + window
        padded = F.pad(condition, (front, padded_length - front - length))
        # N x C x count x window -> (N * count) x C x window, in the order N then time.
        windows = padded.unfold(-1, window, hop).transpose(1, 2).reshape(batch * count, -1, window)

        outputs = []
        for chunk in windows.split(self.batch_size):
            out = generate(chunk)
            if out.ndim != 3 or out.shape[0] != chunk.shape[0] or out.shape[-1] != window:
                raise ValueError(
                    f"OverlapAdd: generate must map {tuple(chunk.shape)} to B x C' x {window}, got {tuple(out.shape)}."
                )
            outputs.append(out)
        out = torch.cat(outputs)
        channels = out.shape[1]

        acc = torch.float32 if out.device.type == "mps" else torch.float64
        w = self.weights(acc, out.device)
        # (N * count) x C' x window -> N x (C' * window) x count for fold, weighted.
        frames = (out.to(acc) * w).reshape(batch, count, channels * window).transpose(1, 2)
        kwargs = {"output_size": (1, padded_length), "kernel_size": (1, window), "stride": (1, hop)}
        summed = F.fold(frames, **kwargs).reshape(batch, channels, padded_length)
        norm = F.fold(w[None, :, None].expand(1, window, count), **kwargs).reshape(1, 1, padded_length)
        result = summed[..., front : front + length] / norm[..., front : front + length]
        return result.to(out.dtype)
