#!/usr/bin/env bash
# Builds .venv-hf/: Hugging Face transformers, PEFT, safetensors and a CPU torch, from the machine's local wheel index
# (pip config list: extra-index-url and find-links); nothing is downloaded from PyPI. The reference tests
# (HfReferenceTest) and the export round trip use it when it exists and skip otherwise.
# Usage: scripts/hf-setup.sh            (idempotent: exits at once when the environment already imports)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-hf"
PY="$VENV/bin/python"
check='import torch, transformers, peft, safetensors; print(torch.__version__, transformers.__version__, peft.__version__)'
if [[ -x "$PY" ]] && "$PY" -c "$check" >/dev/null 2>&1; then
  echo "hf-setup: ready: $("$PY" -c "$check")"
  exit 0
fi
# the local indexes pip is configured with; PyPI itself is not reachable
indexes="$(pip config get global.extra-index-url 2>/dev/null || true)"
first="${indexes%% *}"
rest="${indexes#"$first"}"
if [[ -z "$first" ]]; then
  echo "hf-setup: no local wheel index configured (pip config get global.extra-index-url); skipping" >&2
  exit 1
fi
PYTHON="${HF_PYTHON:-python3}"
rm -rf -- "$VENV"
"$PYTHON" -m venv "$VENV"
extra=()
for i in $rest; do extra+=(--extra-index-url "$i"); done
"$PY" -m pip install -q --index-url "$first" "${extra[@]}" torch transformers peft safetensors numpy
echo "hf-setup: ready: $("$PY" -c "$check")"
