"""Schedules that cycle the lr (and, optionally, the momentum) by formula: CyclicLR,
OneCycleLR and CosineAnnealingWarmRestarts (PyTorch's rules; meant to be stepped per batch).

They compute each lr from the epoch and fixed end points, so an lr set by hand is replaced at
the next step, as in PyTorch. Cycled momentum is SGD's `momentum`, or beta1 of `betas` for the
Adam family, written into the param groups next to the lr.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..optimizer import Optimizer
from .base import LRScheduler, _check_optimizer, per_group

__all__ = ["CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts"]


def _momentum_key(name: str, optimizer: Optimizer) -> str:
    """'momentum' or 'betas': what cycle_momentum changes in this optimizer."""
    for key in ("betas", "momentum"):
        if key in optimizer.defaults:
            return key
    raise ValueError(f"{name}: cycle_momentum=True needs an optimizer with momentum or betas "
                     f"({type(optimizer).__name__} has neither); pass cycle_momentum=False")


def _set_momentum(group: dict[str, Any], key: str, value: float) -> None:
    group[key] = (value, *group["betas"][1:]) if key == "betas" else value


def _start_momentum(group: dict[str, Any], key: str, base: float, peak: float) -> None:
    """At the start of a run: momentum at its peak, both end points kept in the group."""
    _set_momentum(group, key, peak)
    group["max_momentum"], group["base_momentum"] = peak, base


class CyclicLR(LRScheduler):
    """The lr goes from base_lr up to max_lr over step_size_up steps and back down over
    step_size_down; the height of each cycle is scaled by the mode's function:

        triangular   1                 triangular2   1 / 2**(cycle - 1)
        exp_range    gamma**step       (or scale_fn, of the cycle or the step: scale_mode)

    With cycle_momentum, the momentum moves the opposite way, max_momentum to base_momentum.
    """

    _functions = ("_scale_fn_custom",)

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float],
                 max_lr: float | list[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.8,
                 max_momentum: float | list[float] = 0.9, last_epoch: int = -1) -> None:
        _check_optimizer(self, optimizer)
        base_lrs = per_group("base_lr", "CyclicLR", optimizer, base_lr)
        self.max_lrs = per_group("max_lr", "CyclicLR", optimizer, max_lr)
        up = float(step_size_up)
        down = up if step_size_down is None else float(step_size_down)
        if not (up > 0 and down >= 0):
            raise ValueError(f"CyclicLR: step_size_up must be > 0 and step_size_down >= 0, got "
                             f"{step_size_up!r} and {step_size_down!r}")
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if scale_fn is None:
            if mode not in ("triangular", "triangular2", "exp_range"):
                raise ValueError("CyclicLR: mode must be 'triangular', 'triangular2' or "
                                 f"'exp_range' (or pass scale_fn), got {mode!r}")
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        elif scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        self.mode, self.gamma, self.scale_mode = mode, gamma, scale_mode
        self._scale_fn_custom = scale_fn
        self.cycle_momentum = cycle_momentum
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        if cycle_momentum:
            self._momentum = _momentum_key("CyclicLR", optimizer)
            self.use_beta1 = self._momentum == "betas"
            self.base_momentums = per_group("base_momentum", "CyclicLR", optimizer,
                                            base_momentum)
            self.max_momentums = per_group("max_momentum", "CyclicLR", optimizer, max_momentum)
            if last_epoch == -1:
                for group, b, m in zip(optimizer.param_groups, self.base_momentums,
                                       self.max_momentums):
                    _start_momentum(group, self._momentum, b, m)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """How much of the full height the cycle (or step) `x` gets."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x if self.mode == "exp_range" else 1.0

    def get_lr(self) -> list[float]:
        e = self.last_epoch
        cycle = math.floor(1 + e / self.total_size)
        x = 1.0 + e / self.total_size - cycle  # where in the cycle, 0 to 1
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else e)
        if self.cycle_momentum:
            for group, b, m in zip(self.optimizer.param_groups, self.base_momentums,
                                   self.max_momentums):
                _set_momentum(group, self._momentum, m - (m - b) * height * scale)
        return [b + (m - b) * height * scale for b, m in zip(self.base_lrs, self.max_lrs)]


class OneCycleLR(LRScheduler):
    """One cycle over total_steps: the lr anneals from max_lr / div_factor up to max_lr over
    the first pct_start of the steps, then down to initial_lr / final_div_factor (three_phase:
    back to initial_lr first, then down). The momentum moves the opposite way."""

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        _check_optimizer(self, optimizer)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        up = float(pct_start * self.total_steps) - 1
        # (last step of the phase, lr from, lr to, momentum from, momentum to)
        if three_phase:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (2 * up, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                           (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                            "max_momentum")]
        else:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                            "max_momentum")]
        max_lrs = per_group("max_lr", "OneCycleLR", optimizer, max_lr)
        if last_epoch == -1:
            for group, peak in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._momentum = _momentum_key("OneCycleLR", optimizer)
            self.use_beta1 = self._momentum == "betas"
            if last_epoch == -1:
                for group, b, m in zip(
                        optimizer.param_groups,
                        per_group("base_momentum", "OneCycleLR", optimizer, base_momentum),
                        per_group("max_momentum", "OneCycleLR", optimizer, max_momentum)):
                    _start_momentum(group, self._momentum, b, m)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, but total_steps is "
                             f"{self.total_steps}; make total_steps (or epochs * "
                             "steps_per_epoch) cover the whole run")
        start, i = 0.0, 0
        while step > self.phases[i][0] and i < len(self.phases) - 1:
            start, i = self.phases[i][0], i + 1
        end, lr0, lr1, m0, m1 = self.phases[i]
        if end == start:
            raise ValueError(f"OneCycleLR: phase {i + 1} of the cycle has no steps at step "
                             f"{step} (pct_start * total_steps = {self.phases[0][0] + 1:g}); "
                             "choose pct_start so that every phase gets at least one step")
        pct = (step - start) / (end - start)
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[lr0], group[lr1], pct))
            if self.cycle_momentum:
                _set_momentum(group, self._momentum, self._anneal(group[m0], group[m1], pct))
        return lrs


def _total_steps(total_steps: int | None, epochs: int | None,
                 steps_per_epoch: int | None) -> int:
    def positive_int(name: str, v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"OneCycleLR: {name} must be a positive int, got {v!r}")
        return v
    if total_steps is not None:
        return positive_int("total_steps", total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
    return positive_int("epochs", epochs) * positive_int("steps_per_epoch", steps_per_epoch)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine from initial_lr down to eta_min over T_0 epochs, then a restart at initial_lr;
    each period is T_mult times the last. `step(epoch)` takes fractional epochs, e.g.
    `scheduler.step(epoch + i / batches)` inside the batch loop."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive int, got "
                             f"{T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an int >= 1, got "
                             f"{T_mult!r}")
        if not isinstance(eta_min, (int, float)):
            raise ValueError(f"CosineAnnealingWarmRestarts: eta_min must be a number, got "
                             f"{type(eta_min).__name__}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cos = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to `epoch` (which may be fractional)."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be >= 0, got "
                             f"{epoch!r}")
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:  # restarts at T_0 * (1 + m + ... + m**(n-1)) = T_0 * (m**n - 1) / (m - 1)
            m = self.T_mult
            n = int(math.log(epoch / self.T_0 * (m - 1) + 1, m))
            self.T_cur = epoch - self.T_0 * (m**n - 1) / (m - 1)
            self.T_i = self.T_0 * m**n
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = self._current_lrs()
