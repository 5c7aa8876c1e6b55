"""Learning-rate schedules tied to the length of the run (issue [glass-science]).

A ``MultiStepLR`` with milestones at fixed epochs fits one run length only: milestones written
for a 12-epoch job never fire in a 4-epoch smoke run and fire far too early in a 1000-epoch
convergence run. :class:`RunLengthLR` places its drops at *fractions* of the run's total
number of optimizer steps, which :class:`~interplay.glass.models.PropensityModule` reads from
the Trainer (``trainer.estimated_stepping_batches``: ``max_epochs`` x batches per epoch, or
``max_steps``), so the same config serves any budget. Stepped once per optimizer step.

Shapes (factor multiplying the optimizer's lr at step ``s`` of ``S``, ``f = s / S``):

* ``multistep``: ``gamma ** (number of milestones <= f)`` -- the thesis's lr halvings
  (§2.4.3, Fig. 2.9) at, by default, 50 %, 70 % and 85 % of the run (the paper config's
  epochs 50, 70, 85 of 100);
* ``cosine``: ``min_factor + (1 - min_factor) (1 + cos(pi f')) / 2`` with ``f'`` the fraction
  of the post-warm-up part of the run;
* ``constant``: 1 (with a warm-up if asked: Bapst et al.'s constant lr).

``warmup`` (fraction of the run, default 0): linear ramp from ``1 / warmup_steps`` to the
shape's value over the first ``warmup * S`` steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from interplay.core import ConfigError, check_positive

SHAPES = ("multistep", "cosine", "constant")


class RunLengthLR(torch.optim.lr_scheduler.LRScheduler):
    """lr = base lr x :meth:`factor` (module doc); one ``step()`` per optimizer step.

    Args:
        optimizer: the optimizer (the config's partial is completed with it).
        total_steps: optimizer steps of the whole run (the module passes the Trainer's).
        shape: "multistep" | "cosine" | "constant".
        milestones: fractions in (0, 1) of the run where ``multistep`` multiplies by ``gamma``.
        gamma: factor per milestone (0.5: halving, §2.4.3).
        warmup: fraction of the run of linear warm-up (0: none).
        min_factor: the cosine's final factor.
    """

    per_step = True  # PropensityModule: complete with total_steps, step every optimizer step

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        total_steps: int,
        shape: str = "multistep",
        milestones: Sequence[float] = (0.5, 0.7, 0.85),
        gamma: float = 0.5,
        warmup: float = 0.0,
        min_factor: float = 0.0,
        last_epoch: int = -1,
    ):
        if shape not in SHAPES:
            raise ConfigError(f"model.scheduler.shape={shape!r}: use one of {list(SHAPES)}")
        if not (isinstance(total_steps, int) or float(total_steps).is_integer()) or not (
            0 < total_steps < math.inf
        ):
            raise ConfigError(
                f"RunLengthLR needs a finite run length, got {total_steps} optimizer steps: set "
                "trainer.max_epochs (or trainer.max_steps); a run bounded only by "
                "trainer.max_time has no length to place the lr drops in"
            )
        self.milestones = sorted(float(m) for m in milestones)
        if any(not 0 < m < 1 for m in self.milestones):
            raise ConfigError(
                f"model.scheduler.milestones={list(milestones)}: fractions of the run in (0, 1) "
                "(e.g. [0.5, 0.7, 0.85]), not epochs"
            )
        if not 0 <= warmup < 1:
            raise ConfigError(f"model.scheduler.warmup={warmup}: a fraction of the run in [0, 1)")
        if not 0 <= min_factor <= 1:
            raise ConfigError(f"model.scheduler.min_factor={min_factor}: must lie in [0, 1]")
        self.total_steps = int(total_steps)
        self.shape = shape
        self.gamma = check_positive("model.scheduler.gamma", gamma)
        self.warmup_steps = int(round(warmup * self.total_steps))
        self.min_factor = float(min_factor)
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        """Multiplier of the base lr at optimizer step ``step`` (0-based)."""
        frac = min(step, self.total_steps) / self.total_steps
        if self.shape == "multistep":
            value = self.gamma ** sum(frac >= m for m in self.milestones)
        elif self.shape == "cosine":
            rest = max(self.total_steps - self.warmup_steps, 1)
            f = min(max(step - self.warmup_steps, 0) / rest, 1.0)
            value = self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * f))
        else:
            value = 1.0
        if step < self.warmup_steps:
            value *= (step + 1) / self.warmup_steps
        return value

    def get_lr(self) -> list[float]:
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]
