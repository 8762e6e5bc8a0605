#!/usr/bin/env bash
# npm start: the main job. Installs what is missing (scripts/setup.sh), builds the sidecar and the extension, and
# serves VS Code (code-server) on 127.0.0.1 with NoirCode installed, on a sample workspace. The sidecar runs the
# embedded default: the bundled model, with a local endpoint on loopback for the middle blocks.
# The terminal demo of the split is `npm run demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== building the sidecar (noir)"
scripts/noir --version >/dev/null
source scripts/lib/node24.sh
echo "== building the extension"
(cd extension && npm run --silent package >/dev/null)
echo "== starting VS Code (code-server)"
exec node extension/editor/start.mjs
