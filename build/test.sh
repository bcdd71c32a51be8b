#!/usr/bin/env bash
# The test command: install what the tests need, restore and build once, run every test project,
# and end with one summary line "tests: N passed, N failed, N skipped".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build/system-deps.sh test
dotnet restore EDU.Framework.sln --nologo
dotnet build EDU.Framework.sln -c Release --no-restore --nologo -clp:NoSummary

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test EDU.Framework.sln -c Release --no-build --nologo "$@" 2>&1 | tee "$log" || status=$?

# Sum the per-assembly result lines of the VSTest runner ("Passed!  - Failed: 0, Passed: 12, Skipped: 0, ...").
awk '/(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { v = $(i+1); gsub(",", "", v)
         if ($i == "Failed:") f += v; else if ($i == "Passed:") p += v; else if ($i == "Skipped:") s += v }
       n++ }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s
           if (n == 0) { print "no test assembly reported results" > "/dev/stderr"; exit 1 } }' "$log" || status=1
exit "$status"
