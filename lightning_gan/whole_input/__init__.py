"""Whole-input inference: how validation, test, predict and export apply a fixed-geometry generator to inputs of any
size (pad or resize images, overlap-add audio windows, translate at the training scale)."""

from lightning_gan.whole_input.geometry import AtTrainingScale
from lightning_gan.whole_input.strategies import Direct, OverlapAdd, PadToMultiple, ResizeTo, WholeInput

__all__ = ["AtTrainingScale", "Direct", "OverlapAdd", "PadToMultiple", "ResizeTo", "WholeInput"]
