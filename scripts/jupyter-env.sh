# shellcheck shell=bash disable=SC2034,SC2120   # sourced: sets variables for its caller; the argument is optional
# Sourced by ./flame and the scripts/notebook-*.sh scripts: which Jupyter the project's notebook commands use, and how
# Jupyter finds the project's kernelspec. Needs ROOT (the checkout) to be set; defines functions only.
#
#   1. preferred: the project's virtual environment <checkout>/.venv-jupyter (JupyterLab 4, Notebook 7, nbconvert 7,
#      nbclient), built by scripts/notebook-setup.sh from the machine's local wheel index;
#   2. fallback: Debian's classic Notebook 6.4 (/usr/bin/jupyter, apt packages), used only when the virtual
#      environment cannot be built. It has no JupyterLab, so `./flame lab` and the browser test need (1).
#
# flame_jupyter_select sets
#   JUPYTER_KIND   "venv" or "debian"
#   JUPYTER_BIN    the directory holding jupyter, jupyter-lab, jupyter-notebook, jupyter-nbconvert
#   JUPYTER_PY     the Python those run on (for small helpers that read notebooks as JSON)
# and returns 1 (setting nothing) when neither is usable.
#
# flame_jupyter_path prepends <checkout>/.jupyter/data (where the kernelspec "flame-java" lives) to JUPYTER_PATH and
# exports it. JUPYTER_PATH only adds a place to look: the user's own kernels (~/.local/share/jupyter/kernels, the
# environment's, the system's) stay visible, unlike JUPYTER_DATA_DIR, which would replace the user's data dir.

FLAME_JUPYTER_VENV="$ROOT/.venv-jupyter"
FLAME_JUPYTER_DATA="$ROOT/.jupyter/data"

# The virtual environment is usable when its commands exist, its packages are installed in the major versions we want
# and can be found, and jupyter_client imports. (A quick check, 0.2 s: importing jupyterlab or nbconvert takes about
# 2 s each; with "full" as argument, as after building the environment, everything is imported.)
flame_jupyter_venv_ok() {
  local v="$FLAME_JUPYTER_VENV" f
  for f in python jupyter jupyter-lab jupyter-notebook jupyter-nbconvert jupyter-kernelspec; do
    [[ -x "$v/bin/$f" ]] || return 1
  done
  "$v/bin/python" - "${1:-quick}" >/dev/null 2>&1 <<'PY'
import importlib, importlib.util, sys
from importlib.metadata import version
modules = ["jupyterlab", "notebook", "nbclient", "nbconvert", "jupyter_server", "jupyter_client", "jupyter_core"]
assert version("jupyterlab").startswith("4.") and version("notebook").startswith("7."), "wrong versions"
assert all(importlib.util.find_spec(m) for m in modules), "a package is missing"
for m in modules if sys.argv[1] == "full" else ["jupyter_client", "jupyter_core"]:
    importlib.import_module(m)
PY
}

# Debian's packages: classic Notebook and nbconvert on the system Python (whatever python3 comes first on PATH).
flame_jupyter_debian_ok() {
  local f
  for f in /usr/bin/python3 /usr/bin/jupyter /usr/bin/jupyter-nbconvert /usr/bin/jupyter-notebook; do
    [[ -x "$f" ]] || return 1
  done
  /usr/bin/python3 -c 'import notebook, nbconvert, nbclient, jupyter_client, jupyter_core' >/dev/null 2>&1
}

flame_jupyter_select() {
  if flame_jupyter_venv_ok; then
    JUPYTER_KIND="venv"; JUPYTER_BIN="$FLAME_JUPYTER_VENV/bin"; JUPYTER_PY="$FLAME_JUPYTER_VENV/bin/python"
  elif flame_jupyter_debian_ok; then
    JUPYTER_KIND="debian"; JUPYTER_BIN="/usr/bin"; JUPYTER_PY="/usr/bin/python3"
  else
    return 1
  fi
}

flame_jupyter_path() {
  case ":${JUPYTER_PATH:-}:" in
    ":$FLAME_JUPYTER_DATA:"*) ;;   # already first
    *) JUPYTER_PATH="$FLAME_JUPYTER_DATA${JUPYTER_PATH:+:$JUPYTER_PATH}" ;;
  esac
  export JUPYTER_PATH
  # Silences debugpy's "frozen modules" warning that ipykernel's debugger prints on every Python start.
  export PYDEVD_DISABLE_FILE_VALIDATION=1
}
