"""`LRScheduler`: what every schedule shares (PyTorch's chainable contract).

Each `step()` moves to the next epoch and writes `get_lr()` into the param groups. Most
schedules compute the new lr from the group's CURRENT lr (multiply by gamma at a milestone,
...), not from a formula in the epoch, so that

    two schedules on one optimizer compose (each scales what the other left),
    an lr you set by hand is kept and scaled from there,
    a scheduler made after optimizer.load_state_dict continues from the loaded lr (but
    ConstantLR and LinearLR scale the lr when made: as PyTorch advises, make the scheduler
    first, then load both state dicts).

`initial_lr` (stored in each param group by the first scheduler) is the starting lr that
formula-based schedules (LambdaLR, the cyclic ones) and `step(epoch)` work from.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any

from ..optimizer import Optimizer

__all__ = ["LRScheduler"]

EPOCH_DEPRECATED = ("passing an epoch to scheduler.step() is deprecated (as in PyTorch): the lr "
                    "is then computed from the closed form where there is one; call step() "
                    "without arguments instead")

STEP_ORDER = ("lr_scheduler.step() was called before optimizer.step(): the first lr of the "
              "schedule is then skipped. Call optimizer.step() first, then scheduler.step()")


class LRScheduler:
    """Base class. Subclasses write `get_lr()` (the lrs for epoch `last_epoch`, usually from
    the current ones) and, where the schedule has one, `_closed_form()` for `step(epoch)`."""

    _functions: tuple[str, ...] = ()  # attributes holding user functions (not saveable)
    _is_initial = False  # True only during the step the constructor makes

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = _check_optimizer(self, optimizer)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: resuming with last_epoch={last_epoch} "
                               f"needs 'initial_lr' in param group {i}; load the optimizer's "
                               "state dict first, or construct with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step: moves to epoch last_epoch + 1; chainable rules keep the lr."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each param group for epoch `last_epoch` (called by `step()`)."""
        raise NotImplementedError

    _closed_form: Callable[[], list[float]] | None = None

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set the new lrs (call it after `optimizer.step()`)."""
        if self._step_count == 1 and not getattr(self.optimizer, "_stepped", False):
            warnings.warn(STEP_ORDER, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        before = self.last_epoch
        self.last_epoch = before + 1 if epoch is None else epoch
        try:
            if epoch is not None and self._closed_form is not None:
                lrs = self._closed_form()
            else:
                lrs = self.get_lr()
            for i, lr in enumerate(lrs):
                if lr < 0:  # PyTorch would go on, and the optimizer would climb the loss
                    raise ValueError(
                        f"{type(self).__name__}: the lr of param group {i} would become "
                        f"{lr:.4g} at epoch {self.last_epoch}; an lr must be >= 0 (was it set "
                        "by hand below the schedule's floor, e.g. eta_min?)")
        except Exception:
            self.last_epoch = before  # a step that fails changes nothing
            raise
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _scaled(self, factor: float) -> list[float]:
        """Every group's current lr times `factor`."""
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` set, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer. Functions (`_functions`) are saved as None, or
        as their attributes if they are callable objects (as in PyTorch)."""
        state = {k: v for k, v in vars(self).items() if k != "optimizer"}
        for k in self._functions:
            state[k] = [_saved_fn(f) for f in _listed(state[k])]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict()` saved (the optimizer and the functions stay)."""
        for k, v in state_dict.items():
            if k in self._functions:
                for f, saved in zip(_listed(getattr(self, k)), v):
                    if saved is not None:
                        vars(f).update(saved)
            elif k != "optimizer":
                setattr(self, k, _plain(v))


def _check_optimizer(scheduler: Any, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(scheduler).__name__}: {type(optimizer).__name__} is not an "
                        "Optimizer; pass the optimizer whose lr it schedules")
    return optimizer


def _saved_fn(f: Any) -> dict[str, Any] | None:
    if f is None or isinstance(f, types.FunctionType) or not hasattr(f, "__dict__"):
        return None
    return dict(vars(f))


def _listed(fns: Any) -> list[Any]:
    return fns if isinstance(fns, list) else [fns]


def _plain(v: Any) -> Any:
    """A loaded value (maybe an ndarray or numpy number from a file) as Python data."""
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def per_group(name: str, scheduler: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per param group: a list of that length, or a single value repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{scheduler}: {name} has {len(value)} values but the optimizer "
                             f"has {n} param groups; give one per group or a single value")
        return list(value)
    return [value] * n
