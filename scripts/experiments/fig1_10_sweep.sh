#!/usr/bin/env bash
# Thesis Fig. 1.10 on a shared 2-core machine (issue 19, item 1): SGD perceptron vs batch size,
# T_eff = lr/BS, every batch size given the same budget of SGD *steps* (the dynamics needs
# ~N/lr steps whatever BS is; a fixed number of epochs would starve the large batches).
# BS = P is the full-batch path (data.steps_per_chunk GD steps per Lightning step).
#   scripts/experiments/fig1_10_sweep.sh OUT_DIR [N] [LR] [STEPS] [K]
#   interplay-collect OUT_DIR
#   python solve.py experiment=theory_fig1_10 overlay_csv=OUT_DIR/summary/summary.csv
# Every job writes OUT_DIR/lr<LR>_bs<BS>/ (an existing job directory is an error: no overwrite).
set -euo pipefail
OUT=${1:?usage: fig1_10_sweep.sh OUT_DIR [N] [LR] [STEPS] [K]}
N=${2:-100}; LR=${3:-0.5}; STEPS=${4:-30000}; K=${5:-16}
P=$((2 * N))                               # alpha = 2 (conf/experiment/fig1_10_perceptron_T)
for BS in ${BATCH_SIZES:-$P 100 50 20 10 5 2 1}; do
  if [ -e "$OUT/lr${LR}_bs$BS" ]; then echo "$OUT/lr${LR}_bs$BS exists: not overwritten" >&2; exit 1; fi
  if [ "$BS" -ge "$P" ]; then SPC=1000; EPOCHS=$(( (STEPS + SPC - 1) / SPC ));
  else SPC=1000; EPOCHS=$(( (STEPS * BS + P - 1) / P )); fi
  python train.py experiment=fig1_10_perceptron_T hydra.mode=RUN hydra.run.dir="$OUT/lr${LR}_bs$BS" \
    data.N="$N" model.lr="$LR" data.batch_size="$BS" data.n_resamplings="$K" \
    data.steps_per_chunk=$SPC trainer.max_epochs=$EPOCHS data.n_test=5000
done
