"""DDP with the generator and the discriminator in separate ``DistributedDataParallel`` wrappers.

Lightning's ``ddp`` wraps the whole LightningModule in one DDP, whose reducer expects every parameter to receive a
gradient in every backward. A GAN's D step reaches only D and its G step only G, so plain ``ddp`` fails on the
second backward, and ``ddp_find_unused_parameters_true`` makes it work by searching the autograd graph after each
forward and all-reducing the untouched network's (empty) buckets in every backward. Wrapping G and D separately, as
Fabric's DCGAN example does, makes each backward all-reduce only the network it trains, with no graph search.
``docs/benchmarks_ddp.md`` measures the two against each other (``benchmarks/ddp.py``).

The CLI calls :func:`gan_strategy` before it builds the Trainer, so that a user who asks for several devices never
meets plain ``ddp``: Lightning's ``strategy: auto`` picks ``ddp`` for more than one process, whose ranks then die
after the first batch (on a CPU, tens of seconds later) with "parameters that were not used in producing the loss".
``auto`` with more than one process becomes ``ddp_separate`` (and says so); a DDP strategy that cannot train the
GAN (``ddp``, ``ddp_spawn``, ``ddp_find_unused_parameters_false`` ...) is refused before anything starts.
"""

import importlib
from typing import Any

from lightning.pytorch.accelerators import CPUAccelerator, CUDAAccelerator, MPSAccelerator, XLAAccelerator
from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from typing_extensions import override

from lightning_gan import _compat
from lightning_gan.errors import ConfigError

GAN_DDP = "ddp_separate"


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


def _strategy_class(strategy: Any) -> tuple[type | None, dict[str, Any]]:
    """The class and init arguments a ``trainer.strategy`` value names: a registered name or ``{class_path, ...}``."""
    if isinstance(strategy, str):
        if strategy not in StrategyRegistry:
            return None, {}
        entry = StrategyRegistry[strategy]
        return entry["strategy"], dict(entry["init_params"])
    class_path = _get(strategy, "class_path")
    if not isinstance(class_path, str) or "." not in class_path:
        return None, {}
    module, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None, {}  # jsonargparse reports it when it builds the Trainer
    init_args = _get(strategy, "init_args")
    return cls, dict(init_args.items()) if hasattr(init_args, "items") else {}


def _get(node: Any, key: str) -> Any:
    getter = getattr(node, "get", None)
    return getter(key) if callable(getter) else getattr(node, key, None)


def cannot_train_gan(strategy: Any) -> bool:
    """Whether ``strategy`` is Lightning's DDP that wraps the whole module without searching for unused parameters.

    ``ddp_find_unused_parameters_true`` (and its spawn/fork variants) and ``ddp_separate`` train the GAN; every other
    ``DDPStrategy`` (``ddp``, ``ddp_spawn``, ``ddp_fork``, ``ddp_notebook``, ``..._false``) fails on its first D/G
    step pair.
    """
    cls, init_args = _strategy_class(strategy)
    if not isinstance(cls, type) or not issubclass(cls, DDPStrategy) or issubclass(cls, SeparateDDPStrategy):
        return False
    return init_args.get("find_unused_parameters") is not True


def process_count(accelerator: Any, devices: Any, num_nodes: Any) -> int | None:
    """How many training processes Lightning starts for these Trainer flags, or ``None`` where this cannot tell.

    Follows Lightning's accelerator connector for the accelerators that DDP runs on: ``auto`` is MPS, CUDA or the
    CPU, in that order (TPUs get Lightning's own XLA strategy: ``None``); ``devices: auto`` is every CUDA device, or
    one CPU process. Flags that Lightning would refuse give ``None``, so that Lightning's own message reports them.
    """
    nodes = num_nodes if isinstance(num_nodes, int) and not isinstance(num_nodes, bool) and num_nodes > 0 else 1
    name = accelerator if isinstance(accelerator, str) else None
    if name == "auto":
        if XLAAccelerator.is_available():
            return None
        name = "mps" if MPSAccelerator.is_available() else "cuda" if CUDAAccelerator.is_available() else "cpu"
    elif name == "gpu":
        name = "mps" if MPSAccelerator.is_available() else "cuda"
    if name == "mps":
        return nodes  # one MPS device per machine
    classes: dict[str, Any] = {"cpu": CPUAccelerator, "cuda": CUDAAccelerator}
    if name not in classes:
        return None
    cls = classes[name]
    try:
        parsed = cls.parse_devices(cls.auto_device_count() if devices == "auto" else devices)
    except Exception:  # MisconfigurationException, TypeError, ValueError: Lightning's own message says it better
        return None
    if isinstance(parsed, int) and not isinstance(parsed, bool):
        return parsed * nodes
    if isinstance(parsed, list | tuple):
        return len(parsed) * nodes
    return None


def gan_strategy(trainer: Any) -> str | None:
    """Check the ``trainer`` config's strategy; the strategy to use instead of its ``auto``, or ``None`` to keep it.

    Args:
        trainer: the parsed ``trainer`` section (``strategy``, ``accelerator``, ``devices``, ``num_nodes``).

    Returns:
        ``"ddp_separate"`` when the strategy is ``auto`` (or unset) and the flags start more than one process
        (Lightning would choose plain ``ddp``), else ``None``.

    Raises:
        ConfigError: the strategy is a DDP that cannot train the GAN (:func:`cannot_train_gan`).
    """
    strategy = _get(trainer, "strategy")
    if cannot_train_gan(strategy):
        shown = strategy if isinstance(strategy, str) else _get(strategy, "class_path")
        raise ConfigError(
            f"trainer.strategy = {shown}: Lightning's DDP wraps the whole GAN in one DistributedDataParallel, which "
            "fails on the GAN's separate D and G backward passes (\"parameters that were not used in producing the "
            f'loss"); use --trainer.strategy {GAN_DDP} (or ddp_find_unused_parameters_true, which is slower), see '
            "docs/training.md"
        )
    if strategy not in (None, "auto"):
        return None
    processes = process_count(_get(trainer, "accelerator"), _get(trainer, "devices"), _get(trainer, "num_nodes"))
    return GAN_DDP if processes is not None and processes > 1 else None
