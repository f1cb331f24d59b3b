#!/usr/bin/env bash
# Builds the OpenTofu and Pulumi engines from their Go modules (nothing can be downloaded prebuilt
# here), into a cache dir that later runs reuse. Prints the bin dir as its last line.
#
#   TOFU_VERSION     default v1.10.10
#   PULUMI_VERSION   default v3.248.0: the last @pulumi/pulumi on npm that runs on Node 20
#   KEYWARD_CACHE_DIR default ~/.cache/keyward
#
# These modules carry `replace` directives, so `go install pkg@version` refuses them: each is built
# through a throwaway wrapper module in a temp dir that requires it at the pinned version and
# repeats the replaces it needs.
set -euo pipefail

TOFU_VERSION="${TOFU_VERSION:-v1.10.10}"
PULUMI_VERSION="${PULUMI_VERSION:-v3.248.0}"
CACHE="${KEYWARD_CACHE_DIR:-$HOME/.cache/keyward}"
BIN="$CACHE/engines/tofu-${TOFU_VERSION}_pulumi-${PULUMI_VERSION}/bin"
mkdir -p "$BIN"
log() { printf '[engines] %s\n' "$*" >&2; }

# The checksum database does not answer for every pulumi release; the versions are pinned here.
export GONOSUMDB="${GONOSUMDB:-github.com/pulumi/pulumi}"
export GOFLAGS="-mod=mod"

wrapper() { # name go-version: an empty module to require the engine from
  local dir
  dir="$(mktemp -d)"
  printf 'module keyward.local/engines/%s\n\ngo %s\n' "$1" "$2" > "$dir/go.mod"
  echo "$dir"
}

build_tofu() {
  [ -x "$BIN/tofu" ] && { log "tofu $TOFU_VERSION: cached"; return; }
  local started=$SECONDS dir
  dir="$(wrapper tofu 1.24.13)"
  (
    cd "$dir"
    # Repeats OpenTofu's own replace of hcl/v2 by its fork.
    go mod edit -require="github.com/opentofu/opentofu@$TOFU_VERSION" \
      -replace=github.com/hashicorp/hcl/v2@v2.20.1=github.com/opentofu/hcl/v2@v2.20.2-0.20251021132045-587d123c2828
    go get "github.com/opentofu/opentofu/cmd/tofu@$TOFU_VERSION" >&2
    # version.dev=no marks a release build, as OpenTofu's own release does ("v1.10.10", not "v1.10.10-dev").
    go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$BIN/tofu" github.com/opentofu/opentofu/cmd/tofu >&2
  )
  rm -rf "$dir"
  log "tofu $TOFU_VERSION built in $((SECONDS - started))s"
}

build_pulumi() {
  [ -x "$BIN/pulumi" ] && { log "pulumi $PULUMI_VERSION: cached"; return; }
  local started=$SECONDS dir
  dir="$(wrapper pulumi 1.25.11)"
  (
    cd "$dir"
    # pkg/v3 replaces sdk/v3 with ../sdk (the same release) and clipboard with a fork.
    go mod edit -require="github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" -require="github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" \
      -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
    go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" >&2
    go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
  )
  rm -rf "$dir"
  log "pulumi $PULUMI_VERSION built in $((SECONDS - started))s"
}

install_dynamic_provider_launcher() {
  [ -x "$BIN/pulumi-resource-pulumi-nodejs" ] && return
  # The small launcher Pulumi's release archives ship beside the CLI: it runs @pulumi/pulumi's
  # cmd/dynamic-provider with node. It is part of the sdk module.
  local sdk
  sdk="$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  install -m 0755 "$sdk/nodejs/dist/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"
}

build_tofu
build_pulumi
install_dynamic_provider_launcher
for tool in tofu pulumi pulumi-resource-pulumi-nodejs; do
  log "$(ls -la "$BIN/$tool" | awk '{print $5}') bytes  $tool"
done
echo "$BIN"
