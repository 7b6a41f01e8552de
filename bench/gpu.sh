#!/usr/bin/env bash
# The whole GPU check of issue 13 in one go (under 8 minutes on one H100/H200): a fresh
# `uv sync` (CUDA torch from PyPI), then the end-to-end job benchmark (bench/pipeline.py) at
# 480p, 1080p and 4K with `best`, `fast` and `raw`, once with SAM2 tiny and once with small
# (random weights: the same compute as the checkpoints, and the benchmark swaps SAM2's masks for
# SAM2-like ones anyway). Prints the tables; with $OUT set, also writes them there.
#
#   bash bench/gpu.sh
#
# Goals it prints verdicts for: >= 30 job frames/s at 1080p with SAM2 tiny, the matting stage
# at most half of SAM2's time. Settings (environment):
#   BENCH_DEVICE       cuda (default); cpu runs the same path here, e.g. to check the script
#   BENCH_SAM2         SAM2 sizes, one benchmark each (default "tiny small")
#   BENCH_FRAMES       timed frames per job (default 40), after BENCH_WARMUP (default 5)
#   BENCH_RESOLUTIONS  frame heights (default 480,1080,2160)
#   BENCH_COMPILE      1 (default): last, SAM2 tiny at 1080p once more through torch.compile
#                      (`serve --compile`; 10 warm-up frames absorb the compilation)
#   BENCH_DATA         alphamatting folder with image/ and alpha/ (default ../shared/data/
#                      alphamatting); on a machine without it, copy image/GT04.png and
#                      alpha/GT04.png into a folder outside git and point this at it
#   PYTHON             an interpreter that already has the project's packages: skips uv sync
#   GPU_KIT            a folder from bench/gpu_kit.py, for a machine that reaches no package
#                      registry but has CUDA PyTorch (PYTHON, default python3): its wheels are
#                      installed beside that torch, and its GT04 is the default BENCH_DATA
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
device=${BENCH_DEVICE:-cuda}
sizes=${BENCH_SAM2:-tiny small}
frames=${BENCH_FRAMES:-40}
warmup=${BENCH_WARMUP:-5}
resolutions=${BENCH_RESOLUTIONS:-480,1080,2160}
data=${BENCH_DATA:-../shared/data/alphamatting}
out=${OUT:-}
if [[ -n $out ]]; then mkdir -p "$out" && exec > >(tee "$out/gpu.log") 2>&1; fi  # a call cut short keeps it
source bench/kit_env.sh
if [[ -n "${GPU_KIT:-}" ]]; then data=${BENCH_DATA:-$GPU_KIT/alphamatting}; fi
echo "environment ready after $((SECONDS - started)) s"
"$PYTHON" - "$device" <<'EOF'
import sys

import torch

device = sys.argv[1]
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.get_num_threads()} threads")
# Every package the benchmark imports, now rather than after the clips are encoded.
import vidmatte.jobs.pipeline, vidmatte.segment.models, vidmatte.train.masks  # noqa: E401, F401
if device.startswith("cuda"):
    if not torch.cuda.is_available():
        sys.exit("BENCH_DEVICE is cuda but torch sees no GPU (set BENCH_DEVICE=cpu to run anyway)")
    print("GPU:", torch.cuda.get_device_name(0))
EOF

for size in $sizes; do
  table=${out:+$out/pipeline_${size}_${device%%:*}.md}
  "$PYTHON" bench/pipeline.py --device "$device" --sam2 "$size" --frames "$frames" \
    --warmup "$warmup" --resolutions "$resolutions" --data "$data" | tee ${table:+"$table"}
  echo "SAM2 $size done after $((SECONDS - started)) s"
done
if [[ "${BENCH_COMPILE:-1}" == 1 ]]; then
  table=${out:+$out/pipeline_tiny_compiled_${device%%:*}.md}
  "$PYTHON" bench/pipeline.py --device "$device" --sam2 tiny --compile --frames "$frames" \
    --warmup 10 --resolutions 1080 --variants best,raw --data "$data" | tee ${table:+"$table"}
  echo "SAM2 tiny compiled done after $((SECONDS - started)) s"
fi
echo "gpu.sh finished in $((SECONDS - started)) s"
