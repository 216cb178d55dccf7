"""A small digits classifier shipped with the package: the feature space of the quickstart's FID.

Inception features are meaningless on 32 x 32 grey digits and need a 95 MB download; this CNN is trained on the
same scikit-learn digits the quickstart learns (the training split of :func:`lightning_gan.data.digits.split_digits`,
never the validation split) by ``scripts/maintainer/train_digits_classifier.py`` on a CPU, and its weights
(``digits_classifier.pt``, 190 KB) ship inside the package.

Its accuracy on the validation split is written by the script into ``digits_classifier.json``
(:func:`held_out_accuracy`) and checked by the tests; the figure is in docs/evaluation.md, "Feature spaces".

Architecture: three 3 x 3 convolution + ReLU + 2 x 2 max-pool stages (16, 32, 32 channels; 32 -> 4 px), a
64-unit ReLU layer, a 10-way linear layer (the logits). The features are that 64-unit layer's pre-activations
divided by ``feature_scale`` (stored with the weights: their mean standard deviation over the training split, so a
feature varies by about 1): before the ReLU none of them is constant, and the scale keeps FID and KID (whose
kernel assumes features of order 1) in a readable range. Inputs are N x 1 x H x W in [-1, 1]
(white digit on black, as :func:`lightning_gan.data.digits.load_digit_images`), resized bilinearly to 32 x 32
when H, W differ. Other projects reuse it with :func:`load_digits_classifier`.
"""

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

WEIGHTS = Path(__file__).with_name("digits_classifier.pt")
REPORT = Path(__file__).with_name("digits_classifier.json")
IMAGE_SIZE = 32


class DigitsClassifier(nn.Module):
    """CNN digits classifier; ``forward`` gives logits, :meth:`features_and_probabilities` the FID view."""

    num_features = 64
    feature_scale: Tensor

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out in ((1, 16), (16, 32), (32, 32)):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.convs = nn.Sequential(*layers)
        self.hidden = nn.Linear(32 * 4 * 4, self.num_features)
        self.head = nn.Linear(self.num_features, 10)
        self.register_buffer("feature_scale", torch.ones(()))

    def _hidden(self, images: Tensor) -> Tensor:
        x = images.float()
        if x.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
            x = F.interpolate(x, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False, antialias=True)
        return self.hidden(self.convs(x).flatten(1))

    def forward(self, images: Tensor) -> Tensor:
        """Class logits for images in [-1, 1]."""
        return self.head(F.relu(self._hidden(images)))

    def features(self, images: Tensor) -> Tensor:
        """The 64 features (scaled pre-activations of the hidden layer) for images in [-1, 1]."""
        return self._hidden(images) / self.feature_scale

    def features_and_probabilities(self, images: Tensor) -> tuple[Tensor, Tensor]:
        hidden = self._hidden(images)
        return hidden / self.feature_scale, F.softmax(self.head(F.relu(hidden)), dim=1)


def load_digits_classifier(path: str | Path | None = None) -> DigitsClassifier:
    """The shipped classifier (or the weights at ``path``), in eval mode with gradients off."""
    network = DigitsClassifier()
    network.load_state_dict(torch.load(path or WEIGHTS, map_location="cpu", weights_only=True))
    return network.eval().requires_grad_(False)


def held_out_accuracy() -> float:
    """The shipped classifier's accuracy on the validation split, as measured by the training script."""
    return float(json.loads(REPORT.read_text())["held_out_accuracy"])
