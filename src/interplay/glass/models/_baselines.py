"""Closed-form baselines on the Boattini-Smallenburg-Filion descriptors (docs/baselines.md).

* ``model=descriptor_ridge`` -- :class:`DescriptorRidgeModule`: ridge regression of the
  propensity on the standardised descriptors, one closed-form solve per particle type for all
  timescales at once (Boattini, Smallenburg & Filion, PRL 127, 088007 (2021) use linear
  regression on the same kind of descriptors).
* ``model=softness_svm`` -- :class:`SoftnessSVMModule`: a linear SVM (scikit-learn
  ``LinearSVC``) per particle type and timescale separating the most mobile particles (top
  ``mobile_fraction`` of the training propensities) from the least mobile ones (bottom
  ``immobile_fraction``); the prediction is the signed distance to the hyperplane, the
  "softness" (Schoenholz et al., Nat. Phys. 12, 469 (2016)). It is not in propensity units, so
  its ``test/loss`` is meaningless; the Pearson correlations are scale-invariant.

Both run through ``python train.py`` (docs/CONVENTIONS.md): during the first training epoch
``training_step`` collects the descriptors and labels of every training graph, the last
training batch solves the model in closed form (so the validation of that epoch sees the
fitted model), and the Trainer is asked to stop. ``configure_optimizers`` returns None
(manual optimisation, nothing to step). The fitted coefficients are buffers, so they are in
the Lightning checkpoint. Evaluation (Pearson per timescale, chi4, G4, results keys) is the
shared :class:`~interplay.glass.models._base.PropensityBase`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import torch

from interplay.core import ConfigError, DataError, check_positive
from interplay.glass.models._base import HPARAMS_IGNORE, PropensityBase
from interplay.glass.nn import DESCRIPTOR_CACHE, DescriptorSpec, compute_descriptors

log = logging.getLogger(__name__)


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression with an unpenalised intercept (the objective of sklearn's ``Ridge``):
    ``min_w,b ||y - X w - b||^2 + alpha ||w||^2``. ``x`` (n, d), ``y`` (n, T) ->
    ``coef`` (T, d), ``intercept`` (T,). Closed form on centred data, float64."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    y2 = y[:, None] if y.ndim == 1 else y
    x_mean, y_mean = x.mean(axis=0), y2.mean(axis=0)
    xc, yc = x - x_mean, y2 - y_mean
    gram = xc.T @ xc + alpha * np.eye(x.shape[1])
    coef = np.linalg.solve(gram, xc.T @ yc).T  # (T, d)
    return coef, y_mean - coef @ x_mean


class DescriptorModel(PropensityBase):
    """Shared part of the closed-form descriptor models: descriptors, standardisation (per
    particle type, training-set statistics), collection of the training set, linear predictor
    ``pred = coef[type] . x_std + intercept[type]``. Subclasses implement :meth:`solve`.

    Args:
        net: the feature map, a :class:`~interplay.glass.nn.DescriptorSpec` (the config builds
            it with :func:`~interplay.glass.nn.spec_from_config`; ``conf/model/_descriptors.yaml``).
        n_node_scalars: columns of ``data.x`` (from the DataModule's ``model_kwargs()``): the
            one-hot type (``net.n_types`` columns) and the extra node inputs that follow it
            (E_pot when ``data.epot`` is set). Every extra column is appended to the
            descriptors as one more feature, so the baselines see the same node inputs as the
            GNNs (Table 2.1 compares like for like).
        n_timescales, time_indices: from the DataModule's ``model_kwargs()``.
        cache: reuse descriptors of identical graphs within the process (``DESCRIPTOR_CACHE``).
        figures, g4_r_max, g4_bins, output_dir, bootstrap: see
            :class:`~interplay.glass.models._base.PropensityBase`.
    """

    def __init__(
        self,
        net: DescriptorSpec,
        n_node_scalars: int = 2,
        n_timescales: int = 1,
        time_indices: Sequence[int] | None = None,
        cache: bool = True,
        figures: bool = True,
        g4_r_max: float = 6.0,
        g4_bins: int = 44,
        output_dir: str | None = None,
        bootstrap: dict | None = None,
    ):
        super().__init__(
            n_timescales=n_timescales,
            time_indices=time_indices,
            target_norm=False,
            figures=figures,
            g4_r_max=g4_r_max,
            g4_bins=g4_bins,
            output_dir=output_dir,
            bootstrap=bootstrap,
        )
        self.automatic_optimization = False
        self.spec = net
        n_types = self.n_types = net.n_types
        self.use_cache = bool(cache)
        self.n_node_scalars = int(n_node_scalars)
        if self.n_node_scalars < n_types:
            raise ConfigError(
                f"model.n_node_scalars={n_node_scalars} < net.n_types={n_types}: the node "
                "inputs start with the one-hot particle type; check the DataModule's model_kwargs"
            )
        self.n_extra = self.n_node_scalars - n_types  # E_pot (data.epot) and any other column
        d = self.n_features = self.spec.n_features + self.n_extra
        self.register_buffer("feat_mean", torch.zeros(n_types, d, dtype=torch.float64))
        self.register_buffer("feat_std", torch.ones(n_types, d, dtype=torch.float64))
        self.register_buffer("coef", torch.zeros(n_types, n_timescales, d, dtype=torch.float64))
        self.register_buffer("intercept", torch.zeros(n_types, n_timescales, dtype=torch.float64))
        self.register_buffer("fitted", torch.tensor(False))
        self._collected: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        log.info(
            "%s: %d descriptors per particle (%d structural + %d node inputs)",
            type(self).__name__, d, self.spec.n_features, self.n_extra,
        )  # fmt: skip

    # ------------------------------------------------------------------ features
    def descriptors(self, batch) -> torch.Tensor:
        """(N, n_features): the structural descriptors of ``net``, then the node inputs of
        ``data.x`` after the one-hot type (E_pot), one column each."""
        args = (batch.edge_index, batch.edge_vec, batch.node_type)
        if self.use_cache:
            x = DESCRIPTOR_CACHE(*args, self.spec)
        else:
            x = compute_descriptors(*args, self.spec)
        if not self.n_extra:
            return x
        node_x = getattr(batch, "x", None)
        if node_x is None or node_x.shape[-1] != self.n_node_scalars:
            got = "no data.x" if node_x is None else f"{node_x.shape[-1]} columns"
            raise DataError(
                f"{type(self).__name__} was built for {self.n_node_scalars} node inputs "
                f"(one-hot type + {self.n_extra} extra, e.g. data.epot) but the graph has "
                f"{got}: build the model from the same DataModule's model_kwargs()"
            )
        return torch.cat([x, node_x[:, self.n_types :].to(x.dtype)], dim=1)

    def predict_normalized(self, batch) -> torch.Tensor:
        x = self.descriptors(batch).to(self.coef.device)
        t = batch.node_type.long()
        xs = (x - self.feat_mean[t]) / self.feat_std[t]
        pred = torch.einsum("nkd,nd->nk", self.coef[t], xs) + self.intercept[t]
        return pred.to(batch.y.dtype if getattr(batch, "y", None) is not None else torch.float32)

    # ------------------------------------------------------------------ fit
    def configure_optimizers(self):
        return None

    def training_step(self, batch, batch_idx):
        if bool(self.fitted):
            return None
        self._collected.append(
            (self.descriptors(batch).cpu(), batch.y.detach().cpu(), batch.node_type.cpu())
        )
        n_batches = self._trainer.num_training_batches if self._trainer is not None else math.inf
        if batch_idx + 1 >= n_batches:
            self._fit_collected()
        return None

    def on_train_epoch_end(self) -> None:
        if not bool(self.fitted) and self._collected:  # e.g. an unsized loader
            self._fit_collected()
        if bool(self.fitted):
            self.trainer.should_stop = True  # closed form: one pass over the data is enough

    @torch.no_grad()
    def fit_closed_form(self, batches) -> DescriptorModel:
        """Fit without a Trainer on an iterable of graphs / batches (e.g. a DataLoader)."""
        self._collected = [
            (self.descriptors(b).cpu(), b.y.detach().cpu(), b.node_type.cpu()) for b in batches
        ]
        self._fit_collected()
        return self

    def _fit_collected(self) -> None:
        x = torch.cat([c[0] for c in self._collected]).double().numpy()
        y = torch.cat([c[1] for c in self._collected]).double().numpy()
        types = torch.cat([c[2] for c in self._collected]).numpy()
        self._collected = []
        for k in range(self.n_types):
            mask = types == k
            if mask.sum() < 2:
                log.warning("particle type %d: %d training particles, not fitted", k, mask.sum())
                continue
            mean = x[mask].mean(axis=0)
            std = x[mask].std(axis=0)
            std = np.where(std > 1e-12, std, 1.0)  # constant features -> 0 after centring
            xs = (x[mask] - mean) / std
            coef, intercept = self.solve(xs, y[mask], k)
            self.feat_mean[k] = torch.from_numpy(mean)
            self.feat_std[k] = torch.from_numpy(std)
            self.coef[k] = torch.from_numpy(np.asarray(coef, dtype=np.float64))
            self.intercept[k] = torch.from_numpy(np.asarray(intercept, dtype=np.float64))
        self.fitted.fill_(True)
        with torch.no_grad():
            t = torch.from_numpy(types).long()
            xs = (torch.from_numpy(x) - self.feat_mean[t]) / self.feat_std[t]
            pred = torch.einsum("nkd,nd->nk", self.coef[t], xs) + self.intercept[t]
            loss = self.loss_fn(pred.float(), torch.from_numpy(y).float())
        if self._trainer is not None:
            self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
        log.info("%s fitted on %d particles (%d features)", type(self).__name__, len(y), x.shape[1])

    def solve(self, x: np.ndarray, y: np.ndarray, particle_type: int):
        """Standardised descriptors (n, d), labels (n, T) -> coef (T, d), intercept (T,)."""
        raise NotImplementedError

    def n_parameters(self) -> int:
        """Fitted numbers: coefficients + intercepts (the standardisation is not counted)."""
        return int(self.coef.numel() + self.intercept.numel())

    def extra_results(self) -> dict[str, float | bool]:
        return super().extra_results() | {"n_descriptors": float(self.n_features)}


class DescriptorRidgeModule(DescriptorModel):
    """Ridge regression per particle type on the descriptors (all timescales in one solve).

    Args:
        alpha: ridge penalty on the standardised descriptors (sklearn ``Ridge`` convention:
            unscaled sum of squares, unpenalised intercept). ``net`` and the other arguments:
            see :class:`DescriptorModel`.
    """

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        if self.alpha < 0:
            raise ConfigError(f"model.alpha={alpha}: must be >= 0")
        self.save_hyperparameters(ignore=HPARAMS_IGNORE)

    def solve(self, x, y, particle_type):
        return ridge_fit(x, y, self.alpha)


class SoftnessSVMModule(DescriptorModel):
    """Linear SVM softness per particle type and timescale.

    Args:
        mobile_fraction: fraction of the training particles (per type) with the largest
            propensity labelled +1; a number or one per timescale.
        immobile_fraction: fraction with the smallest propensity labelled -1 (number or list).
        C: SVM regularisation (LinearSVC ``C``). max_iter: LinearSVC iterations.
        ``net`` and the other arguments: see :class:`DescriptorModel`.
    """

    def __init__(
        self,
        mobile_fraction: float | Sequence[float] = 0.1,
        immobile_fraction: float | Sequence[float] = 0.1,
        C: float = 0.1,  # the SVM's usual name
        max_iter: int = 5000,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.mobile = self._per_timescale("model.mobile_fraction", mobile_fraction)
        self.immobile = self._per_timescale("model.immobile_fraction", immobile_fraction)
        for hi, lo in zip(self.mobile, self.immobile, strict=True):
            if hi + lo > 1:
                raise ConfigError(
                    f"model.mobile_fraction + model.immobile_fraction = {hi + lo} > 1"
                )
        self.C = check_positive("model.C", C)
        self.max_iter = int(max_iter)
        self.save_hyperparameters(ignore=HPARAMS_IGNORE)

    def _per_timescale(self, key: str, value) -> list[float]:
        values = [float(value)] * self.n_timescales if np.isscalar(value) else list(value)
        if len(values) != self.n_timescales:
            raise ConfigError(
                f"{key}={value}: give one number or {self.n_timescales} (one per timescale)"
            )
        for v in values:
            if not 0 < v < 1:
                raise ConfigError(f"{key}={value}: fractions must lie in (0, 1)")
        return [float(v) for v in values]

    def solve(self, x, y, particle_type):
        from sklearn.svm import LinearSVC

        coef = np.zeros((y.shape[1], x.shape[1]))
        intercept = np.zeros(y.shape[1])
        for k in range(y.shape[1]):
            hi = np.quantile(y[:, k], 1.0 - self.mobile[k])
            lo = np.quantile(y[:, k], self.immobile[k])
            pos, neg = y[:, k] >= hi, y[:, k] <= lo
            if pos.sum() == 0 or neg.sum() == 0 or hi <= lo:
                log.warning("type %d timescale %d: degenerate labels, not fitted", particle_type, k)
                continue
            xs = np.concatenate([x[pos], x[neg]])
            labels = np.concatenate([np.ones(pos.sum()), -np.ones(neg.sum())])
            svm = LinearSVC(C=self.C, max_iter=self.max_iter, dual="auto")
            svm.fit(xs, labels)
            # signed distance to the hyperplane: (w . x + b) / |w|
            norm = float(np.linalg.norm(svm.coef_[0])) or 1.0
            coef[k] = svm.coef_[0] / norm
            intercept[k] = float(svm.intercept_[0]) / norm
        return coef, intercept
