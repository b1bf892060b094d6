"""Schedules made of schedules: SequentialLR (one after another) and ChainedScheduler (all at
once, each scaling what the previous left), as in PyTorch."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from numbers import Integral
from typing import Any

from ..optimizer import Optimizer
from .base import LRScheduler, _check_optimizer
from .plateau import ReduceLROnPlateau

__all__ = ["SequentialLR", "ChainedScheduler"]


def _check_parts(name: str, optimizer: Optimizer, schedulers: Sequence[Any]) -> list[Any]:
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{name}: expected at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{name}: scheduler {i} is a {type(s).__name__}, not an lr "
                            "scheduler (it has no .optimizer)")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{name}: scheduler {i} is a ReduceLROnPlateau, which needs a "
                             "metric in step(metric); step it separately")
        if s.optimizer is not optimizer:
            raise ValueError(f"{name}: scheduler {i} ({type(s).__name__}) belongs to another "
                             f"optimizer than the {type(optimizer).__name__} given; all must "
                             "schedule the same optimizer")
    return schedulers


class _Composite(LRScheduler):
    """State dicts that hold one state dict per part."""

    _schedulers: list[Any]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in vars(self).items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        parts = state_dict.get("_schedulers", [])
        if len(parts) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state dict has "
                             f"{len(parts)} schedulers, this one {len(self._schedulers)}")
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, saved in zip(self._schedulers, parts):
            s.load_state_dict(saved)


def _undo_one_step(scheduler: Any) -> None:
    """Move every scheduler inside `scheduler` back by one epoch."""
    for s in getattr(scheduler, "_schedulers", ()):
        if hasattr(s, "_schedulers"):
            _undo_one_step(s)
        elif hasattr(s, "last_epoch"):
            s.last_epoch -= 1


class SequentialLR(_Composite):
    """schedulers[0] until epoch milestones[0], then schedulers[1] (restarted at its epoch 0,
    from initial_lr), and so on: e.g. a LinearLR warm-up followed by a CosineAnnealingLR."""

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        self.optimizer = _check_optimizer(self, optimizer)
        self._schedulers = _check_parts("SequentialLR", optimizer, schedulers)
        ms = list(milestones)
        if len(ms) != len(self._schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(self._schedulers)} schedulers need "
                             f"{len(self._schedulers) - 1} milestones, got {len(ms)}")
        if any(not isinstance(m, Integral) or m < 0 for m in ms) or \
                any(a >= b for a, b in zip(ms, ms[1:])):
            raise ValueError(f"SequentialLR: milestones must be increasing epoch numbers "
                             f"(ints >= 0), got {ms!r}")
        self._milestones = [int(m) for m in ms]
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:  # undo what making the parts did
            group["lr"] = group["initial_lr"]
        _undo_one_step(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:  # type: ignore[override]
        """Advance one epoch, with the scheduler whose turn it is."""
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            s._update_lr(0)  # its first epoch: from initial_lr, by its formula
        else:
            s.step()
        self._last_lr = s.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers together: each step applies them in order, each scaling the lr
    the previous one left (e.g. ConstantLR warm-up times ExponentialLR decay)."""

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: Optimizer | None = None) -> None:
        parts = list(schedulers)
        if optimizer is None and parts:
            optimizer = getattr(parts[0], "optimizer", None)
        self._schedulers = _check_parts("ChainedScheduler", optimizer, parts)  # type: ignore
        self.optimizer = optimizer  # type: ignore[assignment]
        self._last_lr = self._current_lrs()

    def step(self) -> None:  # type: ignore[override]
        """Step every scheduler once, in order."""
        for s in self._schedulers:
            s.step()
        self._last_lr = self._current_lrs()
