"""Evaluation metrics that torchmetrics does not ship (one module per family of measures)."""

from lightning_gan.metrics.composite import CompositeInputError, CompositeMeasure, composite_measures

__all__ = ["CompositeInputError", "CompositeMeasure", "composite_measures"]
