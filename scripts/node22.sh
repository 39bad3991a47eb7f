#!/usr/bin/env bash
# The second test leg's runtime: Node 22 and Node-RED 5 (which needs Node >= 22.9), installed once
# into ~/.cache/realtime-voice and reused. Node is the official build that the npm registry carries
# as node-<os>-<arch> (the platform package the `node` package installs); Node-RED 5 goes beside it.
#
#   bash scripts/node22.sh              installs (if needed) and prints where both are
#   bash scripts/node22.sh CMD ARGS...  runs CMD with that Node first on PATH and $RV_NODE_RED set
#                                       (test/support/node-red-5.cjs makes the tests load that Node-RED)
set -euo pipefail
NODE_VERSION=22.23.5
NODE_RED_VERSION=5.0.7

cache=${RV_CACHE_DIR:-$HOME/.cache/realtime-voice}
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
node_dir=$cache/node-$NODE_VERSION-linux-$arch
red_dir=$cache/node-red-$NODE_RED_VERSION

if [[ ! -x $node_dir/bin/node ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null)
  rm -rf "$node_dir.partial" && mkdir -p "$node_dir.partial"
  tar -xzf "$tmp"/node-linux-"$arch"-"$NODE_VERSION".tgz -C "$node_dir.partial" --strip-components=1
  rm -rf "$node_dir" && mv "$node_dir.partial" "$node_dir"
  rm -rf "$tmp" && trap - EXIT
fi
# npm itself is not in that package: the system's npm runs on the new Node.
npm_cli=$(npm root -g)/npm/bin/npm-cli.js
if [[ ! -f $red_dir/node_modules/node-red/package.json ]]; then
  rm -rf "$red_dir.partial" && mkdir -p "$red_dir.partial"
  echo '{"name":"node-red-5-for-tests","private":true}' >"$red_dir.partial/package.json"
  "$node_dir/bin/node" "$npm_cli" install --prefix "$red_dir.partial" --no-audit --no-fund --no-save --engine-strict \
    "node-red@$NODE_RED_VERSION" >&2
  rm -rf "$red_dir" && mv "$red_dir.partial" "$red_dir"
fi

export PATH=$node_dir/bin:$PATH
export RV_NODE_RED=$red_dir/node_modules/node-red
# node-gyp and cmake-js build native addons against this Node's own headers (shipped in the package).
export npm_config_nodedir=$node_dir
if (($#)); then exec "$@"; fi
echo "node $("$node_dir/bin/node" --version): $node_dir/bin/node"
echo "node-red $NODE_RED_VERSION: $RV_NODE_RED"
