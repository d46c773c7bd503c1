#!/usr/bin/env bash
# Checks that the notebooks run in a PLAIN kernelspec of the Java kernel: no library on the classpath, none of the
# project's JVM flags or environment (argv is just `java -Xmx4g -jar <rapaio kernel jar> {connection_file}`, the way a
# user's own Java kernel is set up). The notebooks load the library themselves (first code cell:
# %jars ../lib/target/flame-notebook.jar) and the library finds the project's data/ from the kernel's working directory
# (the notebook's folder), so they must run there unchanged. CI runs this after the notebooks step (.ci/run).
#
#   scripts/notebook-plain-check.sh [--out DIR] [NOTEBOOK.ipynb...]
#
# Default: every notebooks/*.ipynb that does not load the Spark notebook jar (notebook 06 needs Spark's Java 17 flags
# in the kernel JVM, which a plain kernel does not have); DIR defaults to out/notebooks-plain. The kernelspec
# ("flame-plain-java", "Java (plain)") lives in a temporary Jupyter data dir, put on JUPYTER_PATH for this run only and
# removed afterwards. DJL_OFFLINE is removed from the environment the kernel inherits (a user's kernel does not have
# it either); notebook parameters such as FLAME_NB_ROUNDS pass through. Execution, retries of the kernel's start-up
# race, outputs and the exit status are those of scripts/notebook-run.sh.
set -euo pipefail

say() { printf 'notebook-plain-check: %s\n' "$*" >&2; }

src="${BASH_SOURCE[0]}"
if resolved="$(readlink -f -- "$src" 2>/dev/null)" && [[ -n "$resolved" ]]; then src="$resolved"; fi
ROOT="$(cd -- "$(dirname -- "$src")/.." && pwd -P)"

KERNEL_NAME="flame-plain-java"
KERNEL_JAR="$ROOT/.jupyter/kernel/rapaio-jupyter-kernel-3.0.1.jar"

out="out/notebooks-plain"
nbs=()
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { say "--out needs a directory"; exit 2; }; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    -h|--help) sed -n '2,16p' "$src" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) say "unknown option: $1"; exit 2 ;;
    *) nbs+=("$1"); shift ;;
  esac
done
if ((${#nbs[@]} == 0)); then
  shopt -s nullglob
  for nb in "$ROOT"/notebooks/*.ipynb; do
    grep -q 'flame-spark-notebook\.jar' -- "$nb" || nbs+=("$nb")
  done
  shopt -u nullglob
  ((${#nbs[@]})) || { say "no notebooks without Spark in $ROOT/notebooks"; exit 1; }
fi

# Jupyter, the kernel jar and lib/target/flame-notebook.jar (the project's own kernelspec is written too, unused here).
"$ROOT/scripts/notebook-setup.sh"
[[ -s "$KERNEL_JAR" ]] || { say "missing $KERNEL_JAR (scripts/notebook-setup.sh should have fetched it)"; exit 1; }
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA="$(command -v java)"; fi

data="$(mktemp -d "${TMPDIR:-/tmp}/flame-plain-kernel.XXXXXX")"
trap 'rm -rf -- "$data"' EXIT
mkdir -p -- "$data/kernels/$KERNEL_NAME"
# The kernelspec, written with the Python of the Jupyter in use (json escapes the paths).
# shellcheck source=jupyter-env.sh
source "$ROOT/scripts/jupyter-env.sh"
flame_jupyter_select || { say "no usable Jupyter: run scripts/notebook-setup.sh"; exit 1; }
"$JUPYTER_PY" - "$data/kernels/$KERNEL_NAME/kernel.json" "$JAVA" -Xmx4g -jar "$KERNEL_JAR" "{connection_file}" <<'PY'
import json, sys
spec = {"argv": sys.argv[2:], "display_name": "Java (plain)", "language": "java", "interrupt_mode": "message"}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(spec, f, indent=2)
PY
say "kernelspec $KERNEL_NAME: $(tr -d '\n' <"$data/kernels/$KERNEL_NAME/kernel.json" | tr -s ' ')"
say "running ${#nbs[@]} notebook(s) in it: ${nbs[*]##*/}"

rc=0
JUPYTER_PATH="$data${JUPYTER_PATH:+:$JUPYTER_PATH}" \
  env -u DJL_OFFLINE "$ROOT/scripts/notebook-run.sh" --kernel "$KERNEL_NAME" --out "$out" "${nbs[@]}" || rc=$?
exit "$rc"
