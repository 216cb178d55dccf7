"""How often a class-conditional digits generator draws the class it is asked for, by a classifier of real digits.

The classifier is an RBF support vector machine (scikit-learn's ``SVC(gamma=0.001)``, the classic setting for
these digits) trained on half of scikit-learn's 8 x 8 digits after the round trip the generator's training data
makes (upscaled bilinearly to the model's size as :class:`~lightning_gan.data.digits.DigitsDataModule` does, then
area-downscaled back to 8 x 8); its accuracy on the other, held-out half is reported alongside, as the ceiling.
Samples are area-downscaled to 8 x 8 the same way. Chance is 10 %. Independent of any feature network.

    python scripts/maintainer/digits_class_accuracy.py runs/dcgan_digits_cond/.../checkpoints/last.ckpt \\
        [--per-class 100]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.svm import SVC

from lightning_gan.data.digits import load_digit_images, load_digit_labels


def to_8x8(images: torch.Tensor) -> np.ndarray:
    """N x 1 x S x S images in [-1, 1] as N x 64 features on the digits' 0..16 scale (area downscaling)."""
    small = F.adaptive_avg_pool2d(images.float(), 8) if images.shape[-1] != 8 else images.float()
    return ((small.clamp(-1, 1) + 1.0) * 8.0).flatten(1).numpy()


def digits_classifier(image_size: int, seed: int = 0) -> tuple[SVC, float]:
    """An SVC trained on a random half of the digits (round-tripped through ``image_size``) and its accuracy on
    the held-out half."""
    features = to_8x8(load_digit_images(image_size))
    labels = load_digit_labels().numpy()
    order = np.random.default_rng(seed).permutation(len(labels))
    train, held_out = order[: len(order) // 2], order[len(order) // 2 :]
    classifier = SVC(gamma=0.001).fit(features[train], labels[train])
    return classifier, float((classifier.predict(features[held_out]) == labels[held_out]).mean())


def class_accuracy(sample, num_classes: int, image_size: int, per_class: int = 100, seed: int = 0) -> dict:
    """Per-class and mean accuracy of ``sample(n, seed=..., labels=...)`` (e.g. ``load_generator(ckpt).sample``)."""
    classifier, ceiling = digits_classifier(image_size)
    labels = torch.arange(num_classes).repeat_interleave(per_class)
    samples = to_8x8(sample(len(labels), seed=seed, labels=labels))
    predicted = classifier.predict(samples)
    hits = predicted == labels.numpy()
    per = {k: float(hits[labels.numpy() == k].mean()) for k in range(num_classes)}
    real, real_labels = to_8x8(load_digit_images(image_size)), load_digit_labels().numpy()
    return {
        "mean": float(hits.mean()),
        "per_class": per,
        "classifier_held_out": ceiling,
        "per_class_n": per_class,
        # Diversity within a class: the per-pixel standard deviation over a class's images (0..16 scale), averaged
        # over pixels and classes; a generator that ignores its noise scores 0.
        "within_class_std": _within_class_std(samples, labels.numpy(), num_classes),
        "within_class_std_real": _within_class_std(real, real_labels, num_classes),
    }


def _within_class_std(features: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    return float(np.mean([features[labels == k].std(axis=0).mean() for k in range(num_classes)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ckpt", type=Path)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from lightning_gan.deploy.api import load_generator

    generator = load_generator(args.ckpt, device="cpu")
    g = generator.module.inference_generator
    size = int(generator.sample(1, seed=0, labels=[0]).shape[-1])
    print(json.dumps(class_accuracy(generator.sample, g.num_classes, size, args.per_class, args.seed), indent=2))


if __name__ == "__main__":
    main()
