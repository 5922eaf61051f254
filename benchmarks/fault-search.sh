#!/usr/bin/env bash
# The fault-search harness (docs/fault-search.md): faults drawn from a seed (Redis errors, delays, lost
# replies and resets through a RESP proxy, lock keys deleted or expired behind the holders' backs,
# MariaDB sessions killed, MariaDB restarted, PostgreSQL sessions ended and the server SIGKILLed and restarted) while two worker processes run every locking strategy over
# a few hot keys; a witness, a ledger and the callers' outcomes are checked against each other.
#
# Usage: benchmarks/fault-search.sh [--short] [--seed N | --seeds K | --minutes M] [--mutation NAME] [search options]
#   --short          the ./test.sh search: seeds 1-3, 20 s of faults each (about 2 minutes with the server start);
#                    the findings in benchmarks/fault-search/known-findings.txt are reported as KNOWN, not failed on
#   --seed N         replay one seed (what a finding prints)
#   --minutes M      the long search: new seeds until M minutes are spent
#   --mutation NAME  apply benchmarks/fault-search/mutations/NAME.patch to a temporary worktree of HEAD,
#                    build it and run the short search there; succeeds only when the search FINDS something
#   other options go to the harness: --length S --strategies a,b --clients N --keys N --allow CODE,... --out DIR
# Exit: 0 nothing beyond the allowed findings and the negative control caught; 1 findings (with --mutation:
# the mutation was NOT caught); 2 usage; 3 the negative control was not caught; 4 the run itself failed.
#
# It runs its OWN MariaDB, PostgreSQL, Redis and 3 Redlock nodes (scripts/services.sh with DUALLOCK_SERVICES_DIR and
# other ports), so its faults never touch the shared servers, and stops them on exit, on failure too.
# Ports (override with FAULT_SEARCH_MYSQL_PORT, FAULT_SEARCH_REDIS_PORT, FAULT_SEARCH_REDLOCK_PORTS, FAULT_SEARCH_POSTGRES_PORT):
# 24306, 24379, 24380-24382, 24432.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export DUALLOCK_SERVICES_DIR="${FAULT_SEARCH_SERVICES_DIR:-$root/artifacts/fault-search-services}"
export DUALLOCK_MYSQL_PORT="${FAULT_SEARCH_MYSQL_PORT:-24306}"
export DUALLOCK_REDIS_PORT="${FAULT_SEARCH_REDIS_PORT:-24379}"
export DUALLOCK_REDLOCK_PORTS="${FAULT_SEARCH_REDLOCK_PORTS:-24380,24381,24382}"
export DUALLOCK_POSTGRES_PORT="${FAULT_SEARCH_POSTGRES_PORT:-24432}"
export DUALLOCK_CLUSTER_PORTS="${FAULT_SEARCH_CLUSTER_PORTS:-24401,24402,24403}" # validated, never started here
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "$DUALLOCK_SERVICES_DIR" = "$root/.services" ]; then
  echo "fault-search.sh: FAULT_SEARCH_SERVICES_DIR must not be the shared services folder ($root/.services)" >&2
  exit 2
fi

mutation=""
known=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) args+=(--first-seed 1 --seeds 3 --length 20); known=1; shift ;;
    --mutation) mutation="${2:?--mutation needs a name}"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

configuration=${CONFIGURATION:-Release}
conf_dir=$(echo "$configuration" | tr '[:upper:]' '[:lower:]')
tree=$root
worktree=""
worker_pid=""
cleanup() {
  local status=$?
  # The harness ends its own two workers by pid; if it was itself killed, they are in its process group.
  if [ -n "$worker_pid" ] && kill -0 -- "-$worker_pid" 2>/dev/null; then
    kill -TERM -- "-$worker_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$worker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$worker_pid" 2>/dev/null || true
  fi
  scripts/services.sh down || true # only this harness's servers, by their pid files
  if [ -n "$worktree" ]; then git worktree remove --force "$worktree" || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "$mutation" ]; then
  patch="$root/benchmarks/fault-search/mutations/$mutation.patch"
  [ -f "$patch" ] || { echo "fault-search.sh: no mutation $patch" >&2; exit 2; }
  worktree="$root/artifacts/fault-search-mutation-$mutation"
  rm -rf "$worktree"; git worktree prune
  git worktree add --detach "$worktree" HEAD >/dev/null
  git -C "$worktree" apply "$patch"
  tree=$worktree
  [ ${#args[@]} -eq 0 ] && args=(--first-seed 1 --seeds 3 --length 20)
  known=1
  args+=(--out "$root/artifacts/fault-search/mutation-$mutation")
fi

# The short search and a mutation run know the findings being fixed now (benchmarks/fault-search/known-findings.txt).
if [ "$known" = 1 ]; then
  allowed=$( (grep -v '^#' benchmarks/fault-search/known-findings.txt || true) | (grep -v '^ *$' || true) | paste -sd, -)
  if [ -n "$allowed" ]; then args+=(--allow "$allowed"); fi
fi

dll=$tree/artifacts/build/bin/DualLock.FaultSearch/$conf_dir/DualLock.FaultSearch.dll
if [ -n "$mutation" ] || [ ! -f "$dll" ]; then
  dotnet build "$tree/tests/DualLock.FaultSearch" -c "$configuration" -nologo -clp:ErrorsOnly
fi

scripts/services.sh up redlock
eval "$(scripts/services.sh env)"

set +e
search_log="$root/artifacts/fault-search/search-$$.log"
mkdir -p "$(dirname "$search_log")"
setsid dotnet "$dll" search --repo "$root" "${args[@]}" > >(tee "$search_log") 2>&1 &
worker_pid=$!
wait "$worker_pid"
status=$?
set -e
if [ -n "$mutation" ]; then
  # A patch names the finding it must cause ("expect: failed-but-applied" above its diff): a finding of another
  # kind (a wedge on a loaded machine, say) does not count as catching this mutation.
  expect=$(sed -n 's/^expect: *//p' "$patch" | head -n 1)
  sleep 1 # the tee of the output may still be writing
  if [ "$status" = 1 ] && [ -n "$expect" ] && ! grep -qE "FINDING ${expect}" "$search_log"; then
    echo "fault-search.sh: mutation $mutation NOT caught: findings, but none is '${expect}'" >&2
    exit 1
  fi
  case "$status" in
    1) echo "fault-search.sh: mutation $mutation CAUGHT (the search found it${expect:+ as $expect})"; exit 0 ;;
    0) echo "fault-search.sh: mutation $mutation NOT caught: the short search passed with it applied" >&2; exit 1 ;;
    *) exit "$status" ;;
  esac
fi
exit "$status"
