"""Tensor-product kernels of the SE(3) convolution (``model.net.conv_impl``): the e3nn reference
and the fast channel-wise kernel (docs/fast_conv.md)."""

from interplay.glass.nn.kernels._fast import FastKernel

__all__ = ["FastKernel"]
