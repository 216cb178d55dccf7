"""DDP with the generator and the discriminator in separate ``DistributedDataParallel`` wrappers.

Lightning's ``ddp`` wraps the whole LightningModule in one DDP, whose reducer expects every parameter to receive a
gradient in every backward. A GAN's D step reaches only D and its G step only G, so plain ``ddp`` fails on the
second backward, and ``ddp_find_unused_parameters_true`` makes it work by searching the autograd graph after each
forward and all-reducing the untouched network's (empty) buckets in every backward. Wrapping G and D separately, as
Fabric's DCGAN example does, makes each backward all-reduce only the network it trains, with no graph search.
``docs/benchmarks_ddp.md`` measures the two against each other (``benchmarks/ddp.py``).
"""

from typing import Any

from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from typing_extensions import override

from lightning_gan import _compat


class SeparateDDPStrategy(DDPStrategy):
    """DDP that wraps the GAN module's generator and discriminator in one ``DistributedDataParallel`` each.

    The LightningModule itself stays unwrapped (Lightning calls its ``training_step`` directly) and must have
    ``generator``, ``discriminator`` and a ``train_wrappers`` dict (:class:`lightning_gan.gan.GAN`): this strategy
    puts the wrappers there, and the module's G forward in training and its D step's forwards run through them, so
    each backward all-reduces only the network it trains. G's step scores its fake with the bare D: D's parameters
    are frozen there, and a DDP forward would wait for their gradients. The gradient penalty also uses the bare D;
    its gradients reach D's parameters in the same backward, which is all DDP's hooks need. A plain dict, so the
    wrappers are not registered as submodules and checkpoints hold the bare networks' keys: they load with any
    strategy. Takes :class:`~lightning.pytorch.strategies.DDPStrategy`'s arguments; ``kwargs``
    reach ``DistributedDataParallel`` (``find_unused_parameters`` defaults to ``False`` and is not needed).
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("ddp_comm_hook") is not None or kwargs.get("model_averaging_period") is not None:
            raise ValueError("SeparateDDPStrategy does not support `ddp_comm_hook` or `model_averaging_period`.")
        super().__init__(**kwargs)

    @override
    def configure_ddp(self) -> None:
        module: Any = self.lightning_module  # duck-typed: generator, discriminator, train_wrappers
        if not hasattr(module, "train_wrappers"):
            raise TypeError(
                f"SeparateDDPStrategy needs a LightningModule with `train_wrappers`, such as "
                f"lightning_gan.gan.GAN; got {type(module).__name__}. Use strategy `ddp_find_unused_parameters_true`."
            )
        # DDP broadcasts the states of what it wraps; the rest (EMA copy, loss modules) is broadcast here.
        _compat.sync_module_states(module)
        wrap = _compat.ddp_wrapper(self)
        module.train_wrappers = {"generator": wrap(module.generator), "discriminator": wrap(module.discriminator)}

    @override
    def teardown(self) -> None:
        module: Any = self.lightning_module
        if module is not None and hasattr(module, "train_wrappers"):
            module.train_wrappers = {}
        super().teardown()


# `--trainer.strategy ddp_separate` on the command line or in YAML (imported by lightning_gan.cli).
if "ddp_separate" not in StrategyRegistry:
    StrategyRegistry.register(
        "ddp_separate", SeparateDDPStrategy, description="DDP with G and D in separate DistributedDataParallel"
    )
