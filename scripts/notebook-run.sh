#!/usr/bin/env bash
# Executes notebooks headless with the project's Java kernel ("flame-java") and writes executed copies (.ipynb and .html).
# The runner behind `./flame notebooks --execute` and scripts/notebook-soak.sh; run scripts/notebook-setup.sh first.
#
#   scripts/notebook-run.sh [--out DIR] NOTEBOOK.ipynb...
#
# Every notebook runs in a fresh kernel through `jupyter nbconvert --execute`; any cell error (a Java exception, a
# compile error) or a kernel that dies while running fails it. The rapaio kernel 3.0.1 sometimes never answers the
# start-up handshake ("Kernel didn't respond in N seconds": its shell channel never receives a message, although the
# kernel is up, so waiting longer does not help); such a start-up failure -- and only that -- is retried, up to 5
# times (6 attempts in all; one session saw 4 of 5 notebooks need a second attempt and one need a third), with a short
# start-up timeout (a healthy start answers within a few seconds) so that a
# stuck start costs little.
#
# Writes, per notebook NAME: DIR/NAME.ipynb (executed), DIR/NAME.html, DIR/NAME.log (Jupyter's and the kernel's output,
# every attempt). Prints a line for each retry and the outcome. Exit status: 0 if every notebook ran without error,
# 1 otherwise.
#
# Environment: NOTEBOOK_STARTUP_TIMEOUT (seconds, default 20), NOTEBOOK_CELL_TIMEOUT (seconds per cell, default 600),
# NOTEBOOK_ATTEMPTS (kernel starts per notebook, default 4).
set -uo pipefail

say() { printf 'notebooks: %s\n' "$*" >&2; }

src="${BASH_SOURCE[0]}"
if resolved="$(readlink -f -- "$src" 2>/dev/null)" && [[ -n "$resolved" ]]; then src="$resolved"; fi
ROOT="$(cd -- "$(dirname -- "$src")/.." && pwd -P)"

JUPYTER="/usr/bin/jupyter"
KERNEL_NAME="flame-java"
STARTUP_TIMEOUT="${NOTEBOOK_STARTUP_TIMEOUT:-20}"
CELL_TIMEOUT="${NOTEBOOK_CELL_TIMEOUT:-600}"
ATTEMPTS="${NOTEBOOK_ATTEMPTS:-6}"

out=""
nbs=()
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { say "--out needs a directory"; exit 2; }; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    -h|--help) sed -n '2,19p' "$src" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) say "unknown option: $1"; exit 2 ;;
    *) nbs+=("$1"); shift ;;
  esac
done
[[ -n "$out" ]] || out="out/notebooks"
((${#nbs[@]})) || { say "no notebooks given"; exit 2; }
[[ -x "$JUPYTER" ]] || { say "$JUPYTER is missing: run scripts/notebook-setup.sh"; exit 1; }
mkdir -p -- "$out" || exit 1
out="$(cd -- "$out" && pwd -P)"

export JUPYTER_DATA_DIR="$ROOT/.jupyter/data"
[[ -f "$JUPYTER_DATA_DIR/kernels/$KERNEL_NAME/kernel.json" ]] \
  || { say "kernelspec $KERNEL_NAME is missing: run scripts/notebook-setup.sh"; exit 1; }
# Silences debugpy's "frozen modules" warning that every Python start prints with Debian's ipykernel installed.
export PYDEVD_DISABLE_FILE_VALIDATION=1

# True when the attempt's log shows the kernel never got going: the start-up handshake timed out or the kernel died
# before answering it, and no cell was sent to it (the kernel logs every execute_request it handles).
startup_failure() {
  grep -Eq "Kernel didn't respond in [0-9]+ seconds|Kernel died before replying to kernel_info" <<<"$1" \
    && ! grep -q "Handling message: execute_request" <<<"$1"
}

# Counts of the executed notebook's outputs: "N images, M errors".
summarize() {
  /usr/bin/python3 - "$1" <<'PY' 2>/dev/null || echo "outputs unreadable"
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
    "$JUPYTER" nbconvert --to notebook --execute \
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
  # The HTML copy is converted from the executed notebook (no second run).
  if ! "$JUPYTER" nbconvert --to html --output-dir "$out" --output "$name" "$out/$name.ipynb" >>"$log" 2>&1; then
    say "$name: FAILED to convert to HTML; see $log"
    failed=$((failed + 1))
  fi
done

if ((failed == 0)); then
  say "all ${#nbs[@]} notebook(s) ran; executed copies in $out"
else
  say "$failed of ${#nbs[@]} notebook(s) FAILED; outputs and logs in $out"
  failed=1
fi
exit "$failed"
