#!/usr/bin/env bash
# Runs every test: setup, build (which also applies the TorchSharp native-library fix), then all test projects.
# Ends with the plain line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh
dotnet build NoirCode.sln --no-restore --configuration Release --verbosity quiet -nologo
log=$(mktemp)
status=0
dotnet test NoirCode.sln --no-build --configuration Release --verbosity quiet -nologo 2>&1 | tee "$log" || status=$?
# dotnet test prints one summary per project: "Passed!  - Failed: 0, Passed: 50, Skipped: 0, ..."
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "tests took $(( $(date +%s) - start )) s"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
