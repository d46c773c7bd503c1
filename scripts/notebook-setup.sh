#!/usr/bin/env bash
# Sets up everything the FLAME notebooks need; idempotent, so it is safe (and fast, about 1 s when all is in place) to
# run before every notebook command (./flame lab | notebook | notebooks run it).
#
#   scripts/notebook-setup.sh [--spark]
#
#   1. Jupyter: the virtual environment <checkout>/.venv-jupyter with JupyterLab 4, Notebook 7, nbconvert, nbclient and
#      ipykernel, installed with pip from the machine's local wheel index (pip config: global.extra-index-url; PyPI is
#      not used). Nothing is installed when the environment exists and its packages import. Only when it cannot be
#      built (no local wheel index, no python3 with venv) does this fall back to Debian's classic Notebook 6.4
#      (apt-get as root; otherwise the command is printed and the exit status is 2). scripts/jupyter-env.sh says which
#      one the commands use.
#   2. The Java kernel: io.github.padreati:rapaio-jupyter-kernel:3.0.1, one self-contained jar, fetched with Maven into
#      <checkout>/.jupyter/kernel/, and its launcher scripts/kernel/RapaioKernelLauncher.java (which avoids the kernel's
#      start-up races), compiled into <checkout>/.jupyter/kernel/launcher/.
#   3. The jars notebooks load with their first cell (%jars): lib/target/flame-notebook.jar, and with --spark also
#      spark/target/flame-spark-notebook.jar (scripts/notebook-jar.sh; a no-op when they are up to date).
#   4. The kernelspec "flame-java" (display name "Java (FLAME)") in the project's Jupyter data dir,
#      <checkout>/.jupyter/data/kernels/flame-java/kernel.json: the kernel's JVM gets the JVM/DJL flags of ./flame and
#      Spark's Java 17 flags, its environment DJL_CACHE_DIR, SPARK_HOME and the allocator of ./flame. It puts nothing on
#      the classpath: every notebook loads the library itself with %jars.
#
# Jupyter finds the kernelspec when <checkout>/.jupyter/data is on JUPYTER_PATH (the project's commands prepend it);
# to use it from your own Jupyter or VS Code: jupyter kernelspec install --user <checkout>/.jupyter/data/kernels/flame-java
# Everything generated lives in .jupyter/ and .venv-jupyter/, which git ignores; delete them to start over.
#
# Environment: JAVA_HOME (as for ./flame), DJL_CACHE_DIR (default $HOME/.djl.ai), FLAME_JAVA_OPTS (extra JVM options
# for the kernel, written into kernel.json; rerun this script after changing them), FLAME_JUPYTER_PYTHON (the Python
# the virtual environment is built from; default python3).
#
# Exit status: 0 ready; 1 something failed; 2 no Jupyter at all and we may not install Debian's (not root).
set -euo pipefail

RJK_VERSION="3.0.1"
RJK_ARTIFACT="io.github.padreati:rapaio-jupyter-kernel:$RJK_VERSION"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
KERNEL_NAME="flame-java"
DISPLAY_NAME="Java (FLAME)"
# What the virtual environment holds (the local wheel index has JupyterLab 4.6, Notebook 7.6, nbclient 0.11,
# nbconvert 7.17, ipykernel 7.4).
VENV_PACKAGES=("jupyterlab>=4,<5" "notebook>=7,<8" "nbclient>=0.10" "nbconvert>=7" ipykernel)
# The fallback: Debian 12 package names (classic Notebook 6.4, nbconvert 6.5, nbclient 0.7; no JupyterLab in bookworm).
APT_PACKAGES=(jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client jupyter-core python3-ipykernel
              jupyter-server python3-nbclassic)

say() { printf 'notebook-setup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

spark=""
while (($#)); do
  case "$1" in
    --spark) spark="--spark"; shift ;;
    -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (usage: scripts/notebook-setup.sh [--spark])" ;;
  esac
done

src="${BASH_SOURCE[0]}"
if resolved="$(readlink -f -- "$src" 2>/dev/null)" && [[ -n "$resolved" ]]; then src="$resolved"; fi
ROOT="$(cd -- "$(dirname -- "$src")/.." && pwd -P)"
[[ -f "$ROOT/pom.xml" && -x "$ROOT/flame" ]] || die "$ROOT does not look like a FLAME checkout"
# shellcheck source=jupyter-env.sh
source "$ROOT/scripts/jupyter-env.sh"

JDIR="$ROOT/.jupyter"
KERNEL_DIR="$JDIR/kernel"
KERNEL_JAR="$KERNEL_DIR/rapaio-jupyter-kernel-$RJK_VERSION.jar"
LAUNCHER_SRC="$ROOT/scripts/kernel/RapaioKernelLauncher.java"
LAUNCHER_DIR="$KERNEL_DIR/launcher"
LAUNCHER_CLASS="$LAUNCHER_DIR/RapaioKernelLauncher.class"
SPEC_DIR="$FLAME_JUPYTER_DATA/kernels/$KERNEL_NAME"
JAVA17_OPTIONS="$ROOT/spark/src/main/resources/dev/flame/spark/java17.options"

# --- 1. Jupyter -----------------------------------------------------------------------------------------------------
# Builds .venv-jupyter from the local wheel index; on failure removes the half-built environment and returns 1 with
# the reason printed.
build_venv() {
  local py="${FLAME_JUPYTER_PYTHON:-python3}" indexes first rest extra=() log
  command -v "$py" >/dev/null 2>&1 || { say "no $py to build .venv-jupyter from"; return 1; }
  # The local indexes pip is configured with (as in scripts/hf-setup.sh): the first becomes --index-url, so that pip
  # never waits on PyPI, which is not reachable; find-links (/opt/wheels) comes from pip's own configuration.
  indexes="$(pip config get global.extra-index-url 2>/dev/null || "$py" -m pip config get global.extra-index-url 2>/dev/null || true)"
  indexes="$(tr -s ' \t\n' '   ' <<<"$indexes")"
  indexes="${indexes# }"
  first="${indexes%% *}"
  rest="${indexes#"$first"}"
  if [[ -z "$first" ]]; then
    say "no local wheel index configured (pip config get global.extra-index-url is empty)"
    return 1
  fi
  for i in $rest; do extra+=(--extra-index-url "$i"); done
  say "building .venv-jupyter (JupyterLab 4, Notebook 7, nbconvert, nbclient) from the local wheel index $first..."
  rm -rf -- "$FLAME_JUPYTER_VENV"
  log="$(mktemp "${TMPDIR:-/tmp}/notebook-setup.XXXXXX")"
  if ! "$py" -m venv "$FLAME_JUPYTER_VENV" >"$log" 2>&1; then
    cat -- "$log" >&2
    say "$py -m venv failed (Debian/Ubuntu: apt-get install python3-venv)"
    rm -rf -- "$FLAME_JUPYTER_VENV" "$log"
    return 1
  fi
  # pip warns about every project the second index lacks a folder for; those lines are noise.
  if ! "$FLAME_JUPYTER_VENV/bin/python" -m pip install -q --no-input --index-url "$first" "${extra[@]}" \
         "${VENV_PACKAGES[@]}" >"$log" 2>&1; then
    grep -v 'is ignored: it is neither a file nor a directory' -- "$log" | tail -n 30 >&2
    say "pip install ${VENV_PACKAGES[*]} failed"
    rm -rf -- "$FLAME_JUPYTER_VENV" "$log"
    return 1
  fi
  rm -f -- "$log"
  if ! flame_jupyter_venv_ok full; then
    say ".venv-jupyter was built but its packages do not import"
    rm -rf -- "$FLAME_JUPYTER_VENV"
    return 1
  fi
}

install_debian_jupyter() {
  local install_cmd="apt-get update && apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}"
  if [[ "$(id -u)" != 0 ]]; then
    say "Jupyter is missing. Either make the local wheel index available (pip config get global.extra-index-url) and"
    say "rerun, or install Debian's classic Notebook (no JupyterLab), then rerun:"
    printf '\n    sudo sh -c '\''%s'\''\n\n' "$install_cmd" >&2
    exit 2
  fi
  command -v apt-get >/dev/null 2>&1 || die "Jupyter is missing and apt-get is not available; install: ${APT_PACKAGES[*]}"
  say "falling back to Debian's classic Notebook 6.4 (no JupyterLab): ${APT_PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" >&2 || die "apt-get install failed"
  flame_jupyter_debian_ok || die "Debian's Jupyter was installed but /usr/bin/jupyter, nbconvert or notebook is still not usable"
}

if ! flame_jupyter_venv_ok; then
  if ! build_venv; then
    if flame_jupyter_debian_ok; then
      say "could not build .venv-jupyter; using Debian's classic Notebook (/usr/bin/jupyter; no JupyterLab)"
    else
      install_debian_jupyter
    fi
  fi
fi
flame_jupyter_select || die "no usable Jupyter after setup (neither .venv-jupyter nor Debian's packages)"

# --- Java (the kernel runs on it) -------------------------------------------------------------------------------------
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
elif command -v java >/dev/null 2>&1; then
  JAVA="$(command -v java)"
else
  die "Java 17 or newer is required (apt-get install openjdk-17-jdk-headless)"
fi
JAVA="$(readlink -f -- "$JAVA")"   # an absolute path: the Jupyter server may run with another PATH

# --- 2. The kernel jar ----------------------------------------------------------------------------------------------
# A readable jar whose manifest names the kernel's main class (checked with Python's zipfile: unzip may be missing).
jar_ok() {
  [[ -s "$1" ]] && "$JUPYTER_PY" -c 'import sys, zipfile
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

# The kernel's launcher (scripts/kernel/RapaioKernelLauncher.java): starts the kernel as its own main class does, minus
# its start-up race (the launcher's comment says how). Compiled with the JDK's javac when missing or older than its
# source or the kernel jar.
if [[ ! -s "$LAUNCHER_CLASS" || "$LAUNCHER_SRC" -nt "$LAUNCHER_CLASS" || "$KERNEL_JAR" -nt "$LAUNCHER_CLASS" ]]; then
  JAVAC="$(dirname -- "$JAVA")/javac"
  [[ -x "$JAVAC" ]] || die "javac is needed next to $JAVA to build the kernel launcher (apt-get install openjdk-17-jdk-headless)"
  tmp="$(mktemp -d "$KERNEL_DIR/.launcher.XXXXXX")"
  trap 'rm -rf -- "$tmp"' EXIT
  "$JAVAC" -nowarn -d "$tmp" -cp "$KERNEL_JAR" "$LAUNCHER_SRC" >&2 || die "could not compile $LAUNCHER_SRC"
  chmod 755 "$tmp"
  rm -rf -- "$LAUNCHER_DIR"
  mv -- "$tmp" "$LAUNCHER_DIR"
  trap - EXIT
fi

# --- 3. The jars notebooks load with %jars ----------------------------------------------------------------------------
"$ROOT/scripts/notebook-jar.sh" $spark || die "building the notebook jar(s) failed: scripts/notebook-jar.sh $spark"

# --- 4. The kernelspec ----------------------------------------------------------------------------------------------
# argv as the kernel's own installer writes it (java [jvm options] -jar <jar> {connection_file}), but through the
# launcher (-cp <launcher>:<jar> RapaioKernelLauncher), with the JVM options of ./flame, including Spark's Java 17 flags
# from the one file that defines them (a java launcher argument file).
# User code runs in this JVM (JShell, local execution), so the -D flags and env reach DJL and Spark.
[[ -f "$JAVA17_OPTIONS" ]] || die "missing $JAVA17_OPTIONS (Spark's Java 17 flags)"
extra=()
if [[ -n "${FLAME_JAVA_OPTS:-}" ]]; then read -r -a extra <<<"$FLAME_JAVA_OPTS"; fi
argv=("$JAVA"
  -Xmx4g
  -Dai.djl.offline=true
  -Djava.awt.headless=true
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
  -Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=off
  -Dslf4j.internal.verbosity=ERROR
  -Dai.djl.pytorch.num_interop_threads=1
  "-Dflame.home=$ROOT"
  "@$JAVA17_OPTIONS"
  "${extra[@]}"
  -cp "$LAUNCHER_DIR:$KERNEL_JAR" RapaioKernelLauncher
  "{connection_file}")

# The native allocator of ./flame (scripts/allocator.sh), as kernel environment variables.
# shellcheck source=allocator.sh
source "$ROOT/scripts/allocator.sh"
flame_allocator
ALLOC_ENV="$(printf '%s\n' "${FLAME_ALLOC_ENV[@]}")"
export ALLOC_ENV

# Spark's home for notebook 06, as ./flame sets it: a directory with a jars/ folder (local-cluster masters need one).
SPARK_HOME_DIR="${SPARK_HOME:-$ROOT/spark/target/spark-home}"
[[ -n "${SPARK_HOME:-}" ]] || mkdir -p -- "$SPARK_HOME_DIR/jars"

mkdir -p -- "$SPEC_DIR"
# Written with Python's json module so that any path is escaped correctly; replaced atomically, only when it changed.
DJL_CACHE="${DJL_CACHE_DIR:-$HOME/.djl.ai}" \
MIMA="$JDIR/mima_cache" SPARK_HOME_DIR="$SPARK_HOME_DIR" \
DISPLAY_NAME="$DISPLAY_NAME" SPEC_DIR="$SPEC_DIR" \
"$JUPYTER_PY" - "${argv[@]}" <<'PY'
import json, os, sys, tempfile
spec = {
    "argv": sys.argv[1:],
    "display_name": os.environ["DISPLAY_NAME"],
    "language": "java",
    "interrupt_mode": "message",
    "env": {
        "DJL_CACHE_DIR": os.environ["DJL_CACHE"],
        "DJL_OFFLINE": "true",
        "RJK_COMPILER_OPTIONS": "",
        "RJK_INIT_SCRIPT": "",
        "RJK_TIMEOUT_MILLIS": "-1",
        "RJK_MIMA_CACHE": os.environ["MIMA"],
        "SPARK_HOME": os.environ["SPARK_HOME_DIR"],
        # Spark's executors on this machine bind to loopback (and it stops warning that the hostname resolves there)
        "SPARK_LOCAL_IP": "127.0.0.1",
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
flame_jupyter_path
specs="$("$JUPYTER_BIN/jupyter" kernelspec list 2>/dev/null || true)"
if ! grep -q "^ *$KERNEL_NAME " <<<"$specs"; then
  die "Jupyter does not list the kernelspec $KERNEL_NAME (JUPYTER_PATH=$JUPYTER_PATH)"
fi
case "$JUPYTER_KIND" in
  venv) what="$("$JUPYTER_PY" -c 'from importlib.metadata import version as v; print("JupyterLab", v("jupyterlab"), "and Notebook", v("notebook"))') in .venv-jupyter" ;;
  *) what="Debian's classic Notebook (/usr/bin/jupyter)" ;;
esac
say "ready: $what; kernel '$KERNEL_NAME' ($DISPLAY_NAME) in ${SPEC_DIR#"$ROOT/"}"
