#!/usr/bin/env bash
# The speed check on a machine with an NVIDIA GPU, in one go: writes a random checkpoint of OLMoE-1B-7B's layer size,
# times the library's training step at k = 8, 4, 2, 1 on the GPU, runs one FLAME round of the demo federation at that
# layer size on the GPU (a second checkpoint with the demo tasks' 64-token vocabulary), and times Hugging Face
# transformers + PEFT on the first checkpoint with the same batch on the same GPU.
#
# Usage: scripts/gpu-bench.sh [--layers L] [--batch B] [--seq-len T] [--steps S] [--out DIR] [--skip-round] [--cpu]
#   defaults: 2 layers, batch 4 x 128 tokens, 10 timed steps after 2, DIR = out/gpu-bench
#   --cpu runs the same steps on the CPU (to check the script itself on a machine without a GPU; use a small --out
#         model via FLAME_GPU_BENCH_MODEL=data/base to keep it short)
#
# What it needs, besides an NVIDIA driver:
#   - Java 17+ and the project built (`mvn -B -DskipTests package`, or any ./flame command where Maven Central is
#     reachable), as on any machine;
#   - the PyTorch engine's CUDA natives for DJL 0.35.1, i.e. libtorch 2.7.1 built for CUDA 12.x, named by
#     PYTORCH_LIBRARY_PATH (with PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=cu128): environment.md, "Using a GPU". Without
#     them the library's part stops with the engine's own message and the script goes on with the rest;
#   - for the Hugging Face part, a Python with a CUDA torch, transformers 5 and peft (FLAME_GPU_PYTHON, default
#     .venv-hf/bin/python, else python3).
# Every part writes its full output to DIR/*.txt; the summary at the end names what ran and what did not.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
layers=2 batch=4 seqlen=128 steps=10 warmup=2 out="$ROOT/out/gpu-bench" round=yes dev=gpu hfdev=cuda
while [[ $# -gt 0 ]]; do
  case "$1" in
    --layers) layers="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --seq-len) seqlen="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --skip-round) round=""; shift ;;
    --cpu) dev=cpu hfdev=cpu; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "gpu-bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
status=()

if [[ "$dev" == gpu ]]; then
  if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >"$out/gpu.txt" 2>&1; then
    echo "gpu-bench: no NVIDIA GPU visible (nvidia-smi -L failed); run with --cpu to check the script" >&2
    exit 1
  fi
  cat "$out/gpu.txt"
  # the GPU's memory in use, sampled every 0.5 s while the parts run (its peak goes into the summary)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 >"$out/gpu-memory.txt" 2>/dev/null &
  sampler=$!
  trap 'kill "$sampler" 2>/dev/null || true' EXIT
fi

# 1. the checkpoint (CPU work; about 40 s and 2 GB for 2 layers)
model="${FLAME_GPU_BENCH_MODEL:-$out/olmoe-${layers}l}"
if [[ ! -f "$model/config.json" ]]; then
  echo "== writing $model"
  FLAME_JAVA_OPTS="${FLAME_JAVA_OPTS:--Xmx12g}" "$ROOT/flame" init-model --like olmoe-1b-7b --layers "$layers" \
    --out "$model" | tee "$out/init-model.txt"
fi

# 2. the library's training step per tier on the device
echo "== library: ./flame bench --model $model --device $dev"
if FLAME_JAVA_OPTS="${FLAME_JAVA_OPTS:--Xmx12g}" "$ROOT/flame" bench --model "$model" --device "$dev" --batch "$batch" \
     --seq-len "$seqlen" --steps "$steps" --warmup "$warmup" >"$out/library-bench.txt" 2>&1; then
  status+=("library bench: ran ($out/library-bench.txt)")
else
  status+=("library bench: FAILED, see $out/library-bench.txt: $(grep -m1 -i 'error\|flame:' "$out/library-bench.txt" || tail -n1 "$out/library-bench.txt")")
fi
cat "$out/library-bench.txt"

# 3. one FLAME round of the demo federation on the device, on a checkpoint of the same widths with the synthetic tasks'
#    vocabulary of 64 tokens (the demo's tasks need it; only the embedding and output layer are smaller)
if [[ -n "$round" ]]; then
  rmodel="${FLAME_GPU_BENCH_MODEL:-$out/olmoe-${layers}l-vocab64}"
  if [[ ! -f "$rmodel/config.json" ]]; then
    FLAME_JAVA_OPTS="${FLAME_JAVA_OPTS:--Xmx12g}" "$ROOT/flame" init-model --like olmoe-1b-7b --layers "$layers" \
      --vocab 64 --out "$rmodel" >>"$out/init-model.txt"
  fi
  echo "== library: one FLAME round of the demo federation on $rmodel"
  rm -rf -- "$out/round"
  if FLAME_JAVA_OPTS="${FLAME_JAVA_OPTS:--Xmx12g}" "$ROOT/flame" demo --device "$dev" --set model="$rmodel" \
       --set rounds=1 --out "$out/round" >"$out/library-round.txt" 2>&1; then
    status+=("library round: ran ($out/round/results.json)")
  else
    status+=("library round: FAILED, see $out/library-round.txt")
  fi
  tail -n 15 "$out/library-round.txt"
fi

# 4. Hugging Face transformers + PEFT on the same checkpoint, batch and device
py="${FLAME_GPU_PYTHON:-}"
if [[ -z "$py" ]]; then
  if [[ -x "$ROOT/.venv-hf/bin/python" ]]; then py="$ROOT/.venv-hf/bin/python"; else py=python3; fi
fi
echo "== Hugging Face transformers + PEFT ($py) on $hfdev"
if "$py" "$ROOT/benchmarks/hf_peft_bench.py" --model "$model" --device "$hfdev" --threads "$(nproc)" --batch "$batch" \
     --seq-len "$seqlen" --steps "$steps" --warmup "$warmup" >"$out/hf-bench.txt" 2>&1; then
  status+=("HF + PEFT bench: ran ($out/hf-bench.txt)")
else
  status+=("HF + PEFT bench: FAILED, see $out/hf-bench.txt: $(tail -n1 "$out/hf-bench.txt")")
fi
grep -v "Loading weights" "$out/hf-bench.txt" || true

echo "== summary"
printf '  %s\n' "${status[@]}"
if [[ "$dev" == gpu && -s "$out/gpu-memory.txt" ]]; then
  echo "  peak GPU memory in use (nvidia-smi, all processes): $(sort -n "$out/gpu-memory.txt" | tail -n1) MiB"
fi
