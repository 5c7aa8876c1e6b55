"""The figure registry's contract: one registered function per thesis figure and config."""

from __future__ import annotations

import pytest
from helpers import CONF, compose_config

from interplay.core import ConfigError
from interplay.imbalance.figures import FIGURES, make_figure, register_figure
from interplay.imbalance.solve import TASKS, run

THESIS_FIGURES = ("fig1_3", "fig1_5", "fig1_6", "fig1_7", "fig1_8")


def test_every_thesis_figure_is_registered_and_has_its_config():
    assert set(THESIS_FIGURES) <= set(FIGURES)
    for name in FIGURES:
        assert (CONF / "experiment" / f"theory_{name}.yaml").is_file()
        cfg = compose_config([f"experiment=theory_{name}"], "solve")
        assert cfg.task == "figure"
        assert cfg.figure.name == name


def test_a_name_cannot_be_registered_twice():
    fig1_5 = FIGURES["fig1_5"]
    assert register_figure("fig1_5")(fig1_5) is fig1_5  # re-importing a module is harmless
    with pytest.raises(ValueError, match="fig1_5"):
        register_figure("fig1_5")(lambda fc, solver_kw, table, out: {})
    assert FIGURES["fig1_5"] is fig1_5


def test_the_registry_is_read_only():
    with pytest.raises(TypeError):
        FIGURES["fig9_9"] = FIGURES["fig1_5"]  # type: ignore[index]


def test_unknown_figure_names_the_registered_ones(tmp_path):
    cfg = compose_config(["experiment=theory_fig1_5", "figure.name=fig9_9"], "solve")
    with pytest.raises(ConfigError, match="fig1_3.*fig1_8"):
        make_figure(cfg, tmp_path)


def test_solve_dispatches_through_its_task_table(tmp_path):
    assert set(TASKS) == {"grid", "figure", "montecarlo"}
    cfg = compose_config(["task=sample"], "solve")
    with pytest.raises(ConfigError, match="grid, figure, montecarlo"):
        run(cfg, tmp_path)
