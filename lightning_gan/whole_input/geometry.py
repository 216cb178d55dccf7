"""Whole-input inference at the training scale: :class:`AtTrainingScale` brings any input to the scale G was trained
at (the data's :class:`~lightning_gan.data.geometry.ImageGeometry`), translates it, and brings the output back to the
input's own size, so ``validate``/``test`` score exactly what ``predict`` writes."""

from __future__ import annotations

import warnings
from typing import Any, Literal

from torch import Tensor, nn
from typing_extensions import override

from lightning_gan.data.geometry import ImageGeometry, quantize, resize
from lightning_gan.whole_input.strategies import Generate, PadToMultiple, StrategyInfo, WholeInput


class AtTrainingScale(WholeInput):
    """Translate whole images at the scale the generator was trained at, and return them at their own size.

    For an ``N x C x h x w`` condition: resize to :meth:`ImageGeometry.scaled_size` (nothing for ``crop``/``none``),
    pad to the generator's size multiple (:class:`~lightning_gan.whole_input.strategies.PadToMultiple`), generate, crop
    the
    padding off, resize back to ``h x w`` and round to the 8-bit grid of the files ``predict`` writes (``quantize``),
    so validation and test metrics are the metrics of those files.

    The geometry comes from the training data: :meth:`bind` takes the DataModule's ``geometry`` and the generator's
    ``size_multiple`` at setup (the GAN calls it), and both travel in the checkpoint (:meth:`state_dict`), so
    ``predict`` and :func:`lightning_gan.deploy.api.load_generator` use the training geometry even with other data
    settings.

    Args:
        pad_mode: padding of :class:`~lightning_gan.whole_input.strategies.PadToMultiple`.
        quantize: round outputs to the 8-bit grid.
        geometry: the geometry, when not bound from a DataModule (Python use).
        multiple: the generator's size multiple, when not bound.
    """

    def __init__(
        self,
        pad_mode: Literal["reflect", "replicate", "constant"] = "reflect",
        quantize: bool = True,
        geometry: ImageGeometry | None = None,
        multiple: int | None = None,
    ) -> None:
        PadToMultiple(1, pad_mode)  # validates pad_mode
        self.pad_mode, self.quantize = pad_mode, quantize
        self.geometry, self.multiple = geometry, multiple

    def bind(self, datamodule: Any, generator: nn.Module) -> None:
        """Take the training geometry from ``datamodule.geometry`` and the size multiple from ``generator``.

        Raises:
            ValueError: the DataModule has no image geometry; the training sizes are not multiples of the
                generator's (named keys and values).
        """
        geometry = getattr(datamodule, "geometry", None)
        if not isinstance(geometry, ImageGeometry):
            raise ValueError(
                f"AtTrainingScale needs a DataModule with an image `geometry` (ImageGeometry), got "
                f"{type(datamodule).__name__} without one; use PadToMultiple or ResizeTo for other data"
            )
        multiple = int(getattr(generator, "size_multiple", None) or self.multiple or 1)
        if geometry.crops and geometry.crop_size % multiple:
            raise ValueError(
                f"data crop_size={geometry.crop_size} is not a multiple of the generator's size multiple {multiple} "
                f"({type(generator).__name__}); expected a crop_size divisible by {multiple}"
            )
        if not geometry.crops and geometry.size_multiple % multiple:
            raise ValueError(
                f"data size_multiple={geometry.size_multiple} (preprocess={geometry.preprocess!r} trains on whole "
                f"images rounded to it) is not a multiple of the generator's size multiple {multiple}; expected "
                f"size_multiple divisible by {multiple}"
            )
        self.geometry, self.multiple = geometry, multiple

    @override
    def describe(self) -> StrategyInfo:
        g = self.geometry
        if g is None:
            return self._info("image", None, "brings images to the training scale (geometry not bound yet)")
        words = (
            f"brings it to the training scale (preprocess {g.preprocess!r}, load_size {g.load_size}, crop_size "
            f"{g.crop_size}; see lightning_gan.whole_input.geometry), pads H and W to multiples of "
            f"{self.multiple} ({self.pad_mode}, centred), runs G, crops the padding off and resizes the output back "
            "to the input's size (bicubic, antialiased when shrinking)"
        )
        return self._info("image", g.crop_size, words)

    @override
    def state_dict(self) -> dict[str, Any]:
        """The bound geometry and size multiple (``{}`` when unbound), as plain values."""
        if self.geometry is None:
            return {}
        return {"geometry": self.geometry.to_dict(), "multiple": self.multiple}

    @override
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (a checkpoint's training geometry)."""
        if state.get("geometry") is None:
            return
        trained = ImageGeometry(**state["geometry"])
        if self.geometry is not None and self.geometry != trained:
            warnings.warn(
                f"the checkpoint was trained with {trained}; the data settings {self.geometry} are not used for "
                "inference: validate/test/predict translate at the checkpoint's training scale",
                stacklevel=2,
            )
        self.geometry, self.multiple = trained, state.get("multiple")

    @override
    def __call__(self, generate: Generate, condition: Tensor) -> Tensor:
        if self.geometry is None:
            raise RuntimeError(
                "AtTrainingScale has no training geometry: it is bound from the DataModule at setup and restored "
                "from checkpoints; give `geometry=ImageGeometry(...)` when using it on its own"
            )
        if condition.ndim != 4:
            raise ValueError(f"AtTrainingScale expected images of shape N x C x H x W, got {tuple(condition.shape)}.")
        height, width = condition.shape[-2:]
        w, h = self.geometry.scaled_size(width, height)
        x = resize(condition, h, w)
        out = PadToMultiple(self.multiple or 1, self.pad_mode)(generate, x)
        out = resize(out, height, width)
        return quantize(out) if self.quantize else out
