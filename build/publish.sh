#!/usr/bin/env bash
# Publishes the worker (and the gateway) self-contained for linux-x64 into out/: what the container image, the
# systemd units and a bare-metal install copy. No .NET is needed where they run; GDCM's binding comes from Debian
# (libgdcm-cil) there, as here.
#   build/publish.sh [OUT]        (default: out/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/out}"
cd "$root"
build/system-deps.sh run
for project in Edu.Worker/Edu.Worker Edu.Gateway/Edu.Gateway.Host; do
  name="$(basename "$(dirname "$project")" | tr '[:upper:]' '[:lower:]' | sed 's/\./-/')"
  dotnet publish "hosts/$project.csproj" -c Release -r linux-x64 --self-contained -o "$out/$name" --nologo -v quiet -clp:NoSummary
done
echo "published: $out/edu-worker/edu-worker, $out/edu-gateway/edu-gateway"
