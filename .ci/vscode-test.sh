#!/usr/bin/env bash
# The VS Code extension's tests: its unit tests (node --test, the settings-drift check included),
# then the packaged .vsix in a real VS Code (code-server, driven by Playwright in Chromium)
# against the debug `swiss` binary and a scripted model backend. Exits non-zero on any failure.
# Screenshots (hover.png …) land in target/vscode-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/vscode-setup.sh
# shellcheck disable=SC1091
source "${SWISS_VSCODE_CACHE:-${HOME:-/tmp}/.cache/swiss-vscode}/env.sh"
# The extension's tooling wants Node 20+; where the system's is older (Debian's 18), the Node 24
# installed for code-server serves it too.
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  export PATH="$(dirname "$CODE_SERVER_NODE"):$PATH"
fi

step() { echo "vscode-test: $*"; }
timings=()
timed() {
  local name=$1 t=$SECONDS
  shift
  "$@"
  timings+=("$name $((SECONDS - t)) s")
}

timed unit bash -c 'cd editors/vscode && npm test'
timed cargo-build cargo build -p swiss --locked --quiet
timed package bash -c 'cd editors/vscode && npm run --silent bundle && npm run --silent package >/dev/null'
export SWISS_BIN="$PWD/target/debug/swiss"
export SWISS_VSIX="$PWD/editors/vscode/swiss.vsix"
timed e2e node editors/vscode/e2e/run.mjs
step "timings: ${timings[*]}"
