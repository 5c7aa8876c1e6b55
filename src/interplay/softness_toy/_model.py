"""The SVM-softness toy model (papers/svm_softness_toy_model.txt, Secs. II-V).

Each "particle" has Gaussian structural features, a true energy barrier linear in the
relevant ones (eq. 3) and rearranges with a probability that is Arrhenius at low T and stays
below 1 at high T (eq. 4). A linear SVM trained on standardized features defines the softness
(signed distance to the hyperplane); P(R|S, T) is fitted by logistic regression at several
temperatures and the slope of log P vs 1/T at fixed S gives the inferred barrier (Fig. 1b,c),
which is finally regressed against the true barrier (Fig. 1d).

Numbers that the extracted paper text lost (eq. 4, the coefficients of eq. 3, the
temperatures, the redundant map of Sec. II) are chosen in ``conf/softness.yaml`` and listed in
``docs/softness_toy.md``. Pure numpy / scipy / scikit-learn.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from interplay.softness_toy._arrhenius import ArrheniusFit, linear_fit, softness_arrhenius

# -- the model: features, barrier, rearrangements (Sec. II) -------------------------------------


@dataclass(frozen=True)
class FeatureSpec:
    """Columns of the SVM input: relevant | pure noise | redundant (odd power of relevant).

    ``x_k ~ N(0, 1)`` for the first ``n_relevant + n_noise`` columns (eq. 2, sigma absorbed in
    the coupling as in the paper); the redundant column ``n_relevant + n_noise + j`` is
    ``x_j ** redundant_power`` (Sec. II: odd in x, nonlinearly correlated with x_j).
    """

    n_relevant: int = 10
    n_noise: int = 4
    n_redundant: int = 0
    coupling: float = 1.0  # a_k for k <= n_relevant (eq. 3); a_k = 0 for the others
    barrier_offset: float = 0.0  # E0: 0 centres the barriers (balanced data, Sec. II)
    redundant_power: int = 3

    @property
    def n_gaussian(self) -> int:
        return self.n_relevant + self.n_noise

    @property
    def n_features(self) -> int:
        return self.n_gaussian + self.n_redundant

    def names(self) -> list[str]:
        return (
            [f"rel{k}" for k in range(self.n_relevant)]
            + [f"noise{k}" for k in range(self.n_noise)]
            + [f"rel{k}^{self.redundant_power}" for k in range(self.n_redundant)]
        )


def sample_features(rng: np.random.Generator, n: int, spec: FeatureSpec) -> np.ndarray:
    """(n, n_features) inputs: Gaussian columns (eq. 2) then the redundant columns (Sec. II)."""
    gauss = rng.standard_normal((n, spec.n_gaussian))
    redundant = gauss[:, : spec.n_redundant] ** spec.redundant_power
    return np.concatenate([gauss, redundant], axis=1)


def true_barrier(x: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """E = E0 + sum_k a_k x_k with a_k = coupling on the relevant columns (eq. 3)."""
    return spec.barrier_offset + spec.coupling * x[:, : spec.n_relevant].sum(axis=1)


def rearrangement_probability(energy: np.ndarray, T: float) -> np.ndarray:
    """P(R=1 | E, T) = 1 / (1 + exp(E/T)) (our eq. 4).

    ~ exp(-E/T) (Arrhenius, eq. 1) when E >> T, and -> 1/2 < 1 when T -> infinity.
    """
    return expit(-np.asarray(energy, dtype=float) / T)


def bayes_prediction(energy: np.ndarray) -> np.ndarray:
    """The Bayes-optimal label of eq. 4: R = 1 iff P(R=1 | E, T) > 1/2, i.e. iff E < 0.

    The threshold is E = 0 at every T and for every offset E0: E0 shifts the barriers, not the
    rule (the rule "E < E0" used before is not Bayes-optimal once E0 != 0 and scored below the
    SVM).
    """
    return (np.asarray(energy, dtype=float) < 0.0).astype(np.int8)


def sample_rearrangements(rng: np.random.Generator, energy: np.ndarray, T: float) -> np.ndarray:
    """Binary R in {0, 1} drawn from eq. 4."""
    return (rng.random(energy.shape) < rearrangement_probability(energy, T)).astype(np.int8)


@dataclass
class Sample:
    x: np.ndarray  # (n, n_features)
    energy: np.ndarray  # (n,) true barrier
    y: np.ndarray  # (n,) rearranged at the temperature of the sample


def draw_sample(rng: np.random.Generator, n: int, spec: FeatureSpec, T: float) -> Sample:
    x = sample_features(rng, n, spec)
    energy = true_barrier(x, spec)
    return Sample(x, energy, sample_rearrangements(rng, energy, T))


def balanced_sample(
    rng: np.random.Generator, n: int, spec: FeatureSpec, T: float, chunk: int = 50_000
) -> Sample:
    """n // 2 rearranging and n // 2 non-rearranging particles drawn at T (Sec. III, ref. [8])."""
    half = n // 2
    pos: list[Sample] = []
    neg: list[Sample] = []
    n_pos = n_neg = 0
    while n_pos < half or n_neg < half:
        s = draw_sample(rng, max(chunk, n), spec, T)
        for keep, store, got in ((s.y == 1, pos, n_pos), (s.y == 0, neg, n_neg)):
            idx = np.flatnonzero(keep)[: max(half - got, 0)]
            store.append(Sample(s.x[idx], s.energy[idx], s.y[idx]))
        n_pos = sum(len(p.y) for p in pos)
        n_neg = sum(len(p.y) for p in neg)
    parts = pos + neg
    order = rng.permutation(2 * half)
    return Sample(
        np.concatenate([p.x for p in parts])[order],
        np.concatenate([p.energy for p in parts])[order],
        np.concatenate([p.y for p in parts])[order],
    )


# -- the classifier: linear SVM and softness ----------------------------------------------------


@dataclass
class SoftnessModel:
    """StandardScaler + LinearSVC; softness = signed distance to the hyperplane (ref. [8])."""

    scaler: StandardScaler
    svm: LinearSVC
    columns: np.ndarray  # indices of the input columns used (RFE drops some)

    @property
    def weights(self) -> np.ndarray:
        """Hyperplane normal in standardized feature space."""
        return self.svm.coef_[0]

    def decision(self, x: np.ndarray) -> np.ndarray:
        return self.svm.decision_function(self.scaler.transform(x[:, self.columns]))

    def softness(self, x: np.ndarray) -> np.ndarray:
        """S = (w . z + b) / |w| on standardized z: > 0 on the rearranging side."""
        return self.decision(x) / np.linalg.norm(self.weights)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.svm.predict(self.scaler.transform(x[:, self.columns]))


def fit_svm(
    x: np.ndarray,
    y: np.ndarray,
    C: float,
    columns: Sequence[int] | None = None,
    max_iter: int = 20_000,
    tol: float = 1e-4,
    intercept_scaling: float = 10.0,
) -> SoftnessModel:
    """Linear SVM (hinge loss, L2 penalty, parameter C) on standardized features (Sec. II).

    liblinear penalizes the intercept as an extra weight; ``intercept_scaling`` = 10 makes
    that penalty negligible for standardized inputs. Non-convergence warnings are silenced:
    with large C and non-separable data liblinear stops at ``max_iter`` close to the optimum.
    """
    cols = np.arange(x.shape[1]) if columns is None else np.asarray(columns, dtype=int)
    scaler = StandardScaler().fit(x[:, cols])
    svm = LinearSVC(
        C=C,
        loss="hinge",
        dual=True,
        max_iter=max_iter,
        tol=tol,
        intercept_scaling=intercept_scaling,
        random_state=0,  # liblinear's coordinate order: runs are reproducible
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(scaler.transform(x[:, cols]), y)
    return SoftnessModel(scaler, svm, cols)


# -- inference on the toy model: Figs. 1a-d ---------------------------------------------------


@dataclass
class Inference(ArrheniusFit):
    """Everything of Figs. 1/2/4 for one trained SVM: the Arrhenius inference (Figs. 1a-c)
    plus the toy model's ground truth on the test particles (Fig. 1d)."""

    test_softness: np.ndarray
    test_energy: np.ndarray  # true barrier of the test particles
    inferred_energy: np.ndarray  # e0 + e1 S of the test particles (Fig. 1d)
    energy_fit: dict[str, float]  # inferred vs true (Fig. 1d)
    test_accuracy: float
    bayes_accuracy: float  # accuracy of the Bayes rule "rearranges iff E < 0" (eq. 4)

    def summary(self) -> dict[str, float]:
        return {
            "inferred_energy_slope": self.energy_fit["slope"],
            "inferred_energy_intercept": self.energy_fit["intercept"],
            "inferred_energy_r2": self.energy_fit["r2"],
            "inferred_energy_variance": float(np.var(self.inferred_energy)),
            "true_energy_variance": float(np.var(self.test_energy)),
            "barrier_vs_softness_slope": self.barrier_vs_softness["slope"],
            "barrier_vs_softness_r2": self.barrier_vs_softness["r2"],
            "test_accuracy": self.test_accuracy,
            "bayes_accuracy": self.bayes_accuracy,
        }


def infer_energy(
    model: SoftnessModel,
    evals: Sequence[Sample],
    temperatures: Sequence[float],
    test: Sample,
    mode: str = "logit",
    n_grid: int = 9,
    quantiles: tuple[float, float] = (0.05, 0.95),
) -> Inference:
    """Fig. 1 pipeline: P(R|S,T) per T (1a), Arrhenius fit per S (1b), dE(S) (1c), vs E (1d).

    ``evals[i]`` is a sample drawn at ``temperatures[i]`` used only for the logistic fits;
    ``test`` (drawn at the training temperature) gives the accuracy and the Fig. 1d points.
    """
    s_test = model.softness(test.x)
    fit = softness_arrhenius([model.softness(s.x) for s in evals], [s.y for s in evals],
                             temperatures, s_test, mode, n_grid, quantiles)  # fmt: skip
    inferred = fit.inferred_barrier(s_test)
    return Inference(
        **vars(fit),
        test_softness=s_test,
        test_energy=test.energy,
        inferred_energy=inferred,
        energy_fit=linear_fit(test.energy, inferred),
        test_accuracy=float(np.mean(model.predict(test.x) == test.y)),
        bayes_accuracy=float(np.mean(bayes_prediction(test.energy) == test.y)),
    )


# -- recursive feature elimination (Sec. V, Fig. 6) ---------------------------------------------


def rfe_drop(model: SoftnessModel, n_drop: int = 1) -> np.ndarray:
    """Columns kept after removing the ``n_drop`` with the smallest |w_k| (ref. [37]; the
    paper drops one per refit, real data with hundreds of descriptors drop several)."""
    weakest = np.argsort(np.abs(model.weights), kind="stable")[:n_drop]
    return np.delete(model.columns, weakest)
