"""Evaluation metrics that torchmetrics does not ship (one module per family of measures).

- :mod:`.composite`: SEGAN's composite speech measures.
- Sample quality of images: Frechet and kernel distances (:mod:`.frechet`) in two feature spaces, a small digits
  classifier shipped with the package (:mod:`.digits`) and the FID Inception network read from a local file
  (:mod:`.inception`); :mod:`.sample_quality` runs them on a GAN's samples.
"""

from lightning_gan.metrics.composite import CompositeInputError, CompositeMeasure, composite_measures
from lightning_gan.metrics.sample_quality import DigitsFeatures, FeatureSpace, InceptionFeatures, SampleQuality

__all__ = [
    "CompositeInputError",
    "CompositeMeasure",
    "DigitsFeatures",
    "FeatureSpace",
    "InceptionFeatures",
    "SampleQuality",
    "composite_measures",
]
