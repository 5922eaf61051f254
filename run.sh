#!/usr/bin/env bash
# The main job. Provisions the real servers, builds, and runs the strategy comparison when it exists.
# Arguments go to the comparison (benchmarks/DualLock.Comparison/ComparisonOptions.cs); --database postgres runs it on
# PostgreSQL (services.sh up starts it) and writes artifacts/comparison/results-postgres.{json,md} and chart-postgres.png.
set -euo pipefail
cd "$(dirname "$0")"

scripts/services.sh up all
eval "$(scripts/services.sh env)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build DualLock.sln -c Release -nologo -clp:ErrorsOnly

comparison=benchmarks/DualLock.Comparison/DualLock.Comparison.csproj
if [ -f "$comparison" ]; then
  exec dotnet run --project "$comparison" -c Release --no-build -- "$@"
fi

cat <<EOT
Services are up and the solution is built. The strategy comparison (benchmarks/DualLock.Comparison)
does not exist yet. What you can run now:
  ./test.sh                           every unit and integration test against the real servers
  eval "\$(scripts/services.sh env)"   export the connection strings into your shell
  scripts/services.sh status|down     inspect or stop the servers
EOT
