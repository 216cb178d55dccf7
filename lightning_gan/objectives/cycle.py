"""Unpaired translation with cycle consistency: CycleGAN (Zhu et al. 2017, arXiv 1703.10593).

Two generators (``G_A: A -> B``, ``G_B: B -> A``) and two discriminators (``D_A`` judges domain B, ``D_B`` domain A)
are trained on images of A and of B that are not paired. Each side of the loop is one composite module
(:class:`~lightning_gan.nets.GeneratorPair`, :class:`~lightning_gan.nets.DiscriminatorPair`) under one optimizer, as
in the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix, ``models/cycle_gan_model.py``), whose
``optimize_parameters`` order this objective keeps (``generator_first``)::

    fake_B = G_A(A); rec_A = G_B(fake_B); fake_A = G_B(B); rec_B = G_A(fake_A)     # one forward of both G
    G step (D frozen): L_G = L_GAN(D_A(fake_B)) + L_GAN(D_B(fake_A))
                             + lambda_A |rec_A - A| + lambda_B |rec_B - B|
                             + identity * (lambda_B |G_A(B) - B| + lambda_A |G_B(A) - A|)
    D step: L_D = L_D_A(B, pool_B(fake_B)) + L_D_B(A, pool_A(fake_A))              # past fakes, 50 each

The identity term (section 5.2 of the paper, "photo generation from paintings") asks each generator to leave an
image of its target domain unchanged, which preserves colour composition; it needs the same channel count in A and
B, which :meth:`CycleConsistency.check_data` checks at setup, as the reference asserts.
"""

from typing import Any, ClassVar, cast

import torch
from torch import Tensor, nn

from lightning_gan.errors import ConfigError
from lightning_gan.nets.cyclegan import CycleOutputs, Direction, GeneratorPair, check_direction
from lightning_gan.objectives.base import Batch, Loop, Objective, Scored, Terms, run_generator
from lightning_gan.objectives.losses import AdversarialLoss, LeastSquaresLoss
from lightning_gan.objectives.pool import ImagePool
from lightning_gan.objectives.reconstruction import L1Loss, ReconstructionLoss


class CycleConsistency(Objective):
    """CycleGAN's objective; batches hold ``"a"`` and ``"b"`` images of the two domains, unpaired.

    The generator must be a :class:`~lightning_gan.nets.GeneratorPair` (or any module whose
    ``forward(real_a, real_b, identity)`` returns :class:`~lightning_gan.nets.cyclegan.CycleOutputs`), the
    discriminator a :class:`~lightning_gan.nets.DiscriminatorPair` (``forward(b, a) -> (D_A(b), D_B(a))``).

    Args:
        loss: the adversarial loss strategy; default :class:`~lightning_gan.objectives.LeastSquaresLoss` (the
            reference's ``--gan_mode lsgan``).
        lambda_a: weight of the cycle loss ``A -> B -> A`` (reference ``--lambda_A`` 10).
        lambda_b: weight of the cycle loss ``B -> A -> B`` (reference ``--lambda_B`` 10).
        identity_weight: the identity loss's weight relative to the cycle weights (reference
            ``--lambda_identity`` 0.5); 0 turns it off (and then A and B may have different channel counts).
        pool_size: past fakes kept per direction and shown to D (reference ``--pool_size`` 50; 0: none).
        generator_adversarial_weight: multiplies each of G's adversarial terms. The default 2 makes
            :class:`LeastSquaresLoss`'s ``0.5 (D(G(x)) - 1)^2`` (LSGAN's 1/2) the reference's ``(D(G(x)) - 1)^2``;
            D's loss already matches the reference's ``0.5 (L_real + L_fake)``.
        cycle_loss: distance of the cycle and identity terms; default :class:`~lightning_gan.objectives.L1Loss`
            (the paper's L1).
    """

    generator_first: ClassVar[bool] = True
    progress_bar_keys: ClassVar[tuple[str, ...]] = ("train/discrim_loss", "train/gen_loss_GAN", "train/cycle_loss")

    def __init__(
        self,
        loss: AdversarialLoss | None = None,
        lambda_a: float = 10.0,
        lambda_b: float = 10.0,
        identity_weight: float = 0.5,
        pool_size: int = 50,
        generator_adversarial_weight: float = 2.0,
        cycle_loss: ReconstructionLoss | None = None,
    ) -> None:
        super().__init__()
        for key, value in (
            ("lambda_a", lambda_a),
            ("lambda_b", lambda_b),
            ("identity_weight", identity_weight),
            ("generator_adversarial_weight", generator_adversarial_weight),
        ):
            if value < 0:
                raise ConfigError(f"model.objective.init_args.{key} = {value!r}: expected a weight >= 0.")
        if pool_size < 0:
            raise ConfigError(f"model.objective.init_args.pool_size = {pool_size!r}: expected an integer >= 0.")
        self.loss = loss if loss is not None else LeastSquaresLoss()
        self.lambda_a, self.lambda_b, self.identity_weight = lambda_a, lambda_b, identity_weight
        self.generator_adversarial_weight = generator_adversarial_weight
        self.cycle_loss = cycle_loss if cycle_loss is not None else L1Loss()
        # Training state: saved in checkpoints (ImagePool.get_extra_state), so a resumed fit sees the same history.
        self.pool_fake_a = ImagePool(pool_size)  # G_B's outputs, shown to D_B
        self.pool_fake_b = ImagePool(pool_size)  # G_A's outputs, shown to D_A
        # What evaluation scores and prediction writes; the data's `direction` at setup (check_data), the Python API's
        # `direction=` outside a Trainer. Not a constructor argument: it changes nothing in training.
        self.direction: Direction = "AtoB"

    def check_data(self, datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
        """Unpaired data whose channels match both pairs of networks; identity only between equal channel counts."""
        if not getattr(datamodule, "unpaired", False):
            raise ConfigError(
                f"model.objective: CycleConsistency needs unpaired data (batches of domain A and domain B images), "
                f"but the data module is {type(datamodule).__name__}; expected "
                "lightning_gan.data.UnpairedImageDataModule (trainA/, trainB/, testA/, testB/) or a module with "
                "`unpaired = True`."
            )
        a, b = datamodule.channels_a, datamodule.channels_b
        for side, net in (("generator", generator), ("discriminator", discriminator)):
            for domain, value in (("a", a), ("b", b)):
                expected = getattr(net, f"channels_{domain}", None)
                if expected is not None and expected != value:
                    raise ConfigError(
                        f"model.{side}.init_args.channels_{domain} = {expected}, but the data's domain "
                        f"{domain.upper()} has {value} channels (data.channels_{domain}); expected them equal."
                    )
        if self.identity_weight > 0 and a != b:
            raise ConfigError(
                f"model.objective.init_args.identity_weight = {self.identity_weight}, but domain A has {a} channels "
                f"and domain B {b}: the identity loss compares G_A(B) with B, so it needs equal channel counts; "
                "expected identity_weight: 0."
            )
        self.set_direction(getattr(datamodule, "direction", "AtoB"), generator)

    def set_direction(self, direction: str, generator: nn.Module | None = None) -> None:
        """Translate ``direction`` (``"AtoB"``: G_A, ``"BtoA"``: G_B) in evaluation, prediction and export; also set
        on ``generator`` (a :class:`~lightning_gan.nets.GeneratorPair`), whose channels then describe that way."""
        check_direction(direction)
        self.direction = cast(Direction, direction)
        if isinstance(generator, GeneratorPair):
            generator.direction = self.direction

    def fakes(self, loop: Loop, batch: Batch) -> CycleOutputs:
        outputs = loop.training_network("generator")(batch["a"], batch["b"], self.identity_weight > 0)
        return outputs

    def generator_loss(self, loop: Loop, batch: Batch, fakes: CycleOutputs) -> Terms:
        real_a, real_b = batch["a"], batch["b"]
        # The bare D: frozen in the G step, so a DDP wrapper would wait for gradients that never come.
        scores_b, scores_a = loop.discriminator(fakes.fake_b, fakes.fake_a)
        g_a = self.generator_adversarial_weight * self.loss.generator_loss(scores_b)
        g_b = self.generator_adversarial_weight * self.loss.generator_loss(scores_a)
        cycle_a = self.cycle_loss(fakes.rec_a, real_a) * self.lambda_a
        cycle_b = self.cycle_loss(fakes.rec_b, real_b) * self.lambda_b
        loss = g_a + g_b + cycle_a + cycle_b  # the reference's order of summation
        logs = {
            "train/gen_loss_G_A": g_a.detach(),
            "train/gen_loss_G_B": g_b.detach(),
            "train/gen_loss_GAN": (g_a + g_b).detach(),
            "train/cycle_loss_A": cycle_a.detach(),
            "train/cycle_loss_B": cycle_b.detach(),
            "train/cycle_loss": (cycle_a + cycle_b).detach(),
        }
        if fakes.idt_a is not None and fakes.idt_b is not None:
            idt_a = self.cycle_loss(fakes.idt_a, real_b) * self.lambda_b * self.identity_weight
            idt_b = self.cycle_loss(fakes.idt_b, real_a) * self.lambda_a * self.identity_weight
            loss = loss + idt_a + idt_b
            logs |= {"train/identity_loss_A": idt_a.detach(), "train/identity_loss_B": idt_b.detach()}
        return Terms(loss, logs)

    def discriminator_loss(self, loop: Loop, batch: Batch, fakes: CycleOutputs, d_step: int) -> Terms:
        real_a, real_b = batch["a"], batch["b"]
        fake_b = self.pool_fake_b.query(fakes.fake_b)  # the reference queries fake_B's pool first (D_A)
        fake_a = self.pool_fake_a.query(fakes.fake_a)
        call = loop.training_network("discriminator")
        real_scores_b, real_scores_a = call(real_b, real_a)
        fake_scores_b, fake_scores_a = call(fake_b, fake_a)
        d_a = self.loss.discriminator_loss(real_scores_b, fake_scores_b)
        d_b = self.loss.discriminator_loss(real_scores_a, fake_scores_a)
        d_loss = d_a + d_b
        logs = {
            "train/discrim_loss": d_loss.detach(),
            "train/discrim_loss_D_A": d_a.detach(),
            "train/discrim_loss_D_B": d_b.detach(),
            "train/d_real": self.loss.probability(torch.cat([real_scores_b.flatten(), real_scores_a.flatten()])),
            "train/d_fake": self.loss.probability(torch.cat([fake_scores_b.flatten(), fake_scores_a.flatten()])),
        }
        return Terms(d_loss, logs)

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        self.loss.after_discriminator_step(discriminator)

    def generate(
        self,
        generator: nn.Module,
        condition: Tensor | None,
        batch_size: int | None,
        labels: Tensor | None,
        device: torch.device,
    ) -> Tensor:
        """``condition`` translated in :attr:`direction` by the pair's generator of that direction."""
        if condition is None:
            raise ValueError("CycleGAN translates images: it needs a condition (an image of the source domain).")
        translator = getattr(generator, "translator", None)
        if translator is None:
            return run_generator(generator, generator, condition, None, None, device)
        return cast(Tensor, translator(self.direction)(condition))

    def evaluate(self, loop: Loop, batch: Batch, infer: Any, need_output: bool) -> Scored:
        """Translations in :attr:`direction` (A -> B by default) against the real images of the target domain
        (unpaired: for FID/KID, not for per-pixel metrics, unless the evaluation split pairs them by name as the
        demo's does), shown beside their inputs; and the cycle-reconstruction L1 of both directions
        (``cycle_l1_A`` = |G_B(G_A(A)) - A|, ``cycle_l1_B`` = |G_A(G_B(B)) - B|), each generator applied to whole
        images as in prediction. Always computed (``need_output`` aside): the cycle scores need the translations."""
        real_a, real_b = batch["a"], batch["b"]
        chosen = self.direction
        try:
            self.direction = "AtoB"
            fake_b = infer(real_a, None)
            self.direction = "BtoA"
            rec_a = infer(fake_b, None)
            fake_a = infer(real_b, None)
            self.direction = "AtoB"
            rec_b = infer(fake_a, None)
        finally:
            self.direction = chosen
        values = {
            "cycle_l1_A": self.cycle_loss(rec_a, real_a).detach(),
            "cycle_l1_B": self.cycle_loss(rec_b, real_b).detach(),
        }
        source, output, target = (real_a, fake_b, real_b) if chosen == "AtoB" else (real_b, fake_a, real_a)
        return Scored(output, target, source, values=values)


__all__ = ["CycleConsistency"]
