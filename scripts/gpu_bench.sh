#!/usr/bin/env bash
# One-step sampler throughput benchmark for a GPU box: no model download, no network.
#
#   scripts/gpu_bench.sh [OUT.json]        # default OUT: runs/BENCH_GPU.json (ignored by git)
#
# Needs only torch (CUDA build), transformers and this checkout. Uses the embedded model's exact architecture
# and tokenizer (shipped in alphagen/models/arch/) with random weights and a fixed generation length (EOS and
# stop strings ignored), since sampling throughput does not depend on weight values.
# Runs: generate baseline vs our sampler (default dtype: bf16 on GPU) at N samples, generate with a static cache
# (transformers compiles it with CUDA graphs on GPU), vLLM on the same random weights when vLLM is installed
# (pip install 'alphagen[vllm]': its own batching; engine start recorded apart), then a batch-size sweep of our
# sampler. Writes ONE JSON file.
# Sizes come from the environment so the same script runs tiny on a CPU in the test suite:
#   N (1024), MAX_NEW (256), SWEEP (64,256,1024), CHUNK (generate's sequences per call, = N), DEVICE (cuda when
#   available), PATHS (generate,default,static, plus vllm when importable), TIME_LIMIT (seconds, 480: the whole
#   run stays under 8 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/BENCH_GPU.json}
N=${N:-1024}
MAX_NEW=${MAX_NEW:-256}
SWEEP=${SWEEP:-64,256,1024}
CHUNK=${CHUNK:-$N}
TIME_LIMIT=${TIME_LIMIT:-480}
PYTHON=${PYTHON:-python}
# Nothing may reach for the network: the hub is never needed here.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
DEVICE_ARGS=()
if [ -n "${DEVICE:-}" ]; then DEVICE_ARGS=(--device "$DEVICE"); fi
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
  torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
# vLLM joins the default paths only where it is installed (checked without importing it: that takes seconds).
if [ -z "${PATHS:-}" ]; then
  PATHS=generate,default,static
  if "$PYTHON" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("vllm") is None)'; then
    PATHS=$PATHS,vllm
    echo "vllm installed: its path runs too"
  else
    echo "vllm not installed: its path is skipped (pip install 'alphagen[vllm]')"
  fi
fi
mkdir -p "$(dirname "$OUT")"
# The time limit is a backstop: a hung compile must not eat the box; the JSON is written only on success.
timeout --signal=INT "$TIME_LIMIT" "$PYTHON" -m alphagen.benchmarks.sampler \
  --random-weights --n "$N" --max-new-tokens "$MAX_NEW" --generate-chunk "$CHUNK" --batch-size "$N" \
  --paths "$PATHS" --batch-sweep "$SWEEP" --warmup --out "$OUT" --json "${DEVICE_ARGS[@]}"
echo "wrote $OUT"
