#!/usr/bin/env bash
# The HTTP side by side: the sample (one instance per strategy) against a hand-written minimal endpoint
# (benchmarks/MinimalPointApi) on the same MariaDB, driven by Debian's wrk (installed when missing).
#   benchmarks/http.sh [--strategies none,atomic,pessimistic,distributed,dual] [--duration 8s] [--warmup 2s]
#                      [--connections 32] [--users 1000] [--runs N] [--instances N] [--server-stats] [--counters] [--out dir]
# Writes benchmarks/results/http.md and http.json. Loopback only, fixed durations; it stops only the
# processes it started. --server-stats reads performance_schema and Redis INFO commandstats: use it only
# against private servers (ConnectionStrings__MySql/__Redis pointing at them), the counts are global.
# --counters collects the DualLock meter of the first sample instance with dotnet-counters (installed into
# artifacts/tools) during each measured window: counters.md and counters-*.csv, the stage-by-stage profile.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then echo "wrk is missing: apt-get install -y wrk (as root)" >&2; exit 2; fi
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
if [ -z "${ConnectionStrings__MySql:-}" ]; then
  scripts/services.sh up
  eval "$(scripts/services.sh env)"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ " $* " == *" --counters "* ]] && [ ! -x artifacts/tools/dotnet-counters ]; then
  dotnet tool install dotnet-counters --version 10.0.750501 --tool-path artifacts/tools >/dev/null
fi
dotnet build DualLock.sln -c Release -nologo -clp:ErrorsOnly
exec dotnet artifacts/build/bin/DualLock.Comparison/release/DualLock.Comparison.dll http "$@"
