"""`torch.utils`'s place: `tinygrad_edu.utils.data` is `torch.utils.data`."""

from . import data

__all__ = ["data"]
