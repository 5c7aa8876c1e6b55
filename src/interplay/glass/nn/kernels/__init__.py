"""Tensor-product kernels of the SE(3) convolution (``model.net.conv_impl``): the contract
(:class:`TensorProductKernel`), the registry, the e3nn reference and the fast channel-wise
kernel (docs/fast_conv.md). Importing this package registers every kernel."""

from interplay.glass.nn.kernels._base import (
    CONV_IMPLS,
    TensorProductKernel,
    Triplet,
    make_kernel,
    register_conv_impl,
    sh_irreps,
    triplets,
)
from interplay.glass.nn.kernels._e3nn import E3nnKernel
from interplay.glass.nn.kernels._fast import FastKernel

__all__ = [
    "CONV_IMPLS",
    "E3nnKernel",
    "FastKernel",
    "TensorProductKernel",
    "Triplet",
    "make_kernel",
    "register_conv_impl",
    "sh_irreps",
    "triplets",
]
