#!/usr/bin/env bash
# The hot-key matrix behind the README's contention table: every library and setting, in one run
# on one machine, so the ratios compare like with like. Writes benchmarks/results/contention.jsonl
# and contention.md; the reader-writer and semaphore rows go to coordination.jsonl and coordination.md.
# Usage: benchmarks/contention.sh [seconds per cell, default 5] [all|coordination|multikey, default all]
# (multikey: only the key-pair rows, written to multikey.jsonl and multikey.md)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
section=${2:-all}
scripts/services.sh up
eval "$(scripts/services.sh env)"
dotnet build benchmarks/DualLock.Benchmarks -c Release -nologo -clp:ErrorsOnly
dll=artifacts/build/bin/DualLock.Benchmarks/release/DualLock.Benchmarks.dll
out=benchmarks/results
mkdir -p "$out"
jsonl="$out/contention.jsonl"

run() {
  echo "contention $*" >&2
  # A failed check exits non-zero (mysql-plain, the negative control, always does); the row's
  # check column reports it, so the matrix goes on.
  dotnet "$dll" contention --duration "$seconds" --key "hot-$RANDOM$RANDOM" "$@" | tail -n 1 >>"$jsonl" || true
}

# Two hot keys every caller locks together, named in a random order (a transfer either way), 1 ms hold: DualLock's
# key set against nested locks (DistributedLock's, sorted by hand) and the negative control (nested, caller's order).
if [ "$section" = all ] || [ "$section" = multikey ]; then
  jsonl="$out/multikey.jsonl"
  : >"$jsonl"
  for shape in "16 1" "8 2"; do
    set -- $shape
    for lib in "duallock" "duallock-nested" "madelson" "madelson --tuned"; do
      key="pair-$RANDOM$RANDOM"
      # shellcheck disable=SC2086
      run --mode pair --lib $lib --callers "$1" --processes "$2" --hold-ms 1 --key "$key"
    done
  done
  python3 - "$jsonl" >"$out/multikey.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| library | settings | callers x processes | pairs/s | fair limit | ratio | wait p99 ms | slowest wait ms | fair wait ms | timeouts | overlaps | Redis cmds/pair |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    limit = r["fairLimitOpsPerSecond"] or 0
    print(f'| {r["library"]} | {r["settings"]} | {r["callers"] // r["processes"]} x {r["processes"]} | {r["opsPerSecond"]:.0f} | {limit:.0f} | {r["opsPerSecond"] / limit if limit else 0:.2f}x | {r["waitP99Ms"]:.1f} | {r["waitMaxMs"]:.1f} | {r["fairWaitBoundMs"]:.0f} | {r["timeouts"]} | {r["overlaps"]} | {r["redisCommandsPerAcquire"]:.2f} |')
PY
  cat "$out/multikey.md"
  [ "$section" = multikey ] && exit 0
fi

# Reader-writer lock and semaphore against DistributedLock's (1 ms hold): readers only, 90/10 reads/writes, 4 permits.
jsonl="$out/coordination.jsonl"
: >"$jsonl"
for shape in "--mode rw --write-percent 0" "--mode rw --write-percent 10" "--mode sem --permits 4"; do
  for lib in "duallock" "madelson" "madelson --tuned"; do
    # shellcheck disable=SC2086
    run --lib $lib $shape --callers 64 --hold-ms 1
  done
done
python3 - "$jsonl" >"$out/coordination.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| library | settings | callers | ops/s | fair limit ops/s | ratio | wait p50 ms | wait p99 ms | slowest wait ms | fair wait ms | slowest / fair | Redis cmds/acquire | check |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    limit = r["fairLimitOpsPerSecond"] or 0
    print(f'| {r["library"]} | {r["settings"]} | {r["callers"]} | {r["opsPerSecond"]:.0f} | {limit:.0f} | {r["opsPerSecond"] / limit if limit else 0:.2f}x | {r["waitP50Ms"]:.2f} | {r["waitP99Ms"]:.1f} | {r["waitMaxMs"]:.1f} | {r["fairWaitBoundMs"]:.0f} | {r["waitMaxMs"] / r["fairWaitBoundMs"] if r["fairWaitBoundMs"] else 0:.1f}x | {r["redisCommandsPerAcquire"]:.2f} | {r["verification"]}{"" if r["overlaps"] == 0 else " OVERLAPS " + str(r["overlaps"])} |')
PY
cat "$out/coordination.md"
[ "$section" = coordination ] && exit 0

jsonl="$out/contention.jsonl"
: >"$jsonl"

for hold in 1 0; do
  for shape in "1 1" "8 1" "64 1" "32 2"; do
    set -- $shape
    for lib in "duallock" "madelson" "madelson --tuned" "redlock" "redlock --tuned"; do
      # shellcheck disable=SC2086
      run --lib $lib --callers "$1" --processes "$2" --hold-ms "$hold"
    done
  done
done
for lib in mysql-plain mysql-atomic mysql-row mysql-dual mysql-named mysql-optimistic; do
  for callers in 1 16; do
    run --lib "$lib" --callers "$callers" --hold-ms 0
  done
done

python3 - "$out/contention.jsonl" >"$out/contention.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| library | settings | callers x processes | hold ms | ops/s | wait p50 ms | wait p99 ms | wait max ms | hand-off p50 ms | Redis cmds/acquire | per process | check |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
for r in rows:
    per = r["callers"] // r["processes"]
    print(f'| {r["library"]} | {r["settings"]} | {per} x {r["processes"]} | {r["holdMs"]:g} | {r["opsPerSecond"]:.0f} | {r["waitP50Ms"]:.2f} | {r["waitP99Ms"]:.1f} | {r["waitMaxMs"]:.1f} | {r["handoffP50Ms"]:.3f} | {r["redisCommandsPerAcquire"]:.2f} | {"/".join(map(str, r["perProcessAcquisitions"]))} | {r["verification"]}{"" if r["overlaps"] == 0 else " OVERLAPS " + str(r["overlaps"])} |')
PY
cat "$out/contention.md"
