"""Replica-theory saddle points over a grid of control parameters (thesis §1.3.2).

python solve.py alpha=[1,2,5] T=0.5 b0=-0.6 rho_train=0.5
python solve.py experiment=theory_fig1_5
python solve.py experiment=replica_vs_montecarlo
"""

import hydra
from omegaconf import DictConfig

from interplay.imbalance.solve import run


@hydra.main(config_path="conf", config_name="solve", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
