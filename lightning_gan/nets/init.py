"""Weight initialisation shared by the DCGAN and pix2pix families."""

from torch import nn

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.GroupNorm)


def normal_init_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """Initialise in place as Radford et al. 2016 and the pix2pix reference do; returns ``module``.

    Convolution and linear weights ~ N(0, std), their biases 0; affine norm scales ~ N(1, std), their shifts 0.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module
