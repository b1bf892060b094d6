"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.

Weights (out_channels, in_channels/groups, *kernel_size) for a convolution and
(in_channels, out_channels/groups, *kernel_size) for a transposed one, initialized as
PyTorch's: kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias
from the same range. The arithmetic is in tensor/window.py (`F.conv2d`, ...).
"""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor, empty
from ..tensor.window import _conv_padding
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return (int(v),) * n if isinstance(v, int) else tuple(int(i) for i in v)


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, init and repr."""

    _nsp = 0
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", output_padding: Any = 0,
                 dtype: Any = None) -> None:
        super().__init__()
        name, n = type(self).__name__, self._nsp
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide both in_channels "
                             f"({in_channels}) and out_channels ({out_channels})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, "
                             f"got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be 'same', 'valid' or ints, got {padding!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n)
        self.stride, self.dilation = _tuple(stride, n), _tuple(dilation, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.output_padding = _tuple(output_padding, n)
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups))
        self.weight = Parameter(empty(*shape, *self.kernel_size, dtype=dtype))
        self.bias = Parameter(empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self._nsp
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check(self, input: Tensor) -> None:
        n = self._nsp
        if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2):
            raise ValueError(f"{self!r}: expected a {n + 2}-D input (N, C, "
                             f"{', '.join('HW'[-n:])}) or {n + 1}-D unbatched, got "
                             f"{getattr(input, 'shape', type(input).__name__)}")
        c = input.shape[-n - 1]
        if c != self.in_channels:
            raise ValueError(f"{self!r}: expected {self.in_channels} input channels (dim "
                             f"{input.ndim - n - 1}), got input of shape {input.shape}")


class _Conv(_ConvNd):
    _conv: Any = None  # F.conv1d or F.conv2d

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        padding: Any = self.padding
        if self.padding_mode != "zeros":  # pad by the mode first, then a 'valid' convolution
            pads = _conv_padding(padding, self.kernel_size, self.stride, self.dilation,
                                 self._nsp, repr(self))
            flat = [p for lo_hi in reversed(pads) for p in lo_hi]
            input, padding = F.pad(input, flat, mode=self.padding_mode), 0
        try:
            return type(self)._conv(input, self.weight, self.bias, self.stride, padding,
                                    self.dilation, self.groups)
        except ValueError as err:
            raise ValueError(f"{self!r}: {err}") from None


class Conv1d(_Conv):
    """A 1-D convolution layer on (N, C, L): F.conv1d with a learned weight and bias."""

    _nsp = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """A 2-D convolution layer on (N, C, H, W): out[n, o] = bias[o] + sum over input channels
    c of the cross-correlation of input[n, c] with weight[o, c]."""

    _nsp = 2
    _conv = staticmethod(F.conv2d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _conv: Any = None  # F.conv_transpose1d or F.conv_transpose2d

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported "
                             f"(as PyTorch), got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, dtype=dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        self._check(input)
        extra = self.output_padding
        if output_size is not None:  # the output_padding that gives this size, as PyTorch
            n = self._nsp
            want = tuple(output_size)[-n:]
            base = [(m - 1) * s - 2 * p + d * (k - 1) + 1 for m, k, s, p, d in zip(
                input.shape[-n:], self.kernel_size, self.stride, self.padding, self.dilation)]
            extra = tuple(w - b for w, b in zip(want, base))
        try:
            return type(self)._conv(input, self.weight, self.bias, self.stride, self.padding,
                                    extra, self.groups, self.dilation)
        except ValueError as err:
            raise ValueError(f"{self!r}: {err}") from None


class ConvTranspose1d(_ConvTranspose):
    """A 1-D transposed convolution layer (upsampling by `stride`), weight (C, O/groups, k)."""

    _nsp = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """A 2-D transposed convolution layer: each input pixel adds a weighted copy of the
    kernel to the output, `stride` apart (conv2d's input gradient, as a layer)."""

    _nsp = 2
    _conv = staticmethod(F.conv_transpose2d)

