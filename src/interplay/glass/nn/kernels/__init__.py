"""Tensor-product kernels of the SE(3) convolution (``model.net.conv_impl``): the contract
(:class:`TensorProductKernel`), the registry, the e3nn reference, the fast channel-wise
kernel, its fused C++ version and the cuEquivariance one (docs/fast_conv.md). Importing this
package registers every kernel (cuEquivariance itself is imported when a ``cueq`` kernel is
built)."""

from interplay.glass.nn.kernels._base import (
    CONV_IMPLS,
    TensorProductKernel,
    Triplet,
    make_kernel,
    register_conv_impl,
    sh_irreps,
    triplets,
)
from interplay.glass.nn.kernels._cueq import CueqKernel
from interplay.glass.nn.kernels._e3nn import E3nnKernel
from interplay.glass.nn.kernels._fast import FastKernel
from interplay.glass.nn.kernels._fused import (
    FusedBuildError,
    FusedKernel,
    build_fused,
    reset_fused_extension,
)

__all__ = [
    "CONV_IMPLS",
    "CueqKernel",
    "E3nnKernel",
    "FastKernel",
    "FusedBuildError",
    "FusedKernel",
    "TensorProductKernel",
    "build_fused",
    "Triplet",
    "make_kernel",
    "register_conv_impl",
    "reset_fused_extension",
    "sh_irreps",
    "triplets",
]
