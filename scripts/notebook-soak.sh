#!/usr/bin/env bash
# Soak test of the notebook runner: executes notebooks/01-quickstart.ipynb N times in a row (default 20) through the
# same runner as `./flame notebooks --execute` (scripts/notebook-run.sh, with its start-up retries), then reports how
# many runs succeeded, how many needed a kernel start-up retry, and the wall time of each run.
#
#   scripts/notebook-soak.sh [N] [--out DIR]        (DIR default: out/notebook-soak; run i writes DIR/run-i/)
#
# Exit status: 0 only if all N runs succeeded.
set -uo pipefail

src="${BASH_SOURCE[0]}"
if resolved="$(readlink -f -- "$src" 2>/dev/null)" && [[ -n "$resolved" ]]; then src="$resolved"; fi
ROOT="$(cd -- "$(dirname -- "$src")/.." && pwd -P)"

n=20
out="out/notebook-soak"
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { echo "soak: --out needs a directory" >&2; exit 2; }; out="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$src" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) [[ "$1" =~ ^[1-9][0-9]*$ ]] || { echo "soak: N must be a positive integer, got '$1'" >&2; exit 2; }; n="$1"; shift ;;
  esac
done

NB="$ROOT/notebooks/01-quickstart.ipynb"
# The setup is idempotent (it builds the notebook jar when stale).
"$ROOT/scripts/notebook-setup.sh" || exit 1

mkdir -p -- "$out" || exit 1
ok=0
retried=0
times=()
total_start=$SECONDS
for ((i = 1; i <= n; i++)); do
  dir="$out/run-$i"
  rm -rf -- "$dir"
  start=$SECONDS
  if msg="$("$ROOT/scripts/notebook-run.sh" --out "$dir" "$NB" 2>&1)"; then
    status="ok"
    ok=$((ok + 1))
  else
    status="FAILED"
  fi
  secs=$((SECONDS - start))
  times+=("$secs")
  attempts="$(grep -c "^===== attempt [0-9]*$" -- "$dir/01-quickstart.log" 2>/dev/null)" || true
  [[ -n "$attempts" ]] || attempts="?"
  [[ "$attempts" =~ ^[0-9]+$ ]] && ((attempts > 1)) && retried=$((retried + 1))
  printf 'soak: run %d/%d %s in %d s (%s kernel start attempt(s))\n' "$i" "$n" "$status" "$secs" "$attempts"
  [[ "$status" == ok ]] || printf '%s\n' "$msg" | sed 's/^/    /'
done

sorted="$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')"
printf 'soak: %d/%d runs succeeded; %d needed a kernel start-up retry; %d s in all; seconds per run (sorted): %s\n' \
  "$ok" "$n" "$retried" "$((SECONDS - total_start))" "$sorted"
((ok == n))
