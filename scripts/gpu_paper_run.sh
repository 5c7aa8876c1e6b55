#!/usr/bin/env bash
# Paper SE(3)-GNN (model=se3gnn: 8 channels, l_max 3, 8 layers, 52,304 parameters) trained at
# the thesis's step budget (~40,000 optimizer steps, §2.4.3) on the BOTAN sample (Shiba et al.,
# T = 0.44: 9 training + 1 validation configurations of train/, test 401-403) on one CUDA GPU;
# writes <OUT>/results.json (test/pearson_A at tau_alpha with its interval, optimizer_steps,
# train_seconds, ...) and the figures. docs/se3gnn.md, "GPU paper run".
#
#   bash scripts/gpu_paper_run.sh                         # the GPU run (40,000 steps)
#   STEPS=2 DEVICE=cpu OUT=/tmp/paper bash scripts/gpu_paper_run.sh   # CPU smoke run
#   DRY_RUN=1 bash scripts/gpu_paper_run.sh               # print the train.py command only
#
# Budget knobs (environment):
#   STEPS        optimizer steps (default 40000; batch = 1 configuration per step)
#   VAL_STEPS    validate (rho_A at tau_alpha on the validation configuration) every this many
#                steps; the best checkpoint by val/pearson_A is the one tested (default 450)
#   MAX_MINUTES  wall-clock cap of the fit, then test (default 8; 0 = none). A run stopped by
#                the cap reports fewer optimizer_steps than STEPS in results.json
#   DEVICE       gpu (default) | cpu      THREADS  torch threads (default: torch's)
#   DATA         BOTAN sample directory (default ../shared/data/botan_T0.44)
#   OUT          run directory (default outputs/gpu_paper_run/<date>_<time>); never reused
#   EPOT         null (default) | thermal | inherent: E_pot node input (Table 2.1)
# Extra arguments are passed to train.py as further overrides.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-40000}
VAL_STEPS=${VAL_STEPS:-450}
MAX_MINUTES=${MAX_MINUTES:-8}
DEVICE=${DEVICE:-gpu}
DATA=${DATA:-../shared/data/botan_T0.44}
OUT=${OUT:-outputs/gpu_paper_run/$(date -u +%Y%m%d_%H%M%S)}
EPOT=${EPOT:-null}

for name in STEPS VAL_STEPS MAX_MINUTES; do
  value=${!name}
  if ! [[ $value =~ ^[0-9]+$ ]]; then
    echo "gpu_paper_run.sh: $name=$value must be a whole number" >&2
    exit 2
  fi
done
if [ "$STEPS" -lt 1 ]; then
  echo "gpu_paper_run.sh: STEPS=$STEPS must be at least 1" >&2
  exit 2
fi
if [ "$DEVICE" != gpu ] && [ "$DEVICE" != cpu ]; then
  echo "gpu_paper_run.sh: DEVICE=$DEVICE: use gpu or cpu" >&2
  exit 2
fi
if [ -e "$OUT/results.json" ]; then
  echo "gpu_paper_run.sh: $OUT/results.json exists: choose another OUT (runs are never overwritten)" >&2
  exit 2
fi
# validate at least once (the tested checkpoint is the best validated one)
if [ "$VAL_STEPS" -gt "$STEPS" ] || [ "$VAL_STEPS" -lt 1 ]; then VAL_STEPS=$STEPS; fi
MAX_TIME=null
if [ "$MAX_MINUTES" -gt 0 ]; then
  MAX_TIME=$(printf '"00:%02d:%02d:00"' $((MAX_MINUTES / 60)) $((MAX_MINUTES % 60)))
fi

ARGS=(
  experiment=shiba_T044 model=se3gnn "data.root=$DATA" "data.epot=$EPOT"
  "trainer=$DEVICE" trainer.max_epochs=-1 "++trainer.max_steps=$STEPS"
  "trainer.max_time=$MAX_TIME" trainer.check_val_every_n_epoch=null
  "++trainer.val_check_interval=$VAL_STEPS" trainer.log_every_n_steps=50
  schedule=run_length callbacks=best test_ckpt_path=best
  "hydra.run.dir=$OUT" task_name=gpu_paper_run
)
if [ -n "${THREADS:-}" ]; then ARGS+=("num_threads=$THREADS"); fi
ARGS+=("$@")

if [ -n "${DRY_RUN:-}" ]; then
  printf '%s\n' "${ARGS[@]}"
  exit 0
fi
python train.py "${ARGS[@]}"
python - "$OUT/results.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
keys = ("test/pearson_A", "test/pearson_A_lo", "test/pearson_A_hi", "test/ceiling_A",
        "test/pearson_A_mean", "optimizer_steps", "train_seconds", "n_parameters")
print("\n".join(f"{k}: {r.get(k)}" for k in keys))
print("results:", sys.argv[1])
EOF
