"""Evaluation metrics that torchmetrics does not ship (one module per family of measures).

- :mod:`.composite`: SEGAN's composite speech measures.
- Sample quality of images: Frechet and kernel distances (:mod:`.frechet`) in two feature spaces, a small digits
  classifier shipped with the package (:mod:`.digits`) and the FID Inception network read from a local file
  (:mod:`.inception`); :mod:`.sample_quality` runs them on a GAN's samples.
- Translations (pix2pix): realism as the sliced Wasserstein distance of multi-scale patches (:mod:`.swd`), and
  faithfulness to an edge-map input as edge-F1 (:mod:`.edges`).
"""

from lightning_gan.metrics.composite import CompositeInputError, CompositeMeasure, composite_measures
from lightning_gan.metrics.edges import CannySettings, EdgeF1, EdgeInputError
from lightning_gan.metrics.sample_quality import DigitsFeatures, FeatureSpace, InceptionFeatures, SampleQuality
from lightning_gan.metrics.swd import SlicedWassersteinDistance

__all__ = [
    "CannySettings",
    "CompositeInputError",
    "CompositeMeasure",
    "DigitsFeatures",
    "EdgeF1",
    "EdgeInputError",
    "FeatureSpace",
    "InceptionFeatures",
    "SampleQuality",
    "SlicedWassersteinDistance",
    "composite_measures",
]
