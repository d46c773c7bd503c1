#!/usr/bin/env bash
# Builds the self-contained jars that notebooks add with %jars, when they are missing or older than the sources:
#   lib/target/flame-notebook.jar         the library, its dependencies and the PyTorch natives (notebooks 01-05)
#   spark/target/flame-spark-notebook.jar the same with the Spark module and Spark (notebook 06)
# Usage: scripts/notebook-jar.sh [--spark]    (Maven offline first, online if something is not in ~/.m2 yet)
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)"
say() { printf 'notebook-jar: %s\n' "$*" >&2; }

modules="lib"; jars=("$ROOT/lib/target/flame-notebook.jar"); sources=("$ROOT/lib/src/main" "$ROOT/lib/pom.xml" "$ROOT/pom.xml")
if [[ "${1:-}" == --spark ]]; then
  modules="lib,spark"; jars+=("$ROOT/spark/target/flame-spark-notebook.jar")
  sources+=("$ROOT/spark/src/main" "$ROOT/spark/pom.xml")
fi
stale=""
for j in "${jars[@]}"; do
  if [[ ! -s "$j" ]] || [[ -n "$(find "${sources[@]}" -newer "$j" -print -quit)" ]]; then stale="yes"; fi
done
[[ -z "$stale" ]] && exit 0
command -v mvn >/dev/null 2>&1 || { say "Maven is needed to build ${jars[*]} (apt-get install maven)"; exit 1; }
say "building ${jars[*]#"$ROOT/"} (about a minute)..."
log="$(mktemp "${TMPDIR:-/tmp}/notebook-jar.XXXXXX")"
trap 'rm -f -- "$log"' EXIT
if ! (cd "$ROOT" && mvn -B -q -o -Pnotebook -DskipTests package -pl "$modules" -am) >"$log" 2>&1 \
   && ! (cd "$ROOT" && mvn -B -q -Pnotebook -DskipTests package -pl "$modules" -am) >"$log" 2>&1; then
  tail -40 "$log" >&2
  say "the build failed"
  exit 1
fi
