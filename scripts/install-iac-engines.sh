#!/usr/bin/env bash
# Builds the OpenTofu and Pulumi engines from their Go modules (nothing can be downloaded prebuilt
# here), into a cache dir that later runs reuse. Prints the bin dir as its last line.
#
#   TOFU_VERSION         default v1.12.6: write-only arguments and ephemeral resources (OpenTofu ≥ 1.11)
#   TOFU_LEGACY_VERSION  default v1.10.10: an engine without them, to prove the provider still works
#                        there (bin/tofu-legacy); empty to skip it
#   PULUMI_VERSION       default v3.248.0: the last @pulumi/pulumi on npm that runs on Node 20
#   KEYWARD_CACHE_DIR    default ~/.cache/keyward
#
# Each engine is cached by its own version (engines/tofu-<v>/bin, engines/pulumi-<v>/bin), so moving
# one never rebuilds another (Pulumi is the long build). The printed dir links them together:
# tofu, tofu-legacy, pulumi and pulumi-resource-pulumi-nodejs.
#
# These modules carry `replace` directives, so `go install pkg@version` refuses them: each is built
# through a throwaway wrapper module in a temp dir that requires it at the pinned version and
# repeats the replaces it needs.
set -euo pipefail

TOFU_VERSION="${TOFU_VERSION:-v1.12.6}"
TOFU_LEGACY_VERSION="${TOFU_LEGACY_VERSION-v1.10.10}"
PULUMI_VERSION="${PULUMI_VERSION:-v3.248.0}"
CACHE="${KEYWARD_CACHE_DIR:-$HOME/.cache/keyward}"
ENGINES="$CACHE/engines"
BIN="$ENGINES/use/tofu-${TOFU_VERSION}_pulumi-${PULUMI_VERSION}/bin"
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

module_go_version() { # module@version: the `go` directive of its go.mod (a wrapper may not ask for less)
  local gomod
  gomod="$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod"
}

# Before engines were cached one per dir, one dir held a tofu and a pulumi build together; reuse
# those binaries rather than rebuild them.
adopt_from_combined_layout() { # tool version target
  local old
  case "$1" in
    tofu) set -- "$@" "$ENGINES"/tofu-"$2"_pulumi-*/bin/tofu ;;
    pulumi) set -- "$@" "$ENGINES"/tofu-*_pulumi-"$2"/bin/pulumi ;;
  esac
  for old in "${@:4}"; do
    [ -x "$old" ] || continue
    # A hard link where the filesystem allows: the old dir may still be in use.
    ln -f "$old" "$3/$1" 2>/dev/null || install -m 0755 "$old" "$3/$1"
    if [ "$1" = pulumi ] && [ -x "$(dirname "$old")/pulumi-resource-pulumi-nodejs" ]; then
      install -m 0755 "$(dirname "$old")/pulumi-resource-pulumi-nodejs" "$3/"
    fi
    log "$1 $2: reused $old"
    return 0
  done
  return 1
}

build_tofu() { # version: builds into engines/tofu-<version>/bin and prints that binary's path
  local version="$1" out="$ENGINES/tofu-$1/bin" started=$SECONDS dir
  mkdir -p "$out"
  if [ -x "$out/tofu" ]; then
    log "tofu $version: cached"
  elif adopt_from_combined_layout tofu "$version" "$out"; then
    :
  else
    dir="$(wrapper tofu "$(module_go_version "github.com/opentofu/opentofu@$version")")"
    (
      cd "$dir"
      # Repeats OpenTofu's own replace of hcl/v2 by its fork (the same in v1.10 and v1.12).
      go mod edit -require="github.com/opentofu/opentofu@$version" \
        -replace=github.com/hashicorp/hcl/v2@v2.20.1=github.com/opentofu/hcl/v2@v2.20.2-0.20251021132045-587d123c2828
      go get "github.com/opentofu/opentofu/cmd/tofu@$version" >&2
      # version.dev=no marks a release build, as OpenTofu's own release does ("v1.12.6", not "v1.12.6-dev").
      go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$out/tofu.partial" github.com/opentofu/opentofu/cmd/tofu >&2
    )
    mv "$out/tofu.partial" "$out/tofu"
    rm -rf "$dir"
    log "tofu $version built in $((SECONDS - started))s"
  fi
  echo "$out/tofu"
}

build_pulumi() { # builds into engines/pulumi-<version>/bin and prints that dir
  local out="$ENGINES/pulumi-$PULUMI_VERSION/bin" started=$SECONDS dir
  mkdir -p "$out"
  if [ -x "$out/pulumi" ]; then
    log "pulumi $PULUMI_VERSION: cached"
  elif adopt_from_combined_layout pulumi "$PULUMI_VERSION" "$out"; then
    :
  else
    dir="$(wrapper pulumi 1.25.11)"
    (
      cd "$dir"
      # pkg/v3 replaces sdk/v3 with ../sdk (the same release) and clipboard with a fork.
      go mod edit -require="github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" -require="github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" \
        -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
      go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" >&2
      go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
        -o "$out/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
    )
    mv "$out/pulumi.partial" "$out/pulumi"
    rm -rf "$dir"
    log "pulumi $PULUMI_VERSION built in $((SECONDS - started))s"
  fi
  if [ ! -x "$out/pulumi-resource-pulumi-nodejs" ]; then
    # The small launcher Pulumi's release archives ship beside the CLI: it runs @pulumi/pulumi's
    # cmd/dynamic-provider with node. It is part of the sdk module.
    local sdk
    sdk="$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    install -m 0755 "$sdk/nodejs/dist/pulumi-resource-pulumi-nodejs" "$out/pulumi-resource-pulumi-nodejs"
  fi
  echo "$out"
}

tofu="$(build_tofu "$TOFU_VERSION")"
ln -sfn "$tofu" "$BIN/tofu"
if [ -n "$TOFU_LEGACY_VERSION" ]; then
  ln -sfn "$(build_tofu "$TOFU_LEGACY_VERSION")" "$BIN/tofu-legacy"
else
  rm -f "$BIN/tofu-legacy"
fi
pulumi_bin="$(build_pulumi)"
# Pulumi finds its plugins beside its own (resolved) executable, so links are enough.
ln -sfn "$pulumi_bin/pulumi" "$BIN/pulumi"
ln -sfn "$pulumi_bin/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"
for tool in tofu tofu-legacy pulumi; do
  [ -e "$BIN/$tool" ] || continue
  log "$tool: $("$BIN/$tool" version 2>/dev/null | grep -m1 -E "^(OpenTofu )?v[0-9]"), $(stat -L -c %s "$BIN/$tool") bytes"
done
echo "$BIN"
