"""Fixtures shared by every test (helpers that are not fixtures live in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """torch on one intra-op thread for a whole module (``pytestmark =
    pytest.mark.usefixtures("one_thread")``), restored afterwards: the test graphs are tiny,
    so one thread is as fast and does not fight the other processes of a loaded machine."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def tiny_perceptron_overrides() -> list[str]:
    """A perceptron run that trains in about a second."""
    return [
        "data=teacher_student",
        "model=perceptron",
        "data.N=50",
        "data.alpha=2",
        "data.n_resamplings=3",
        "data.n_test=400",
        "data.test_chunk=200",
        "trainer.max_epochs=3",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
        "callbacks=none",
    ]
