"""Sample-quality metrics: Frechet and kernel distances (:mod:`.frechet`) in two feature spaces, a small digits
classifier shipped with the package (:mod:`.digits`) and the FID Inception network read from a local file
(:mod:`.inception`). :mod:`lightning_gan.evaluation` runs them on a GAN's samples."""
