"""Devices: there is one, the CPU. `torch.device`, `torch.cuda` and friends, as PyTorch spells them.

    device = "cuda" if tinygrad_edu.cuda.is_available() else "cpu"    # -> "cpu"
    x = tinygrad_edu.zeros(3, device=device)                          # fine
    x.to("cuda")        # RuntimeError: tinygrad_edu runs on the CPU only ...

A device may be named ("cuda:0") and built (`device("cuda")`) as in PyTorch; using a GPU one
is what fails, with a message saying what to write instead.
"""

from __future__ import annotations

import types
from typing import Any

__all__ = ["device", "check_device", "get_default_device", "set_default_device", "is_device",
           "cuda", "mps", "accelerator", "backends"]

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "xla", "hip", "mtia")


class device:
    """A device name, as torch.device: `device("cpu")`, `device("cuda", 0)`, `device("cuda:1")`."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string such as 'cpu', got {type!r}")
        name, _, idx = type.partition(":")
        if name not in _KNOWN:
            raise RuntimeError(f"device(): unknown device type {name!r}; this library has 'cpu'")
        if idx:
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"device(): invalid device string {type!r}")
            index = int(idx)
        self.type, self.index = name, index

    def __eq__(self, other: object) -> bool:
        """Equal to the same device, and (unlike torch) to its name: `x.device == "cpu"`."""
        if isinstance(other, str) and is_device(other):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash(str(self))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"


CPU = device("cpu")


def is_device(x: Any) -> bool:
    """Is x a device, or a string naming one ('cpu', 'cuda:0')? (what `.to(x)` treats as one)"""
    return isinstance(x, device) or (isinstance(x, str) and x.partition(":")[0] in _KNOWN)


def check_device(dev: Any, where: str) -> device:
    """`dev` as a device, which must be the CPU; a GPU one is a clear error naming `where`."""
    if dev is None:
        return CPU
    d = dev if isinstance(dev, device) else device(dev) if isinstance(dev, str) else None
    if d is None:
        raise TypeError(f"{where}: device must be a string or a device, got {dev!r}")
    if d.type != "cpu":
        raise RuntimeError(
            f"{where}: device '{d}' is not available: tinygrad_edu runs on the CPU only. Use "
            "device='cpu' (or pick it with `'cuda' if torch.cuda.is_available() else 'cpu'`, "
            "which gives 'cpu' here)"
        )
    return CPU


def get_default_device() -> device:
    """The device new tensors are made on: always the CPU."""
    return CPU


def set_default_device(dev: Any) -> None:
    """Accepts the CPU (anything else is a clear error)."""
    check_device(dev, "set_default_device")


class _NoGpu:
    """`torch.cuda`, `torch.backends.mps`, ...: the availability checks a script makes first.

    They all answer "no"; asking for a GPU (`cuda.current_device()`) says why.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def is_available(self) -> bool:
        return False

    def is_built(self) -> bool:
        return False

    def device_count(self) -> int:
        return 0

    def manual_seed(self, seed: int) -> None:
        """Seeding a GPU that is not there does nothing (as torch.cuda.manual_seed on a CPU)."""

    manual_seed_all = manual_seed

    def synchronize(self, *args: Any) -> None:
        """Nothing runs asynchronously here: a no-op."""

    def empty_cache(self) -> None:
        """No GPU memory to free: a no-op."""

    def current_device(self) -> int:
        check_device(self._name, f"{self._name}.current_device")
        return 0  # pragma: no cover  (check_device raises)

    def get_device_name(self, *args: Any) -> str:
        check_device(self._name, f"{self._name}.get_device_name")
        return ""  # pragma: no cover


class _Accelerator(_NoGpu):
    """`torch.accelerator`: none here, so tutorials that ask fall back to the CPU."""

    def current_accelerator(self, check_available: bool = False) -> None:
        return None


cuda = _NoGpu("cuda")
mps = _NoGpu("mps")
accelerator = _Accelerator("cuda")
backends = types.SimpleNamespace(  # torch.backends.mps.is_available(), cudnn flags scripts set
    mps=mps,
    cuda=cuda,
    cudnn=types.SimpleNamespace(
        is_available=lambda: False, enabled=False, deterministic=False, benchmark=False
    ),
)
