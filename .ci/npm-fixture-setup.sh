#!/usr/bin/env bash
# The npm packages the TypeScript fixture needs (vitest runs its tests, tsx its reproduction
# programs), installed from tests/npm-fixture's lock file into target/swiss-npm-fixture, where
# tests/it/toolchains.rs looks: the tests themselves have no network. Prints the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${SWISS_NPM_FIXTURE:-$PWD/target/swiss-npm-fixture}"
mkdir -p "$dir"
if ! cmp -s tests/npm-fixture/package-lock.json "$dir/package-lock.json" \
  || [[ ! -x "$dir/node_modules/.bin/vitest" || ! -x "$dir/node_modules/.bin/tsx" ]]; then
  cp tests/npm-fixture/package.json tests/npm-fixture/package-lock.json "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
echo "$dir"
