"""The reference kernel of eq. 2.64 on ``e3nn.o3.TensorProduct`` (``conv_impl=e3nn``)."""

from __future__ import annotations

from e3nn import o3

from interplay.glass.nn.kernels._base import TensorProductKernel, register_conv_impl


@register_conv_impl("e3nn")
class E3nnKernel(TensorProductKernel):
    """Reference kernel: gather ``h[src]``, ``e3nn.o3.TensorProduct`` in ``uvu`` mode with
    per-edge weights (channel-wise, eq. 2.64), ``index_add`` onto the centres."""

    def __init__(self, irreps_in: o3.Irreps, l_max: int):
        super().__init__(irreps_in, l_max)
        instructions = []
        i_out = 0
        for i_in, (_, ir_in) in enumerate(self.irreps_in):
            for l_f in range(l_max + 1):
                for _l_o in range(abs(ir_in.l - l_f), min(ir_in.l + l_f, l_max) + 1):
                    instructions.append((i_in, l_f, i_out, "uvu", True))
                    i_out += 1
        self.tp = o3.TensorProduct(
            self.irreps_in,
            self.irreps_sh,
            self.irreps_mid,
            instructions,
            irrep_normalization="component",
            path_normalization="element",
            internal_weights=False,
            shared_weights=False,
        )
        assert self.tp.weight_numel == self.weight_numel
        self.path_weights = [ins.path_weight for ins in self.tp.instructions]

    def forward(self, h, sh, weight, edge_src, edge_dst, num_nodes):
        messages = self.tp(h[edge_src], sh, weight)  # eq. 2.64, one term per edge
        out = messages.new_zeros(num_nodes, messages.shape[-1])
        return out.index_add_(0, edge_dst, messages)  # sum over j in N(i)
