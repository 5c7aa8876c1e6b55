"""SVM-softness toy model of papers/svm_softness_toy_model.txt (docs/softness_toy.md).

python softness.py                                   # Fig. 1 at a modest training-set size
python softness.py experiment=softness_toy_large_data
python softness.py experiment=softness_toy_data_size
python softness.py experiment=softness_toy_redundant
python softness.py experiment=softness_toy_rfe
"""

import hydra
from omegaconf import DictConfig

from interplay.softness_toy import run


@hydra.main(config_path="conf", config_name="softness", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
