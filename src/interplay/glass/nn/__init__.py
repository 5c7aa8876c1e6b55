"""Torch modules of chapter 2 (no Lightning, no Hydra): the Bessel radial basis and radial
MLPs (eqs. 2.66-2.67), the channel mixing (eq. 2.65), the SE(3) convolution and its
tensor-product kernels (:mod:`.kernels`), the SE(3)-GNN (Fig. 2.8), the message-passing GNN
of Bapst et al. and the structural descriptors of the baselines. The networks are the ``net``
of ``conf/model/*.yaml`` (a partial completed with ``n_node_scalars`` / ``n_timescales`` by
:class:`interplay.glass.models.PropensityModule`)."""

from interplay.glass.nn._bapst import (
    EDGE_FEATURES,
    BapstGNN,
    EdgeUpdate,
    mlp,
    random_cube_symmetry,
    variance_scaling_,
)
from interplay.glass.nn._descriptors import (
    DESCRIPTOR_CACHE,
    DescriptorCache,
    DescriptorSpec,
    compute_descriptors,
    real_spherical_harmonics,
    real_spherical_harmonics_upto,
    spec_from_config,
)
from interplay.glass.nn._layers import (
    SE3Conv,
    conv_input_irreps,
    hidden_irreps,
    invariant_features,
)
from interplay.glass.nn._mixing import ChannelMixing
from interplay.glass.nn._radial import BesselBasis, RadialMLP
from interplay.glass.nn._se3gnn import SE3GNN, THESIS_COUNTS, format_breakdown, parameter_breakdown
from interplay.glass.nn.kernels import (
    CONV_IMPLS,
    E3nnKernel,
    FastKernel,
    TensorProductKernel,
    make_kernel,
    register_conv_impl,
    sh_irreps,
    triplets,
)

__all__ = [
    "EDGE_FEATURES",
    "BapstGNN",
    "EdgeUpdate",
    "FastKernel",
    "mlp",
    "random_cube_symmetry",
    "variance_scaling_",
    "real_spherical_harmonics_upto",
    "CONV_IMPLS",
    "E3nnKernel",
    "conv_input_irreps",
    "DESCRIPTOR_CACHE",
    "SE3GNN",
    "THESIS_COUNTS",
    "BesselBasis",
    "ChannelMixing",
    "DescriptorCache",
    "DescriptorSpec",
    "RadialMLP",
    "SE3Conv",
    "TensorProductKernel",
    "compute_descriptors",
    "format_breakdown",
    "hidden_irreps",
    "invariant_features",
    "make_kernel",
    "parameter_breakdown",
    "real_spherical_harmonics",
    "register_conv_impl",
    "sh_irreps",
    "spec_from_config",
    "triplets",
]
