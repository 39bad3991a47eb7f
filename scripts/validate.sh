#!/usr/bin/env bash
# The Flow Library's checks: `node-red-dev validate` on this package (built: it reads the nodes'
# editor files in dist/ and the flows in examples/), installed once into ~/.cache/realtime-voice.
# The Flow Library's catalogue, fetched only to look for clashing names, cannot be reached from
# here: scripts/empty-catalogue.mjs serves an empty one. The npm registry is asked as usual.
#
#   bash scripts/validate.sh [SCORECARD.json]
set -euo pipefail
NODE_RED_DEV_VERSION=0.1.6
root=$(cd "$(dirname "$0")/.." && pwd)
tool=${RV_CACHE_DIR:-$HOME/.cache/realtime-voice}/node-red-dev-$NODE_RED_DEV_VERSION
if [[ ! -f $tool/node_modules/node-red-dev/package.json ]]; then
  mkdir -p "$tool"
  echo '{"name":"node-red-dev-for-validate","private":true}' >"$tool/package.json"
  npm install --prefix "$tool" --no-audit --no-fund --no-save "node-red-dev@$NODE_RED_DEV_VERSION" >&2
fi
scorecard=${1:-$root/.test-output/scorecard.json}
mkdir -p "$(dirname "$scorecard")"
RV_NODE_RED_DEV=$tool node --import "$root/scripts/empty-catalogue.mjs" "$tool/node_modules/node-red-dev/bin/run" \
  validate --path "$root" --output "$scorecard" </dev/null
