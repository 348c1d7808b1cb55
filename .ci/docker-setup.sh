#!/usr/bin/env bash
# Makes a Docker engine and the sandbox tests' base image available on a Debian 12 machine that
# reaches Debian's package mirror and no image registry. Idempotent: each step is skipped when its
# result is already there, so a warm machine pays only for `docker info`.
#
# Env: SWISS_TEST_IMAGE (default swiss-python:ci) names the image to build.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
image="${SWISS_TEST_IMAGE:-swiss-python:ci}"
log=/tmp/swiss-dockerd.log

say() { echo "docker-setup: $*"; }

need=()
# A machine may carry a static docker client without the engine, so ask for dockerd itself.
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $log)"
  # setsid + nohup: the engine must outlive this script and the CI step that ran it.
  setsid nohup dockerd >"$log" 2>&1 </dev/null &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    say "dockerd did not answer within 60 s; its log:"
    tail -n 50 "$log" >&2 || true
    exit 1
  fi
fi

if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image already present"
  exit 0
fi

# The mirror apt already uses for the main bookworm suite: both the one-line format and deb822
# stanzas, skipping the security and updates suites, which debootstrap cannot bootstrap from.
mirror_from_apt() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk '$1 == "deb" {
           i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
           if ($(i + 1) == "bookworm") { print $i; exit }
         }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk 'function flush() { if (uris != "" && suites ~ /(^| )bookworm( |$)/) { split(uris, u, " "); print u[1]; found = 1 } uris = ""; suites = "" }
         /^[ \t]*$/ { flush(); if (found) exit; next }
         /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
         /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
         END { if (!found) flush() }' "$f"
  done
}
mirror="$(mirror_from_apt | head -n 1)"
if [[ -z $mirror ]]; then
  say "no bookworm mirror found in /etc/apt/sources.list{,.d}" >&2
  exit 1
fi

root="$(mktemp -d /tmp/swiss-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
say "building $image from $mirror (debootstrap, takes minutes)"
start=$SECONDS
debootstrap --variant=minbase --include=python3,python3-pytest bookworm "$root" "$mirror" \
  >/tmp/swiss-debootstrap.log 2>&1 || {
  say "debootstrap failed; its log:"
  tail -n 50 /tmp/swiss-debootstrap.log >&2
  exit 1
}
# Package caches only make the image bigger, and every sandbox container is a copy of it.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' - "$image" >/dev/null
say "built $image in $((SECONDS - start)) s"
