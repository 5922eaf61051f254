#!/usr/bin/env bash
# The hot-key matrix behind the README's contention table: every library and setting, in one run
# on one machine, so the ratios compare like with like. Writes benchmarks/results/contention.jsonl
# and contention.md. Usage: benchmarks/contention.sh [seconds per cell, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
scripts/services.sh up
eval "$(scripts/services.sh env)"
dotnet build benchmarks/DualLock.Benchmarks -c Release -nologo -clp:ErrorsOnly
dll=artifacts/build/bin/DualLock.Benchmarks/release/DualLock.Benchmarks.dll
out=benchmarks/results
mkdir -p "$out"
: >"$out/contention.jsonl"

run() {
  echo "contention $*" >&2
  # A failed check exits non-zero (mysql-plain, the negative control, always does); the row's
  # check column reports it, so the matrix goes on.
  dotnet "$dll" contention --duration "$seconds" --key "hot-$RANDOM$RANDOM" "$@" | tail -n 1 >>"$out/contention.jsonl" || true
}

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
