#!/usr/bin/env bash
# Runs every test: setup, build (which also applies the TorchSharp native-library fix), all .NET test projects,
# the extension's unit tests, then the end-to-end tests in a real VS Code (code-server + Chromium, the real
# sidecar, a real endpoint on loopback, the bundled model). Ends with the plain line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh
dotnet build NoirCode.sln --no-restore --configuration Release --verbosity quiet -nologo
log=$(mktemp)
status=0
dotnet test NoirCode.sln --no-build --configuration Release --verbosity quiet -nologo --logger "console;verbosity=minimal" 2>&1 | tee "$log" || status=$?
# dotnet test prints one summary per project: "Passed!  - Failed: 0, Passed: 50, Skipped: 0, ..."
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

# Node's test runner (spec reporter) ends with "ℹ pass N" / "ℹ fail N" / "ℹ skipped N".
count_node() {  # label, exit status, log
  local p f s
  p=$(grep -Eo '^ℹ pass [0-9]+' "$3" | awk '{s+=$3} END {print s+0}')
  f=$(grep -Eo '^ℹ fail [0-9]+' "$3" | awk '{s+=$3} END {print s+0}')
  s=$(grep -Eo '^ℹ skipped [0-9]+' "$3" | awk '{s+=$3} END {print s+0}')
  if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # it failed before counting
  echo "$1: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}
source scripts/lib/node24.sh
node_status=0
(cd extension && npm run --silent build && node esbuild.mjs --tests && node --test --test-reporter=spec 'out/test/*.test.js') 2>&1 | tee "$log" || node_status=$?
count_node "extension unit tests" "$node_status" "$log"
[ "$node_status" -eq 0 ] || status=$node_status

# The end-to-end tests run the sidecar the solution build above made (no second build) and the packaged
# extension, one code-server at a time: an unkeyed split they set up themselves (editor.e2e), then npm start's own
# default with no settings (default.e2e); screenshots and logs go to artifacts/e2e/.
export NOIR_SIDECAR_DLL="$PWD/artifacts/noir/noir.dll"
e2e_status=0
{ (cd extension && npm run --silent package >/dev/null) \
  && node --test --test-concurrency=1 --test-reporter=spec extension/e2e/editor.e2e.test.mjs extension/e2e/default.e2e.test.mjs; } 2>&1 | tee "$log" || e2e_status=$?
count_node "end-to-end tests" "$e2e_status" "$log"
[ "$e2e_status" -eq 0 ] || status=$e2e_status

# The code style (.editorconfig): whitespace as `dotnet format` writes it. A difference counts as one failure and
# names the files; `dotnet format whitespace NoirCode.sln` fixes them.
if dotnet format whitespace NoirCode.sln --verify-no-changes --verbosity quiet > "$log" 2>&1; then
  echo "code style: as .editorconfig says"
else
  echo "code style: these files differ from .editorconfig (fix: dotnet format whitespace NoirCode.sln):"
  cut -d'(' -f1 "$log" | sort -u | sed 's/^/  /'
  failed=$((failed + 1)); status=1
fi
rm -f "$log"
echo "tests took $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
