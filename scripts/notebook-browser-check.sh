#!/usr/bin/env bash
# Browser test of a notebook in JupyterLab: starts JupyterLab from .venv-jupyter on 127.0.0.1 (a free port, a random
# token, throw-away settings and workspaces), then .ci/browser/run-notebook.mjs drives Debian's chromium through
# playwright-core: open the notebook, run all cells with Run > Run All Cells, wait for the last cell, check that a PNG
# image is shown and no error output, save a full-page screenshot. The server is stopped afterwards. CI runs this
# (.ci/run).
#
#   scripts/notebook-browser-check.sh [--out DIR] [NOTEBOOK.ipynb]
#
# NOTEBOOK defaults to notebooks/01-quickstart.ipynb (any notebook inside the checkout works); DIR defaults to
# out/browser and receives NAME.png (the screenshot) and jupyterlab.log (the server's and the kernel's output).
# Needs: chromium (Debian: apt-get install -y --no-install-recommends chromium; CHROMIUM names another binary), node
# and npm (playwright-core, pinned in .ci/browser/package-lock.json, is installed there with `npm ci` when missing;
# it never downloads a browser). Environment passes through to the kernel (e.g. FLAME_NB_ROUNDS).
# Exit status: 0 when the checks pass, 1 when they fail, 2 when something needed is missing.
set -euo pipefail

say() { printf 'notebook-browser-check: %s\n' "$*" >&2; }
missing() { say "$*"; exit 2; }

src="${BASH_SOURCE[0]}"
if resolved="$(readlink -f -- "$src" 2>/dev/null)" && [[ -n "$resolved" ]]; then src="$resolved"; fi
ROOT="$(cd -- "$(dirname -- "$src")/.." && pwd -P)"
BROWSER_DIR="$ROOT/.ci/browser"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

out="out/browser"
nb="$ROOT/notebooks/01-quickstart.ipynb"
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { say "--out needs a directory"; exit 2; }; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    -h|--help) sed -n '2,16p' "$src" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) say "unknown option: $1"; exit 2 ;;
    *) nb="$1"; shift ;;
  esac
done
[[ -f "$nb" ]] || { say "no such notebook: $nb"; exit 2; }
nb="$(readlink -f -- "$nb")"
[[ "$nb" == "$ROOT"/* ]] || { say "the notebook must lie inside the checkout ($ROOT), JupyterLab's root dir"; exit 2; }
rel="${nb#"$ROOT/"}"
name="$(basename -- "$nb" .ipynb)"

# --- What the test needs ---------------------------------------------------------------------------------------------
[[ -x "$CHROMIUM" ]] || missing "no chromium at $CHROMIUM. Install Debian's: apt-get install -y --no-install-recommends chromium"
command -v node >/dev/null 2>&1 || missing "node is missing. Install it: apt-get install -y --no-install-recommends nodejs npm"
command -v npm >/dev/null 2>&1 || missing "npm is missing. Install it: apt-get install -y --no-install-recommends npm"
pinned="$(node -e 'console.log(require(process.argv[1]).dependencies["playwright-core"])' "$BROWSER_DIR/package.json")"
installed="$(node -e 'try { console.log(require(process.argv[1]).version) } catch { console.log("") }' \
  "$BROWSER_DIR/node_modules/playwright-core/package.json")"
if [[ "$installed" != "$pinned" ]]; then
  say "installing playwright-core $pinned into .ci/browser/node_modules (npm ci)"
  (cd -- "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 \
    || missing "npm ci failed in $BROWSER_DIR (it needs the npm registry once)"
fi

spark=""
grep -q 'flame-spark-notebook\.jar' -- "$nb" && spark="--spark"
"$ROOT/scripts/notebook-setup.sh" $spark
# shellcheck source=jupyter-env.sh
source "$ROOT/scripts/jupyter-env.sh"
flame_jupyter_select || missing "no usable Jupyter: run scripts/notebook-setup.sh"
[[ "$JUPYTER_KIND" == venv ]] || missing "the browser test needs JupyterLab from .venv-jupyter (scripts/notebook-setup.sh could not build it)"
flame_jupyter_path

# --- JupyterLab on 127.0.0.1 -------------------------------------------------------------------------------------------
mkdir -p -- "$out"
out="$(cd -- "$out" && pwd -P)"
rm -f -- "$out/$name.png" "$out/$name.ipynb.before-test"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/flame-browser.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true   # the server shuts its kernels down on TERM
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  if [[ -f "$tmp/notebook.orig" ]] && ! cmp -s -- "$tmp/notebook.orig" "$nb"; then
    # Not put back: someone may have edited it meanwhile. The copy from before the test is kept for comparison.
    cp -p -- "$tmp/notebook.orig" "$out/$name.ipynb.before-test"
    say "WARNING: $rel changed during the test (saved by JupyterLab, or edited meanwhile); its content from before the"
    say "test is in ${out#"$PWD/"}/$name.ipynb.before-test"
  fi
  rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

read -r port token < <("$JUPYTER_PY" -c 'import secrets, socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], secrets.token_hex(24)); s.close()')
# Throw-away settings: the notebook renders every cell (no windowing), so that the checks and the screenshot see all
# outputs, and is never saved (no autosave: the committed notebook must stay without outputs); checkpoints, workspaces
# and runtime files go to the temporary directory, not into notebooks/.ipynb_checkpoints, ~/.jupyter or
# ~/.local/share/jupyter.
mkdir -p -- "$tmp/settings/@jupyterlab/notebook-extension" "$tmp/settings/@jupyterlab/docmanager-extension" \
  "$tmp/workspaces" "$tmp/runtime" "$tmp/checkpoints"
printf '{ "windowingMode": "none" }\n' >"$tmp/settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
printf '{ "autosave": false }\n' >"$tmp/settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"
# No "Would you like to get notified about official Jupyter news?" toast in the screenshot, and no news fetched.
mkdir -p -- "$tmp/settings/@jupyterlab/apputils-extension"
printf '{ "fetchNews": "false", "checkForUpdates": false }\n' \
  >"$tmp/settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
# A guard all the same: the notebook's bytes and time stamp are kept, to tell if anything wrote to it.
cp -p -- "$nb" "$tmp/notebook.orig"
root_opt=()
[[ "$(id -u)" == 0 ]] && root_opt=(--allow-root)
say "starting JupyterLab on 127.0.0.1:$port (log: ${out#"$PWD/"}/jupyterlab.log)"
JUPYTER_RUNTIME_DIR="$tmp/runtime" "$JUPYTER_BIN/jupyter-lab" --no-browser "${root_opt[@]}" \
  --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" --ServerApp.root_dir="$ROOT" \
  --LabApp.user_settings_dir="$tmp/settings" --LabApp.workspaces_dir="$tmp/workspaces" \
  --FileCheckpoints.checkpoint_dir="$tmp/checkpoints" --MappingKernelManager.kernel_info_timeout=20 \
  --LabApp.expose_app_in_browser=True --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
  >"$out/jupyterlab.log" 2>&1 &
server_pid=$!

rc=0
node "$BROWSER_DIR/run-notebook.mjs" --base "http://127.0.0.1:$port" --token "$token" --notebook "$rel" \
  --screenshot "$out/$name.png" || rc=$?
if ((rc == 0)); then
  say "ok: $rel ran in JupyterLab in chromium; screenshot ${out#"$PWD/"}/$name.png"
else
  say "FAILED: $rel in JupyterLab (see above, the screenshot ${out#"$PWD/"}/$name.png and ${out#"$PWD/"}/jupyterlab.log)"
  rc=1
fi
exit "$rc"
