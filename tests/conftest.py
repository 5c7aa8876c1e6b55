"""Fixtures shared by every test (helpers that are not fixtures live in helpers.py)."""

from __future__ import annotations

import pytest


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
