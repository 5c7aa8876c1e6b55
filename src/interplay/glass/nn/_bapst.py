"""Message-passing GNN of Bapst et al., Nat. Phys. 16, 448 (2020): the ``net`` of
``model=bapst_gnn`` (trained by :class:`interplay.glass.models.PropensityModule`).

Encode-process-decode graph network (their Fig. 1 / Methods), in plain torch (scatter by
``index_add_``), on the periodic glass graph (docs/CONVENTIONS.md; edges j -> i, row 1 of
``edge_index`` = the receiver i where messages are summed):

* encoders: node MLP on ``data.x`` (one-hot type [+ E_pot]) and edge MLP on the edge features,
  both ``(64, 64)`` with ReLU;
* core: ONE graph-network block (shared weights) applied ``n_recurrences = 7`` times; its input
  is the concatenation of the encoded graph and the current latent graph (skip connection to the
  encoder output, as in their model):
  edge update ``e'_ij = MLP_e([e_ij, v_j, v_i])``, node update ``v'_i = MLP_v([v_i, sum_j e'_ij])``,
  both ``(64, 64)`` with ReLU;
* decoder: node MLP ``(64, 64, n_timescales)`` (one MLP, one output per timescale; Bapst et al.
  train one network per timescale with a ``(64, 64, 1)`` decoder -- one shared trunk is the
  multi-variate version used by every model here).

Edge features: ``edge_features="distance"`` (default) feeds ``|r_j - r_i|``, the rotation-
invariant content of the edge vector, so predictions are invariant under rotations; Bapst et
al. fed the 3D relative position ``r_j - r_i`` itself (``edge_features="vector"``, not
rotation-invariant). The first layer of the edge MLP is evaluated as
``W_e e_ij + (W_s v)_j + (W_r v)_i`` (node projections computed once per node and gathered):
the same function and parameters as one linear map on the concatenation, at a fraction of the
cost on ~40 edges per node.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from interplay.core import ConfigError, DataError, check_int_at_least

EDGE_FEATURES = {"distance": 1, "vector": 3}


def mlp(n_in: int, sizes: Sequence[int], activate_final: bool = True) -> nn.Sequential:
    """Linear-ReLU stack with the given layer sizes (ReLU after the last one if requested)."""
    layers: list[nn.Module] = []
    for k, n_out in enumerate(sizes):
        layers.append(nn.Linear(n_in, n_out))
        if k < len(sizes) - 1 or activate_final:
            layers.append(nn.ReLU())
        n_in = n_out
    return nn.Sequential(*layers)


class EdgeUpdate(nn.Module):
    """``MLP([e_ij, v_j, v_i])`` with the first layer split per input block (see module doc)."""

    def __init__(self, n_edge: int, n_node: int, sizes: Sequence[int]):
        super().__init__()
        self.edge_in = nn.Linear(n_edge, sizes[0])
        self.sender_in = nn.Linear(n_node, sizes[0], bias=False)
        self.receiver_in = nn.Linear(n_node, sizes[0], bias=False)
        self.rest = mlp(sizes[0], sizes[1:]) if len(sizes) > 1 else nn.Identity()

    def forward(self, e: torch.Tensor, v: torch.Tensor, src: torch.Tensor, dst: torch.Tensor):
        h = self.edge_in(e) + self.sender_in(v)[src] + self.receiver_in(v)[dst]
        return self.rest(torch.relu(h))


class BapstGNN(nn.Module):
    """Encode-process-decode GNN (see module doc) -> (N, n_timescales).

    Args:
        n_node_scalars, n_timescales: columns of ``data.x`` and outputs per particle; from the
            data (the LightningModule completes the ``net`` partial of the config with them).
        hidden: width of every MLP layer (64). mlp_layers: hidden layers per MLP (2).
        n_recurrences: applications of the shared core block (7).
        edge_features: "distance" (rotation-invariant) | "vector" (Bapst et al.).
    """

    def __init__(
        self,
        n_node_scalars: int = 2,
        n_timescales: int = 1,
        hidden: int = 64,
        mlp_layers: int = 2,
        n_recurrences: int = 7,
        edge_features: str = "distance",
    ):
        super().__init__()
        self.n_node_scalars = check_int_at_least("model.n_node_scalars", n_node_scalars, 1)
        check_int_at_least("model.n_timescales", n_timescales, 1)
        check_int_at_least("model.net.hidden", hidden, 1)
        check_int_at_least("model.net.mlp_layers", mlp_layers, 1)
        self.n_recurrences = check_int_at_least("model.net.n_recurrences", n_recurrences, 0)
        if edge_features not in EDGE_FEATURES:
            raise ConfigError(
                f"model.net.edge_features={edge_features!r}: use one of {sorted(EDGE_FEATURES)}"
            )
        self.edge_features = edge_features
        sizes = [hidden] * mlp_layers
        self.node_encoder = mlp(n_node_scalars, sizes)
        self.edge_encoder = mlp(EDGE_FEATURES[edge_features], sizes)
        # core input = [encoded, latent] on nodes and edges (skip to the encoder output)
        self.edge_update = EdgeUpdate(2 * hidden, 2 * hidden, sizes)
        self.node_update = mlp(2 * hidden + hidden, sizes)
        self.decoder = mlp(hidden, [*sizes, n_timescales], activate_final=False)

    def summary(self) -> str:
        """One line for the training log (the SE(3)-GNN gives its per-component table)."""
        n = sum(p.numel() for p in self.parameters() if p.requires_grad)
        return f"BapstGNN: {n} parameters"

    def edge_inputs(self, edge_vec: torch.Tensor) -> torch.Tensor:
        if self.edge_features == "distance":
            return edge_vec.norm(dim=-1, keepdim=True)
        return edge_vec

    def forward(self, data) -> torch.Tensor:
        x, edge_index = data.x, data.edge_index
        if x.shape[-1] != self.n_node_scalars:
            raise DataError(
                f"node features have {x.shape[-1]} columns but the model was built with "
                f"n_node_scalars={self.n_node_scalars} (check the DataModule's model_kwargs)."
            )
        src, dst = edge_index[0], edge_index[1]
        v0 = self.node_encoder(x)
        e0 = self.edge_encoder(self.edge_inputs(data.edge_vec.to(x.dtype)))
        v, e = v0, e0
        for _ in range(self.n_recurrences):  # one block, shared weights
            vin = torch.cat([v0, v], dim=-1)
            e = self.edge_update(torch.cat([e0, e], dim=-1), vin, src, dst)
            agg = torch.zeros(v.shape[0], e.shape[1], dtype=e.dtype, device=e.device)
            agg = agg.index_add(0, dst, e)  # sum over the incoming edges j -> i
            v = self.node_update(torch.cat([vin, agg], dim=-1))
        return self.decoder(v)
