#!/usr/bin/env bash
# Installs what the build and tests need on a fresh Debian 12 machine. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# ldd (libc-bin) is used by a test that checks TorchSharp's native library resolves; git for fresh-clone checks.
command -v ldd >/dev/null || need_apt+=(libc-bin)
command -v git >/dev/null || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need_apt[*]} (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
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
