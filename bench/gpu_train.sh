#!/usr/bin/env bash
# Retrain the matting head on a GPU in one device call (issue 13) and judge it against the
# shipped head on training images it never saw, so a session lent a GPU spends its minutes
# training rather than preparing. Builds the clips from the kit's data (`ship build --holdout`,
# no validation clips: the kit carries none), trains from scratch on the GPU for what the budget
# leaves, then `ship judge`: both heads on the hold-out images, clean and through H.264, and on
# new glass objects. With $OUT set, the new weights, their card and the loss plot go there as
# soon as training ends, then judge.md, and the whole log as it runs (a call cut short keeps
# them).
#
#   uv run python bench/gpu_kit.py --train               # here: wheels + training split, 57 MiB
#   GPU_KIT=.devtrain OUT=$OUT bash bench/gpu_train.sh   # there, carrying .devtrain
#
# Then, here: `python -m vidmatte.train.ship eval --weights NEW --no-ship` for the validation
# rows (reported, never chosen on), and `ship eval --weights NEW` to ship a head that wins.
# Settings (environment):
#   TRAIN_BUDGET_S the whole script's wall clock (default 540, inside a device call's 600):
#                  training's clock gets what building left, less RESERVE_S (default 120) for
#                  loading the clips before that clock starts and for judging after it
#   TRAIN_MINUTES  a fixed training wall clock instead (the shipped head had 5.8 on an H100)
#   TRAIN_DEVICE   cuda (default); cpu runs the same path here, e.g. to check the script
#   TRAIN_BUILD    ship build's data options (default "--codec 0.5 --transparent 3
#                  --strands 3 --object-blur 0.3": footage through H.264, glass, fur, defocus
#                  and shake; with 8 glass objects a fine-tune learned glass and lost on the
#                  rest, and a CPU fine-tune learned fur from 3 furry objects nearly as well as
#                  from 6, losing less on the rest)
#   TRAIN_INIT     weights to fine-tune from (default: none, a head from scratch)
#   TRAIN_JUDGE    0 skips `ship judge` (to judge elsewhere: the clips are seeded, so `ship
#                  build` with the same options makes the same hold-out sets), leaving training
#                  the minutes judging would take
#   TRAIN_DATA     the shared-data folder (default $GPU_KIT/data, else ../shared/data)
#   PYTHON, GPU_KIT  as for bench/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
device=${TRAIN_DEVICE:-cuda}
options=${TRAIN_BUILD---codec 0.5 --transparent 3 --strands 3 --object-blur 0.3}
data=${TRAIN_DATA:-${GPU_KIT:+$GPU_KIT/data}}
data=${data:-../shared/data}
out=${OUT:-}
if [[ -n $out ]]; then mkdir -p "$out" && exec > >(tee "$out/gpu_train.log") 2>&1; fi
source bench/kit_env.sh
work=$(mktemp -d)
ship() { "$PYTHON" -m vidmatte.train.ship "$1" --work "$work" "${@:2}"; }
echo "environment ready after $((SECONDS - started)) s"
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"
if [[ $device == cuda* ]]; then
  "$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no GPU'; print(torch.cuda.get_device_name(0))"
fi
# shellcheck disable=SC2086  # the options are words
ship build --data "$data" --holdout --no-validation $options
echo "clips built after $((SECONDS - started)) s"
left=$((${TRAIN_BUDGET_S:-540} - (SECONDS - started) - ${RESERVE_S:-120}))
minutes=${TRAIN_MINUTES:-$(awk "BEGIN { print $left / 60 }")}
if awk "BEGIN { exit !($minutes < 1) }"; then
  echo "only $minutes minutes left to train: raise TRAIN_BUDGET_S or set TRAIN_MINUTES" >&2
  exit 1
fi
echo "training for $minutes minutes"
ship train --device "$device" --minutes "$minutes" ${TRAIN_INIT:+--init "$TRAIN_INIT"}
echo "trained after $((SECONDS - started)) s"
if [[ -n $out ]]; then cp "$work"/run/{matting_head.safetensors,matting_head.json,loss.png} "$out/"; fi
if [[ ${TRAIN_JUDGE:-1} == 1 ]]; then
  ship judge
  if [[ -n $out ]]; then cp "$work/judge.md" "$out/"; fi
else
  echo "not judged here (TRAIN_JUDGE=0): ship build with the same options, then ship judge"
fi
echo "gpu_train.sh finished in $((SECONDS - started)) s"
