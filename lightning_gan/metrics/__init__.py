"""Evaluation metrics that torchmetrics does not ship (one module per family of measures).

- :mod:`.composite`: SEGAN's composite speech measures.
- Sample quality of images: Frechet and kernel distances (:mod:`.frechet`) in two feature spaces, a small digits
  classifier shipped with the package (:mod:`.digits`) and the FID Inception network read from a local file
  (:mod:`.inception`); :mod:`lightning_gan.evaluation` runs them on a GAN's samples.
"""

from lightning_gan.metrics.composite import CompositeInputError, CompositeMeasure, composite_measures

__all__ = ["CompositeInputError", "CompositeMeasure", "composite_measures"]
