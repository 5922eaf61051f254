#!/usr/bin/env bash
# Runs the BenchmarkDotNet suite against the real servers: benchmarks/run.sh [filter] [--full]
#   filter  BenchmarkDotNet glob, default '*' (everything); e.g. '*Uncontended*'
#   --full  BenchmarkDotNet's default job instead of the quick one
# Reports land in benchmarks/results/results/*-report-github.md. The hot-key harness runs with:
#   benchmarks/run.sh contention [options]
# and the uncontended Redis benchmarks interleaved (ratios within each round, for a noisy machine):
#   benchmarks/run.sh uncontended [--rounds 21] [--ops 500]
# and the uncontended charges interleaved (dual against the row lock alone, ratios within each round):
#   benchmarks/run.sh charges [--rounds 15] [--ops 200]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh up
eval "$(scripts/services.sh env)"
dotnet build benchmarks/DualLock.Benchmarks -c Release -nologo -clp:ErrorsOnly
dll=artifacts/build/bin/DualLock.Benchmarks/release/DualLock.Benchmarks.dll
if [ "${1:-}" = "contention" ] || [ "${1:-}" = "uncontended" ] || [ "${1:-}" = "charges" ]; then
  exec dotnet "$dll" "$@"
fi
filter=${1:-*}
shift || true
exec dotnet "$dll" --filter "$filter" "$@"
