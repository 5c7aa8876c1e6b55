"""Every propensity model of conf/model/ satisfies the contract of :mod:`model_contract`
(shapes, rotation / translation / permutation behaviour, training lowers the loss, checkpoint
round trip, parameter count), built from its Hydra-composed config as train.py builds it."""

from __future__ import annotations

import pytest
import torch
from model_contract import PropensityModelContract

# the contract calls training_step without a Trainer: Lightning's self.log only warns
pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small graphs: one thread is as fast and robust to a loaded machine (restored after)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class TestSE3GNNSmall(PropensityModelContract):
    model_name = "se3gnn_small"


class TestSE3GNNInvariant(PropensityModelContract):
    model_name = "se3gnn_invariant"


class TestBapstGNN(PropensityModelContract):
    """Faithful to Bapst et al.: raw edge vectors, so not rotation-invariant."""

    model_name = "bapst_gnn"
    overrides = ["model.net.n_recurrences=3"]
    rotation_invariant = False


class TestBapstGNNBessel(PropensityModelContract):
    model_name = "bapst_gnn_bessel"
    # RunLengthLR needs a Trainer's run length (tested in test_recipes.py)
    overrides = ["model.net.n_recurrences=2", "model.scheduler=null"]


class TestDescriptorRidge(PropensityModelContract):
    model_name = "descriptor_ridge"
    closed_form = True


class TestSoftnessSVM(PropensityModelContract):
    model_name = "softness_svm"
    closed_form = True

    def assert_fit_beats_the_mean(self, pred, y):
        """Softness is a signed distance, not in propensity units: it must instead correlate
        with the propensity it was trained to separate (Pearson is scale-invariant)."""
        for k in range(y.shape[1]):
            rho = torch.corrcoef(torch.stack([pred[:, k], y[:, k]]))[0, 1]
            assert rho > 0.3, (k, float(rho))
