"""The softness diagnostics of papers/svm_softness_toy_model.txt on real glass data
(docs/softness_toy.md, "Real data"): Boattini descriptors of the ka3d configurations,
R = iso-configurational mean |dr| at t_rearrange above a threshold, then P(R|S,T), Arrhenius
fits, variance of the inferred barrier and RFE (paper Figs. 1 and 6).

python softness_glass.py
python softness_glass.py softness_glass.threshold=0.3 softness_glass.max_configs=5

The two families stay independent (pyproject import contracts): the glass side gives arrays
(interplay.glass.analysis.rearrangement_set), the softness side analyses them
(interplay.softness_toy.run_real_data); this script only connects them.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from interplay.core import ConfigError, check_int_at_least, check_positive
from interplay.core.config import plain_value, resolve_output_dir
from interplay.glass.analysis import rearrangement_set
from interplay.glass.nn import spec_from_config
from interplay.softness_toy import LabelledSet, diagnostic_settings_from_cfg, run_real_data


def labelled_sets(g: DictConfig) -> tuple[list[LabelledSet], list[str]]:
    """One LabelledSet per temperature (train/ and test/ splits of ``g.root``)."""
    temps = [check_positive(f"softness_glass.temperatures[{i}]", t)
             for i, t in enumerate(plain_value(g.temperatures))]  # fmt: skip
    if len(set(temps)) < 2:
        raise ConfigError(f"softness_glass.temperatures={temps}: need >= 2 distinct (Fig. 1b)")
    spec = spec_from_config(**plain_value(g.descriptors))
    kw = {
        "t_rearrange": check_positive("softness_glass.t_rearrange", g.t_rearrange),
        "threshold": check_positive("softness_glass.threshold", g.threshold),
        "spec": spec,
        "particle_type": check_int_at_least("softness_glass.particle_type", g.particle_type, 0),
        "cutoff": check_positive("softness_glass.cutoff", g.cutoff),
        "max_configs": None if g.max_configs is None
        else check_int_at_least("softness_glass.max_configs", g.max_configs, 1),
    }  # fmt: skip
    data = []
    for T in temps:
        train = rearrangement_set(Path(g.root) / f"T{float(T)}" / "train", **kw)
        test = rearrangement_set(Path(g.root) / f"T{float(T)}" / "test", **kw)
        data.append(LabelledSet(T, train.x, train.y, test.x, test.y, test.group))
    return data, list(spec.names)


@hydra.main(config_path="conf", config_name="softness_glass", version_base="1.3")
def main(cfg: DictConfig) -> None:
    g = cfg.softness_glass
    st = diagnostic_settings_from_cfg(g)
    data, names = labelled_sets(g)
    out = resolve_output_dir(None)
    res = run_real_data(data, st, names, out, int(g.figure.dpi), label=f"{g.root}")
    keys = ("inferred_barrier_variance", "barrier_vs_softness_slope", "balanced_accuracy",
            "rfe_best_n_features")  # fmt: skip
    print(f"softness_glass { ({k: res[k] for k in keys}) } -> {out / 'results.json'}")


if __name__ == "__main__":
    main()
