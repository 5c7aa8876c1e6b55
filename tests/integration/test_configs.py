"""Every config composes; bad values are rejected with a message naming the key."""

from pathlib import Path

import pytest
from helpers import CONF, compose_config
from hydra.utils import instantiate

from interplay import ConfigError

# Experiments of solve.py (replica theory) and of softness.py (the SVM-softness toy model)
# compose with their own primary config; everything else belongs to train.py.
PRIMARY_BY_PREFIX = {
    "theory_": "solve",
    "replica_vs_montecarlo": "solve",
    "softness_toy_": "softness",
}
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def primary_config(experiment: str) -> str:
    for prefix, primary in PRIMARY_BY_PREFIX.items():
        if experiment.startswith(prefix):
            return primary
    return "train"


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes(experiment, tmp_path):
    cfg = compose_config([f"experiment={experiment}"], primary_config(experiment), tmp_path)
    assert cfg is not None


@pytest.mark.parametrize(
    "group",
    [
        "trainer",
        "logger",
        "callbacks",
        "imbalance",
        "model",
        "data",
        "temperature",
        "timescale",
        "hydra/launcher",
    ],
)
def test_every_option_of_every_group_composes(group, tmp_path):
    for option in sorted(p.stem for p in (CONF / group).glob("*.yaml")):
        cfg = compose_config([f"{group}={option}"], output_dir=tmp_path)
        assert cfg is not None, option


def test_imbalance_regimes_set_rho_train(tmp_path):
    expected = {"intrinsic": 0.27425, "balanced": 0.5, "oversampled": 0.75, "rare": 0.05}
    for regime, rho in expected.items():
        cfg = compose_config(
            [f"imbalance={regime}", "data=teacher_student", "data.N=10"], output_dir=tmp_path
        )
        dm = instantiate(cfg.data)
        assert dm.rho_train == pytest.approx(rho, abs=1e-5)


@pytest.mark.parametrize(
    "override, key",
    [
        ("data.rho_train=1.5", "data.rho_train"),
        ("data.rho_test=-0.1", "data.rho_test"),
        ("data.alpha=-1", "data.alpha"),
        ("data.N=0", "data.N"),
        ("model.lr=0", "model.lr"),
        ("data.batch_size=0", "data.batch_size"),
    ],
)
def test_out_of_range_values_are_rejected(override, key, tmp_path):
    perceptron = ["data=teacher_student", "model=perceptron"]
    extra = [] if "data.N" in override else ["data.N=10"]
    cfg = compose_config([*perceptron, override, *extra], output_dir=tmp_path)
    with pytest.raises(Exception, match=key) as info:
        dm = instantiate(cfg.data)
        instantiate(cfg.model, **dm.model_kwargs())
    # Hydra wraps constructor errors; the cause is our ConfigError with the clear message
    assert isinstance(info.value.__cause__ or info.value, ConfigError)


@pytest.mark.parametrize(
    "model, override, key",
    [
        ("se3gnn_small", "model.net.l_max=-1", "model.net.l_max"),
        ("se3gnn_small", "model.optimizer.lr=0", "model.optimizer.lr"),
        ("bapst_gnn", "model.net.edge_features=angle", "model.net.edge_features"),
        ("descriptor_ridge", "model.net.cg_levels=-1", r"model\.(net\.)?cg_levels"),
    ],
)
def test_glass_model_keys_are_checked(model, override, key, tmp_path):
    """The glass models take net / optimizer / scheduler from the config (README table)."""
    cfg = compose_config([f"model={model}", override], output_dir=tmp_path)
    with pytest.raises(Exception, match=key) as info:
        instantiate(cfg.model, n_node_scalars=2, n_timescales=1)
    assert isinstance(info.value.__cause__ or info.value, ConfigError)


def test_default_job_is_the_reduced_se3gnn_on_embedded_data(tmp_path):
    cfg = compose_config([], output_dir=tmp_path)
    assert cfg.data._target_.endswith("KA3DDataModule")
    assert cfg.model.net.l_max == 1 and cfg.trainer.max_epochs == 12


def test_all_yaml_files_are_reachable():
    """No orphan config files: every yaml sits in a known group or is a primary config."""
    groups = {p.parent.relative_to(CONF).as_posix() for p in CONF.rglob("*.yaml")}
    assert "." in groups and "experiment" in groups
    assert Path(CONF / "train.yaml").exists()
