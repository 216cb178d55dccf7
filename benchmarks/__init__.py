"""Speed benchmarks of lightning_gan, run from the repository root (not part of the installed package).

- ``python -m benchmarks``: every family's Lightning ``fit`` against a plain PyTorch loop, the data pipeline and the
  FLOP floor; ``--ablate`` times the cheap wins one by one (:mod:`benchmarks.run`, writes ``docs/benchmarks*.md``).
- ``python -m benchmarks.ddp``: the two DDP strategies against each other and one process
  (:mod:`benchmarks.ddp`, writes ``docs/benchmarks_ddp.md``).

:mod:`benchmarks.loops` is the plain loop, :mod:`benchmarks.families` the configurations built from the shipped
YAML, :mod:`benchmarks.reference_pix2pix` the pix2pix reference's own update.
"""
