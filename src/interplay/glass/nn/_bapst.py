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

Options for the two labelled variants of docs/baselines.md (``conf/model/bapst_gnn.yaml``,
faithful to their code; ``conf/model/bapst_gnn_bessel.yaml``, a modification):

* ``edge_features="bessel"``: ``|r_j - r_i|`` expanded in the Bessel basis of the SE(3)-GNN
  (:class:`~interplay.glass.nn.BesselBasis`, eq. 2.66), which resolves neighbour shells that a
  raw distance through a ReLU MLP does not;
* ``self_edges``: an edge i -> i with zero vector per particle (their graph keeps every pair
  closer than the threshold, the particle itself included);
* ``augment``: during training, the edge vectors of each forward pass are transformed by a
  random element of the cube's symmetry group (axes permuted, each axis reflected with
  probability 1/2; their ``apply_random_rotation``), so a vector-edge model learns the
  symmetry from data;
* ``init="variance_scaling"``: weights from a truncated normal with std ``sqrt(1 / fan_in)``,
  biases ``sqrt(0.1 / fan_out)`` (TensorFlow's ``variance_scaling_initializer(1.0)`` /
  ``(0.1)`` that their MLPs use); ``"torch"`` keeps torch's default;
* ``message_norm``: per-feature normalisation (BatchNorm over the particles) of the summed
  messages ``sum_j e'_ij``: without it the sum over ~40 neighbours puts the structural signal
  on a large common offset (a modification, not in their model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from interplay.core import ConfigError, DataError, check_int_at_least, check_positive
from interplay.glass.nn._radial import BesselBasis

EDGE_FEATURES = ("distance", "vector", "bessel")
INITS = ("torch", "variance_scaling")
# TensorFlow's truncated normal (cut at 2 std) has std 0.8796 of its underlying normal's
TRUNCATED_NORMAL_STD = 0.87962566103423978


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


def variance_scaling_(module: nn.Module) -> None:
    """Bapst et al.'s initialisation of every ``nn.Linear`` in ``module`` (module doc)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            n_out, n_in = layer.weight.shape
            std = math.sqrt(1.0 / n_in) / TRUNCATED_NORMAL_STD
            nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
            if layer.bias is not None:
                std = math.sqrt(0.1 / n_out) / TRUNCATED_NORMAL_STD
                nn.init.trunc_normal_(layer.bias, std=std, a=-2 * std, b=2 * std)


def random_cube_symmetry(generator: torch.Generator | None = None) -> torch.Tensor:
    """(3, 3) random element of the cube's symmetry group (48 elements): a permutation of the
    axes times a reflection of each axis with probability 1/2 (Bapst et al.'s augmentation)."""
    perm = torch.randperm(3, generator=generator)
    signs = 1.0 - 2.0 * torch.randint(0, 2, (3,), generator=generator)
    return torch.eye(3)[perm] * signs[:, None]


class BapstGNN(nn.Module):
    """Encode-process-decode GNN (see module doc) -> (N, n_timescales).

    Args:
        n_node_scalars, n_timescales: columns of ``data.x`` and outputs per particle; from the
            data (the LightningModule completes the ``net`` partial of the config with them).
        hidden: width of every MLP layer (64). mlp_layers: hidden layers per MLP (2).
        n_recurrences: applications of the shared core block (7).
        edge_features: "distance" (rotation-invariant) | "vector" (Bapst et al.) | "bessel"
            (Bessel basis of the distance, ``n_basis`` functions up to ``r_cut``).
        self_edges, augment, init, message_norm: see the module doc.
    """

    def __init__(
        self,
        n_node_scalars: int = 2,
        n_timescales: int = 1,
        hidden: int = 64,
        mlp_layers: int = 2,
        n_recurrences: int = 7,
        edge_features: str = "distance",
        n_basis: int = 10,
        r_cut: float = 2.0,
        self_edges: bool = False,
        augment: bool = False,
        init: str = "torch",
        message_norm: bool = False,
    ):
        super().__init__()
        self.n_node_scalars = check_int_at_least("model.n_node_scalars", n_node_scalars, 1)
        check_int_at_least("model.n_timescales", n_timescales, 1)
        check_int_at_least("model.net.hidden", hidden, 1)
        check_int_at_least("model.net.mlp_layers", mlp_layers, 1)
        self.n_recurrences = check_int_at_least("model.net.n_recurrences", n_recurrences, 0)
        for key, value, choices in (
            ("edge_features", edge_features, EDGE_FEATURES),
            ("init", init, INITS),
        ):
            if value not in choices:
                raise ConfigError(f"model.net.{key}={value!r}: use one of {list(choices)}")
        if augment and edge_features != "vector":
            raise ConfigError(
                f"model.net.augment=true with edge_features={edge_features!r}: the augmentation "
                "rotates edge vectors, which only edge_features=vector sees (the others are "
                "invariant already); set model.net.augment=false"
            )
        self.edge_features = edge_features
        self.self_edges, self.augment = bool(self_edges), bool(augment)
        self.bessel = None
        n_edge_in = {"distance": 1, "vector": 3}.get(edge_features)
        if edge_features == "bessel":
            self.bessel = BesselBasis(n_basis, check_positive("model.net.r_cut", r_cut))
            n_edge_in = self.bessel.n_basis
        sizes = [hidden] * mlp_layers
        self.node_encoder = mlp(n_node_scalars, sizes)
        self.edge_encoder = mlp(n_edge_in, sizes)
        # core input = [encoded, latent] on nodes and edges (skip to the encoder output)
        self.edge_update = EdgeUpdate(2 * hidden, 2 * hidden, sizes)
        self.node_update = mlp(2 * hidden + hidden, sizes)
        self.message_norm = nn.BatchNorm1d(hidden) if message_norm else None
        self.decoder = mlp(hidden, [*sizes, n_timescales], activate_final=False)
        if init == "variance_scaling":
            variance_scaling_(self)

    def summary(self) -> str:
        """One line for the training log (the SE(3)-GNN gives its per-component table)."""
        return f"BapstGNN ({self.edge_features} edges): " + ", ".join(
            f"{k} {v}" for k, v in self.parameter_counts().items()
        )

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters per component (reported as ``n_parameters_<component>``)."""
        parts = {
            "encoders": (self.node_encoder, self.edge_encoder),
            "core": (self.edge_update, self.node_update, self.message_norm),
            "decoder": (self.decoder,),
        }
        return {
            name: sum(p.numel() for m in mods if m is not None for p in m.parameters())
            for name, mods in parts.items()
        }

    def edge_inputs(self, edge_vec: torch.Tensor) -> torch.Tensor:
        """Edge features of the encoder: the vector (augmented in training), its length, or
        the length's Bessel expansion (zero-length self-edges take the r -> 0 limit)."""
        if self.edge_features == "vector":
            if self.augment and self.training:
                edge_vec = edge_vec @ random_cube_symmetry().to(edge_vec).T
            return edge_vec
        r = edge_vec.norm(dim=-1)
        if self.bessel is None:
            return r.unsqueeze(-1)
        return self.bessel(r.clamp_min(1e-6))  # sin(k r) / r -> k at r = 0

    def forward(self, data) -> torch.Tensor:
        x, edge_index, edge_vec = data.x, data.edge_index, data.edge_vec.to(data.x.dtype)
        if x.shape[-1] != self.n_node_scalars:
            raise DataError(
                f"node features have {x.shape[-1]} columns but the model was built with "
                f"n_node_scalars={self.n_node_scalars} (check the DataModule's model_kwargs)."
            )
        if self.self_edges:
            loops = torch.arange(x.shape[0], device=x.device).expand(2, -1)
            edge_index = torch.cat([edge_index, loops], dim=1)
            edge_vec = torch.cat([edge_vec, edge_vec.new_zeros(x.shape[0], 3)])
        src, dst = edge_index[0], edge_index[1]
        v0 = self.node_encoder(x)
        e0 = self.edge_encoder(self.edge_inputs(edge_vec))
        v, e = v0, e0
        for _ in range(self.n_recurrences):  # one block, shared weights
            vin = torch.cat([v0, v], dim=-1)
            e = self.edge_update(torch.cat([e0, e], dim=-1), vin, src, dst)
            agg = torch.zeros(v.shape[0], e.shape[1], dtype=e.dtype, device=e.device)
            agg = agg.index_add(0, dst, e)  # sum over the incoming edges j -> i
            if self.message_norm is not None:
                agg = self.message_norm(agg)
            v = self.node_update(torch.cat([vin, agg], dim=-1))
        return self.decoder(v)
