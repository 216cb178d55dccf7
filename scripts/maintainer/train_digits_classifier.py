"""Train the digits classifier whose features define the quickstart's FID (``lightning_gan/metrics/digits.py``).

Deterministic (fixed seeds, one thread; rerunning gives the same weights bit for bit): the training split of
``split_digits()`` (seed 0, 20 % held out) at 32 x 32 as the quickstart sees it, random shifts of up to 2 px as
the only augmentation, Adam for 30 epochs. The features' scale is then set from the training split. Writes
``lightning_gan/metrics/digits_classifier.pt`` (the state dict) and ``digits_classifier.json`` (the accuracy on the
held-out validation split, which the tests check). About 20 s on one CPU core:

    python scripts/maintainer/train_digits_classifier.py
"""

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from lightning_gan.data.digits import load_digit_images, split_digits
from lightning_gan.metrics.digits import IMAGE_SIZE, REPORT, WEIGHTS, DigitsClassifier

EPOCHS = 30
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
MAX_SHIFT = 2


def shift(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by a random whole number of pixels in [-MAX_SHIFT, MAX_SHIFT] per axis, background filled."""
    n, _, h, w = images.shape
    padded = F.pad(images, [MAX_SHIFT] * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * MAX_SHIFT + 1, (2, n), generator=generator)
    return torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="state dict to write (default: the shipped file)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)

    images = load_digit_images(IMAGE_SIZE)
    labels = torch.from_numpy(load_digits().target).long()
    train, val = split_digits()
    x_train, y_train = images[train], labels[train]

    model = DigitsClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            loss = F.cross_entropy(model(shift(x_train[batch], generator)), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1:2d}  train loss {total / len(order):.4f}")

    model.eval()
    with torch.no_grad():
        model.feature_scale.fill_(model.features(x_train).std(dim=0).mean())
        correct = int((model(images[val]).argmax(1) == labels[val]).sum())
    accuracy = correct / len(val)
    print(f"held-out accuracy {accuracy:.4f} ({correct} of {len(val)} validation-split digits)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    if args.out == WEIGHTS:
        report = {"held_out_accuracy": round(accuracy, 4), "correct": correct, "held_out": len(val), "epochs": EPOCHS}
        REPORT.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
