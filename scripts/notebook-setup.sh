#!/usr/bin/env bash
# Sets up everything the FLAME notebooks need; idempotent, so it is safe (and fast) to run before every notebook command.
#
#   1. Jupyter (classic Notebook + nbconvert) from Debian's packages, which run on /usr/bin/python3. Installed with
#      apt-get when missing and running as root; otherwise the command to run is printed and this script fails.
#   2. The Java kernel: io.github.padreati:rapaio-jupyter-kernel:3.0.1, one self-contained jar, fetched with Maven into
#      <project>/.jupyter/kernel/.
#   3. A kernelspec "flame-java" (display name "Java (FLAME)") in the project's own Jupyter data dir
#      <project>/.jupyter/data/kernels/flame-java/kernel.json: the kernel's JVM gets the same JVM/DJL flags as ./flame,
#      and RJK_CLASSPATH preloads lib/target/flame-lib.jar and lib/target/deps/*.jar, so notebooks need no magics.
#
# Use the kernelspec by pointing Jupyter at the data dir:  JUPYTER_DATA_DIR=<project>/.jupyter/data
# (./flame notebook and ./flame notebooks do that). Everything lives under .jupyter/, which git ignores; delete it to
# start over.
#
# Environment: JAVA_HOME (as for ./flame), DJL_CACHE_DIR (default $HOME/.djl.ai), FLAME_JAVA_OPTS (extra JVM options
# for the kernel, written into kernel.json; rerun this script after changing them).
#
# Exit status: 0 ready; 1 something failed; 2 Jupyter is missing and we may not install it (not root).
set -euo pipefail

RJK_VERSION="3.0.1"
RJK_ARTIFACT="io.github.padreati:rapaio-jupyter-kernel:$RJK_VERSION"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
KERNEL_NAME="flame-java"
DISPLAY_NAME="Java (FLAME)"
# Debian 12 package names (classic Notebook 6.4, nbconvert 6.5, nbclient 0.7). JupyterLab is not packaged in bookworm.
APT_PACKAGES=(jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client jupyter-core python3-ipykernel
              jupyter-server python3-nbclassic)
# Debian's Jupyter runs on the system Python, whatever python3 comes first on PATH (pyenv, venvs).
SYS_PY="/usr/bin/python3"
JUPYTER="/usr/bin/jupyter"

say() { printf 'notebook-setup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

src="${BASH_SOURCE[0]}"
if resolved="$(readlink -f -- "$src" 2>/dev/null)" && [[ -n "$resolved" ]]; then src="$resolved"; fi
ROOT="$(cd -- "$(dirname -- "$src")/.." && pwd -P)"
[[ -f "$ROOT/pom.xml" && -x "$ROOT/flame" ]] || die "$ROOT does not look like a FLAME checkout"

JDIR="$ROOT/.jupyter"
KERNEL_DIR="$JDIR/kernel"
KERNEL_JAR="$KERNEL_DIR/rapaio-jupyter-kernel-$RJK_VERSION.jar"
DATA_DIR="$JDIR/data"
SPEC_DIR="$DATA_DIR/kernels/$KERNEL_NAME"
LIB_JAR="$ROOT/lib/target/flame-lib.jar"
LIB_DEPS="$ROOT/lib/target/deps"

# --- 1. Jupyter ---------------------------------------------------------------------------------------------------
jupyter_ok() {
  local f
  for f in "$SYS_PY" "$JUPYTER" /usr/bin/jupyter-nbconvert /usr/bin/jupyter-notebook; do [[ -x "$f" ]] || return 1; done
  # nbconvert's notebook executor is nbclient; the server and its classic UI are notebook/nbclassic.
  "$SYS_PY" -c 'import notebook, nbconvert, nbclient, jupyter_client, jupyter_core' >/dev/null 2>&1
}

if ! jupyter_ok; then
  install_cmd="apt-get update && apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}"
  if [[ "$(id -u)" != 0 ]]; then
    say "Jupyter (classic Notebook and nbconvert for $SYS_PY) is missing. Install Debian's packages, then rerun:"
    printf '\n    sudo sh -c '\''%s'\''\n\n' "$install_cmd" >&2
    exit 2
  fi
  command -v apt-get >/dev/null 2>&1 || die "Jupyter is missing and apt-get is not available; install: ${APT_PACKAGES[*]}"
  say "installing Jupyter from Debian's packages: ${APT_PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" >&2 || die "apt-get install failed"
  jupyter_ok || die "Jupyter was installed but $JUPYTER, its nbconvert and notebook commands are still not usable"
fi

# --- Java (the kernel runs on it) and the library (the kernel preloads it) ----------------------------------------
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
elif command -v java >/dev/null 2>&1; then
  JAVA="$(command -v java)"
else
  die "Java 17 or newer is required (apt-get install openjdk-17-jdk-headless)"
fi
JAVA="$(readlink -f -- "$JAVA")"   # an absolute path: the Notebook server may run with another PATH

if [[ ! -f "$LIB_JAR" || -z "$(ls -A "$LIB_DEPS" 2>/dev/null)" ]]; then
  # ./flame builds the library when it is missing or stale; "--version" then exits at once.
  say "building the library (lib/target/flame-lib.jar)..."
  "$ROOT/flame" --version >/dev/null || die "building the library failed (run ./flame --version to see why)"
fi

# --- 2. The kernel jar ----------------------------------------------------------------------------------------------
# A readable jar whose manifest names the kernel's main class (checked with Python's zipfile: unzip may be missing).
jar_ok() {
  [[ -s "$1" ]] && "$SYS_PY" -c 'import sys, zipfile
mf = zipfile.ZipFile(sys.argv[1]).read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
sys.exit(0 if "Main-Class: org.rapaio.jupyter.kernel.MainApp" in mf.splitlines() else 1)' "$1" 2>/dev/null
}

if ! jar_ok "$KERNEL_JAR"; then
  command -v mvn >/dev/null 2>&1 || die "Maven is needed to fetch the kernel jar (apt-get install maven)"
  mkdir -p -- "$KERNEL_DIR"
  tmp="$(mktemp -d "$KERNEL_DIR/.fetch.XXXXXX")"
  trap 'rm -rf -- "$tmp"' EXIT
  say "fetching the Java kernel $RJK_ARTIFACT into .jupyter/kernel/"
  # Offline first (it is often in ~/.m2 already); online if not. Run outside the project so that Maven does not
  # execute the goal once per module.
  if ! (cd -- "$tmp" && mvn -o -q -B "$DEPENDENCY_PLUGIN:copy" -Dartifact="$RJK_ARTIFACT" -DoutputDirectory="$tmp") \
       >/dev/null 2>&1; then
    (cd -- "$tmp" && mvn -q -B "$DEPENDENCY_PLUGIN:copy" -Dartifact="$RJK_ARTIFACT" -DoutputDirectory="$tmp") >&2 \
      || die "could not fetch $RJK_ARTIFACT with Maven"
  fi
  jar_ok "$tmp/rapaio-jupyter-kernel-$RJK_VERSION.jar" || die "the fetched kernel jar is not the expected jar"
  mv -f -- "$tmp/rapaio-jupyter-kernel-$RJK_VERSION.jar" "$KERNEL_JAR"
  rm -rf -- "$tmp"
  trap - EXIT
fi

# --- 3. The kernelspec ----------------------------------------------------------------------------------------------
# argv as the kernel's own installer writes it (java [jvm options] -jar <jar> {connection_file}), with the JVM
# options of ./flame. User code runs in this JVM (JShell, local execution), so the -D flags and env reach DJL.
extra=()
if [[ -n "${FLAME_JAVA_OPTS:-}" ]]; then read -r -a extra <<<"$FLAME_JAVA_OPTS"; fi
argv=("$JAVA"
  -Xmx4g
  -Dai.djl.offline=true
  -Djava.awt.headless=true
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
  -Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=off
  -Dai.djl.pytorch.num_interop_threads=1
  "-Dflame.home=$ROOT"
  "${extra[@]}"
  -jar "$KERNEL_JAR"
  "{connection_file}")

# The native allocator of ./flame (scripts/allocator.sh), as kernel environment variables.
# shellcheck source=allocator.sh
source "$ROOT/scripts/allocator.sh"
flame_allocator
ALLOC_ENV="$(printf '%s\n' "${FLAME_ALLOC_ENV[@]}")"
export ALLOC_ENV

mkdir -p -- "$SPEC_DIR"
# Written with Python's json module so that any path is escaped correctly; replaced atomically, only when it changed.
DJL_CACHE="${DJL_CACHE_DIR:-$HOME/.djl.ai}" \
RJK_CP="$LIB_JAR;$LIB_DEPS/*.jar" \
MIMA="$JDIR/mima_cache" \
DISPLAY_NAME="$DISPLAY_NAME" SPEC_DIR="$SPEC_DIR" \
"$SYS_PY" - "${argv[@]}" <<'PY'
import json, os, sys, tempfile
spec = {
    "argv": sys.argv[1:],
    "display_name": os.environ["DISPLAY_NAME"],
    "language": "java",
    "interrupt_mode": "message",
    "env": {
        "DJL_CACHE_DIR": os.environ["DJL_CACHE"],
        "DJL_OFFLINE": "true",
        "RJK_CLASSPATH": os.environ["RJK_CP"],
        "RJK_COMPILER_OPTIONS": "",
        "RJK_INIT_SCRIPT": "",
        "RJK_TIMEOUT_MILLIS": "-1",
        "RJK_MIMA_CACHE": os.environ["MIMA"],
        **dict(line.split("=", 1) for line in os.environ["ALLOC_ENV"].splitlines() if line),
    },
    "metadata": {"generated_by": "scripts/notebook-setup.sh"},
}
text = json.dumps(spec, indent=2) + "\n"
path = os.path.join(os.environ["SPEC_DIR"], "kernel.json")
try:
    with open(path, encoding="utf-8") as f:
        if f.read() == text:
            sys.exit(0)
except FileNotFoundError:
    pass
fd, tmp = tempfile.mkstemp(dir=os.environ["SPEC_DIR"], prefix=".kernel.json.")
with os.fdopen(fd, "w", encoding="utf-8") as f:
    f.write(text)
os.replace(tmp, path)
PY

# Check that Jupyter sees it (output captured first: grep -q would close the pipe early and fail under pipefail).
specs="$(JUPYTER_DATA_DIR="$DATA_DIR" PYDEVD_DISABLE_FILE_VALIDATION=1 "$JUPYTER" kernelspec list 2>/dev/null || true)"
if ! grep -q "^ *$KERNEL_NAME " <<<"$specs"; then
  die "Jupyter does not list the kernelspec $KERNEL_NAME (JUPYTER_DATA_DIR=$DATA_DIR)"
fi
say "ready: kernel '$KERNEL_NAME' ($DISPLAY_NAME) in $SPEC_DIR"
