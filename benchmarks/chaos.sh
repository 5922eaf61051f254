#!/usr/bin/env bash
# The chaos suite: faults injected one at a time (Redis killed and restarted empty, MariaDB killed, PostgreSQL killed,
# Redis hung, an API instance paused past its lease, Redlock nodes down, a replicated Redis failed over
# through Sentinel) while two real UserPointApi
# instances serve closed-loop charge/use load; the comparison's oracle checks every point.
#
# Usage: benchmarks/chaos.sh [--quick] [--fault NAME[,NAME...]] [--api path/UserPointApi.dll] [--out dir]
#   faults: redis-kill mysql-kill postgres-kill redis-hang mysql-hang api-pause redlock-nodes redis-failover (default: all); the negative
#   control (strategy none, no fault) always runs first (on PostgreSQL when postgres-kill is the only fault).
# Exit: 0 nothing lost and the control lost; 1 a locking strategy lost or invented points; 3 the
# negative control lost nothing (oracle unproven); 2 usage; 4 the run itself failed; 5 the lock health checks did
# not say what happened (redis-kill: dual Degraded, distributed Unhealthy while Redis is down, Healthy after).
#
# It runs its OWN MariaDB, PostgreSQL, Redis, 3 Redlock nodes and a primary + replica + 3 Sentinels (scripts/services.sh with DUALLOCK_SERVICES_DIR
# and other ports), so the faults never touch the shared servers, and stops them on exit, on failure too.
# Ports (override with CHAOS_MYSQL_PORT, CHAOS_POSTGRES_PORT, CHAOS_REDIS_PORT, CHAOS_REDLOCK_PORTS, CHAOS_REPLICATED_PORTS,
# CHAOS_SENTINEL_PORTS): 23306, 23432, 23379, 23380-23382, 23383-23384, 23393-23395.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export DUALLOCK_SERVICES_DIR="${CHAOS_SERVICES_DIR:-$root/artifacts/chaos-services}"
export DUALLOCK_MYSQL_PORT="${CHAOS_MYSQL_PORT:-23306}"
export DUALLOCK_POSTGRES_PORT="${CHAOS_POSTGRES_PORT:-23432}"
export DUALLOCK_REDIS_PORT="${CHAOS_REDIS_PORT:-23379}"
export DUALLOCK_REDLOCK_PORTS="${CHAOS_REDLOCK_PORTS:-23380,23381,23382}"
export DUALLOCK_REPLICATED_PORTS="${CHAOS_REPLICATED_PORTS:-23383,23384}"
export DUALLOCK_SENTINEL_PORTS="${CHAOS_SENTINEL_PORTS:-23393,23394,23395}"
export DUALLOCK_CLUSTER_PORTS="${CHAOS_CLUSTER_PORTS:-23401,23402,23403}" # validated, never started here
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "$DUALLOCK_SERVICES_DIR" = "$root/.services" ]; then
  echo "chaos.sh: CHAOS_SERVICES_DIR must not be the shared services folder ($root/.services)" >&2
  exit 2
fi

group=""
cleanup() {
  local status=$?
  # The runner and the API instances it starts share one process group (setsid below); whatever of it
  # is still alive (a crashed runner leaves its instances behind) is stopped by that group id.
  if [ -n "$group" ] && kill -0 -- "-$group" 2>/dev/null; then
    kill -CONT -- "-$group" 2>/dev/null || true # a paused instance handles TERM only once resumed
    kill -TERM -- "-$group" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$group" 2>/dev/null || true
  fi
  # services.sh down stops only this suite's servers, by their pid files.
  scripts/services.sh down || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/services.sh up redlock sentinel
eval "$(scripts/services.sh env)"

configuration=${CONFIGURATION:-Release}
conf_dir=$(echo "$configuration" | tr '[:upper:]' '[:lower:]')
dll=artifacts/build/bin/DualLock.Comparison/$conf_dir/DualLock.Comparison.dll
api=artifacts/build/bin/UserPointApi/$conf_dir/UserPointApi.dll
if [ ! -f "$dll" ] || [ ! -f "$api" ]; then
  dotnet build DualLock.sln -c "$configuration" -nologo -clp:ErrorsOnly
fi

set +e
setsid dotnet "$dll" chaos --api "$api" "$@" &
group=$!
wait "$group"
status=$?
set -e
exit "$status"
