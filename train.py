"""Train and test a model: ``python train.py [group=option ...] [key=value ...]``.

Examples::

    python train.py                                   # the embedded default
    python train.py experiment=fig1_9_perceptron      # a named reproduction
    python train.py -m data.rho_train=0.1,0.3,0.5 hydra/launcher=joblib

Everything lives in ``conf/``; this file only hands the composed config to the package.
"""

import hydra
from omegaconf import DictConfig

from interplay.runs import train_and_test as run


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return run(cfg)


if __name__ == "__main__":
    main()
