#!/usr/bin/env bash
# npm run package: builds the extension as extension/noircode.vsix (for desktop VS Code: Extensions → … →
# Install from VSIX). The sidecar is not inside it: build it with scripts/noir and set noircode.sidecarPath.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/lib/node24.sh
(cd extension && npm run --silent package)
echo "extension/noircode.vsix"
