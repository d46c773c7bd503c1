#!/usr/bin/env bash
# Executes notebooks headless in a Java kernel and writes executed copies (.ipynb and .html) and a log per notebook.
# The runner behind `./flame notebooks --execute`, scripts/notebook-plain-check.sh and scripts/notebook-soak.sh; run
# scripts/notebook-setup.sh first. `scripts/notebook-run.sh --help` shows the options and the retry policy (the number
# of kernel starts is defined once, in DEFAULT_ATTEMPTS below).
set -uo pipefail

DEFAULT_ATTEMPTS=6            # kernel starts per notebook (NOTEBOOK_ATTEMPTS overrides)
DEFAULT_STARTUP_TIMEOUT=20    # seconds for the kernel to answer its start-up handshake (NOTEBOOK_STARTUP_TIMEOUT)
DEFAULT_CELL_TIMEOUT=600      # seconds per cell (NOTEBOOK_CELL_TIMEOUT)

usage() {
  cat <<USAGE
Usage: scripts/notebook-run.sh [--out DIR] [--html-to DIR] [--kernel NAME] NOTEBOOK.ipynb...

Runs every notebook in a fresh kernel (jupyter nbconvert --execute, nbclient) and writes, per notebook NAME,
DIR/NAME.ipynb (executed), DIR/NAME.html (converted from it, no second run; cells tagged "remove-output" show no
output there) and DIR/NAME.log (Jupyter's and the kernel's output, every attempt). DIR defaults to out/notebooks.
  --out DIR       where the executed copies go
  --html-to DIR   also copy each NAME.html into DIR (e.g. docs/notebooks: results readable without running anything)
  --kernel NAME   the kernelspec to run them in (default: flame-java, "Java (FLAME)", from scripts/notebook-setup.sh)
Any cell error (a Java exception, a compile error), a cell over NOTEBOOK_CELL_TIMEOUT s (default $DEFAULT_CELL_TIMEOUT) or a
kernel that dies while running fails the notebook; the exit status is 1 if any notebook failed.
The rapaio kernel 3.0.1 started directly (java -jar) sometimes never answers Jupyter's start-up handshake ("Kernel
didn't respond in N seconds": a start-up race in the kernel leaves its shell channel without a reader, so waiting
longer does not help; the project's kernelspec avoids it with scripts/kernel/RapaioKernelLauncher.java). Such a
start-up failure, and only that (no cell was sent), is retried with a short start-up timeout (NOTEBOOK_STARTUP_TIMEOUT
s, default $DEFAULT_STARTUP_TIMEOUT): up to NOTEBOOK_ATTEMPTS kernel starts per notebook (default $DEFAULT_ATTEMPTS).
USAGE
}

say() { printf 'notebooks: %s\n' "$*" >&2; }

src="${BASH_SOURCE[0]}"
if resolved="$(readlink -f -- "$src" 2>/dev/null)" && [[ -n "$resolved" ]]; then src="$resolved"; fi
ROOT="$(cd -- "$(dirname -- "$src")/.." && pwd -P)"
# shellcheck source=jupyter-env.sh
source "$ROOT/scripts/jupyter-env.sh"

KERNEL_NAME="flame-java"
STARTUP_TIMEOUT="${NOTEBOOK_STARTUP_TIMEOUT:-$DEFAULT_STARTUP_TIMEOUT}"
CELL_TIMEOUT="${NOTEBOOK_CELL_TIMEOUT:-$DEFAULT_CELL_TIMEOUT}"
ATTEMPTS="${NOTEBOOK_ATTEMPTS:-$DEFAULT_ATTEMPTS}"

out="out/notebooks"
html_to=""
nbs=()
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { say "--out needs a directory"; exit 2; }; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --html-to) [[ $# -ge 2 ]] || { say "--html-to needs a directory"; exit 2; }; html_to="$2"; shift 2 ;;
    --html-to=*) html_to="${1#--html-to=}"; shift ;;
    --kernel) [[ $# -ge 2 ]] || { say "--kernel needs a kernelspec name"; exit 2; }; KERNEL_NAME="$2"; shift 2 ;;
    --kernel=*) KERNEL_NAME="${1#--kernel=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) say "unknown option: $1"; usage >&2; exit 2 ;;
    *) nbs+=("$1"); shift ;;
  esac
done
((${#nbs[@]})) || { say "no notebooks given"; usage >&2; exit 2; }
for v in ATTEMPTS STARTUP_TIMEOUT CELL_TIMEOUT; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { say "NOTEBOOK_$v must be a positive integer, got '${!v}'"; exit 2; }
done
flame_jupyter_select || { say "no usable Jupyter (.venv-jupyter or Debian's): run scripts/notebook-setup.sh"; exit 1; }
flame_jupyter_path
mkdir -p -- "$out" || exit 1
out="$(cd -- "$out" && pwd -P)"
if [[ -n "$html_to" ]]; then
  mkdir -p -- "$html_to" || exit 1
  html_to="$(cd -- "$html_to" && pwd -P)"
fi

specs="$("$JUPYTER_BIN/jupyter" kernelspec list 2>/dev/null || true)"
grep -q "^ *$KERNEL_NAME " <<<"$specs" \
  || { say "Jupyter has no kernelspec $KERNEL_NAME (JUPYTER_PATH=$JUPYTER_PATH): run scripts/notebook-setup.sh"; exit 1; }

# True when the attempt's log shows the kernel never got going: the start-up handshake timed out or the kernel died
# before answering it, and no cell was sent to it (the kernel logs every execute_request it handles).
startup_failure() {
  grep -Eq "Kernel didn't respond in [0-9]+ seconds|Kernel died before replying to kernel_info" <<<"$1" \
    && ! grep -q "Handling message: execute_request" <<<"$1"
}

# Counts of the executed notebook's outputs: "N images, M errors".
summarize() {
  "$JUPYTER_PY" - "$1" <<'PY' 2>/dev/null || echo "outputs unreadable"
import json, sys
nb = json.load(open(sys.argv[1], encoding="utf-8"))
outs = [o for c in nb.get("cells", []) for o in c.get("outputs", [])]
images = sum(1 for o in outs if any(k.startswith("image/") for k in o.get("data", {})))
errors = sum(1 for o in outs if o.get("output_type") == "error")
print(f"{images} image{'s' if images != 1 else ''}, {errors} error{'s' if errors != 1 else ''}")
PY
}

failed=0
for nb in "${nbs[@]}"; do
  if [[ ! -f "$nb" ]]; then say "$nb: no such notebook"; failed=$((failed + 1)); continue; fi
  name="$(basename -- "$nb" .ipynb)"
  log="$out/$name.log"
  # No stale copies from an earlier run: a failed run leaves no executed notebook behind.
  rm -f -- "$out/$name.ipynb" "$out/$name.html"
  : >"$log"
  ok=""
  for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    # This attempt's output goes straight into the log (tail -f it to follow a run); its start is remembered so that
    # the checks below look at this attempt only.
    printf '===== attempt %d\n' "$attempt" >>"$log"
    from=$(($(stat -c %s -- "$log") + 1))
    start=$SECONDS
    "$JUPYTER_BIN/jupyter" nbconvert --to notebook --execute \
      --ExecutePreprocessor.kernel_name="$KERNEL_NAME" \
      --ExecutePreprocessor.timeout="$CELL_TIMEOUT" \
      --ExecutePreprocessor.startup_timeout="$STARTUP_TIMEOUT" \
      --output-dir "$out" --output "$name" "$nb" >>"$log" 2>&1
    rc=$?
    secs=$((SECONDS - start))
    printf '===== attempt %d: exit status %d after %d s\n' "$attempt" "$rc" "$secs" >>"$log"
    alog="$(tail -c +"$from" -- "$log")"
    if ((rc == 0)); then
      say "$name: executed in ${secs} s (attempt $attempt): $(summarize "$out/$name.ipynb")"
      ok="yes"
      break
    fi
    if startup_failure "$alog"; then
      why="$(grep -Eo "Kernel didn't respond in [0-9]+ seconds|Kernel died before replying to kernel_info" <<<"$alog" | head -n 1)"
      if ((attempt < ATTEMPTS)); then
        say "$name: the kernel did not start (attempt $attempt, ${secs} s: $why); retrying"
        continue
      fi
      say "$name: FAILED: the kernel did not start in $attempt attempts ($why); see $log"
      break
    fi
    say "$name: FAILED after ${secs} s (attempt $attempt); the error (full output in $log):"
    # nbconvert reports a cell error as CellExecutionError followed by the cell and the Java error; the kernel
    # colours its errors with ANSI codes, stripped here (the log keeps them). Kernel INFO lines are left out.
    if grep -q "CellExecutionError" <<<"$alog"; then
      sed -n '/CellExecutionError/,$p' <<<"$alog" | grep -v '^\[20[0-9-]* [0-9:]*\] \[INFO' | head -n 40 \
        | sed 's/\x1b\[[0-9;]*m//g' >&2
    else
      grep -v '^\[20[0-9-]* [0-9:]*\] \[INFO' <<<"$alog" | tail -n 25 | sed 's/\x1b\[[0-9;]*m//g' >&2
    fi
    break
  done
  if [[ -z "$ok" ]]; then failed=$((failed + 1)); continue; fi
  # The HTML copy is converted from the executed notebook (no second run); a cell tagged "remove-output" shows its code
  # but not its output there (e.g. the %jars cell, whose output names this machine's paths).
  if ! "$JUPYTER_BIN/jupyter" nbconvert --to html --TagRemovePreprocessor.remove_all_outputs_tags=remove-output \
         --output-dir "$out" --output "$name" "$out/$name.ipynb" >>"$log" 2>&1; then
    say "$name: FAILED to convert to HTML; see $log"
    failed=$((failed + 1))
  elif [[ -n "$html_to" ]]; then
    cp -f -- "$out/$name.html" "$html_to/$name.html" || { say "$name: could not copy the HTML to $html_to"; failed=$((failed + 1)); }
  fi
done

if ((failed == 0)); then
  say "all ${#nbs[@]} notebook(s) ran in kernel $KERNEL_NAME; executed copies in $out${html_to:+, HTML also in $html_to}"
else
  say "$failed of ${#nbs[@]} notebook(s) FAILED; outputs and logs in $out"
  failed=1
fi
exit "$failed"
