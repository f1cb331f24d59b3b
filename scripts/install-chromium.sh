#!/usr/bin/env bash
# Installs Debian's Chromium when it is missing (the e2e suite drives the /docs page with it).
# Prints the browser's path as the last line.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Chromium from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
chromium --version >&2
command -v chromium
