"""A pool of past generated images that a discriminator is shown instead of only the newest ones.

Shrivastava et al. 2017 ("Learning from Simulated and Unsupervised Images through Adversarial Training", arXiv
1612.07828, section 2.3) update D with a history of G's images so that D does not forget what it already rejected
and G cannot win by oscillating; CycleGAN (Zhu et al. 2017, arXiv 1703.10593, section 4) keeps 50 per direction.
The rule is the reference's ``util/image_pool.py`` (junyanz/pytorch-CycleGAN-and-pix2pix), per image of a batch:

* while the pool holds fewer than ``size`` images, store the new image and return it;
* then, with probability 1/2, return a uniformly chosen stored image and store the new one in its place;
  otherwise return the new image and store nothing.

The random draws come from torch's global generator (the reference uses Python's ``random``), which
:class:`~lightning_gan.callbacks.EpochSeeding` reseeds per epoch, and the stored images are module state
(``get_extra_state``): both go into the checkpoint, so a resumed run draws and returns exactly what an
uninterrupted one would.
"""

from typing import Any

import torch
from torch import Tensor, nn


class ImagePool(nn.Module):
    """The reference's history of generated images (see the module docstring for the rule).

    Args:
        size: images kept (reference ``--pool_size`` 50); 0 returns every batch unchanged.
    """

    def __init__(self, size: int = 50) -> None:
        super().__init__()
        if size < 0:
            raise ValueError(f"Expected `pool_size` >= 0, got {size!r}.")
        self.size = size
        self.images: list[Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, batch: Tensor) -> Tensor:
        """What D sees for ``batch`` (N x ...): per image, the new one or a stored one; detached."""
        batch = batch.detach()
        if self.size == 0:
            return batch
        returned = []
        for image in batch:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                returned.append(image)
            elif float(torch.rand(())) > 0.5:
                index = int(torch.randint(0, self.size, ()))
                returned.append(self.images[index].to(image.device))
                self.images[index] = image.clone()
            else:
                returned.append(image)
        return torch.stack(returned)

    def get_extra_state(self) -> Tensor:
        """The stored images as one tensor (N x ...; empty while the pool is), so checkpoints carry them."""
        return torch.stack(self.images) if self.images else torch.empty(0)

    def set_extra_state(self, state: Any) -> None:
        """Restore the stored images from :meth:`get_extra_state`'s tensor."""
        images = state if isinstance(state, Tensor) else torch.empty(0)
        self.images = [image.clone() for image in images.unbind(0)] if images.numel() else []
        if len(self.images) > self.size:
            raise ValueError(
                f"The checkpoint's image pool holds {len(self.images)} images, more than pool_size {self.size}."
            )


__all__ = ["ImagePool"]
