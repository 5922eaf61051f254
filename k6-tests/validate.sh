#!/usr/bin/env bash
# Validates k6-tests/ without Docker or k6 (neither exists on CI): compose files as the README
# uses them, the k6 scripts type-checked against @types/k6, the monitoring configuration.
# Prints `ok: ...` / `FAIL: ...` per check, then `validations: N passed, N failed`.
# Exit code: 0 when nothing failed. Works from any directory. See README.md, "Validation".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

passed=0
failed=0
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

ok() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: runs COMMAND, its output shown (indented, first 40 lines) only on failure.
check() {
    local name="$1"
    shift
    if "$@" >"$LOG" 2>&1; then
        ok "$name"
    else
        fail "$name"
        sed -n '1,40s/^/    /p' "$LOG"
    fi
}

# --- 1. docker-compose -------------------------------------------------------------------
ensure_docker_compose() {
    command -v docker-compose >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || {
        echo "docker-compose is missing (as root on Debian this script installs it: apt-get install docker-compose)"
        return 1
    }
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends docker-compose ||
        { apt-get update -q && apt-get install -y -q --no-install-recommends docker-compose; }
    command -v docker-compose >/dev/null 2>&1
}

compose_ready=0
if ensure_docker_compose >"$LOG" 2>&1; then
    ok "docker-compose available ($(docker-compose version --short 2>/dev/null || echo '?'))"
    compose_ready=1
else
    fail "docker-compose available"
    sed -n '1,20s/^/    /p' "$LOG"
fi

# Every `docker-compose` command in README.md's bash blocks: leading VAR=value assignments, then
# the -f files. Each is validated with exactly that environment (and nothing else inherited).
mapfile -t COMBOS < <(node tools/readme-compose-commands.mjs README.md)
if [ "${#COMBOS[@]}" -ge 4 ]; then
    ok "README.md shows ${#COMBOS[@]} docker-compose commands to validate"
else
    fail "README.md shows ${#COMBOS[@]} docker-compose commands (expected at least 4; parser or README broken?)"
fi

compose_config() { # ENV_ASSIGNMENTS FILE_ARGS
    local assignments="$1" files="$2"
    # shellcheck disable=SC2086 # word splitting intended: the README's own words
    env -i PATH="$PATH" HOME="${HOME:-/root}" $assignments docker-compose $files config -q
}

scenario_exists() { # SCRIPT SCENARIO
    [ -f "$1" ] && grep -Eq "^[[:space:]]+$2: \{" "$1"
}

for combo in "${COMBOS[@]}"; do
    assignments="${combo%%$'\t'*}"
    files="${combo#*$'\t'}"
    label="${assignments:+$assignments }docker-compose $files config"
    if [ "$compose_ready" = 1 ]; then
        check "$label" compose_config "$assignments" "$files"
    else
        fail "$label (no docker-compose)"
    fi
    script="userpoint-distributed-lock-test.js"
    scenario=""
    for word in $assignments; do
        case "$word" in
            K6_SCRIPT=*) script="${word#K6_SCRIPT=}" ;;
            K6_ONLY_SCENARIO=*) scenario="${word#K6_ONLY_SCENARIO=}" ;;
        esac
    done
    if [[ "$assignments" == *K6_SCRIPT=* ]]; then
        check "K6_SCRIPT=$script exists" test -f "$script"
    fi
    if [ -n "$scenario" ]; then
        check "K6_ONLY_SCENARIO=$scenario is a scenario of $script" scenario_exists "$script" "$scenario"
    fi
done

# --- 2. k6 scripts type-checked against @types/k6 ----------------------------------------
check "npm ci (typescript, @types/k6, js-yaml from package-lock.json)" \
    npm ci --no-audit --no-fund --loglevel=error
if [ -x node_modules/.bin/tsc ]; then
    check "tsc -p tsconfig.json ($(node_modules/.bin/tsc --version 2>/dev/null); checkJs, strict) on $(ls ./*.js lib/*.js | tr '\n' ' ')" \
        node_modules/.bin/tsc -p tsconfig.json
else
    fail "tsc -p tsconfig.json (typescript not installed)"
fi

# --- 3. monitoring configuration: JSON dashboards, YAML configs, cross-references ----------
# run_reporting NAME COMMAND...: COMMAND prints its own ok:/FAIL: lines; count them here.
run_reporting() {
    local name="$1"
    shift
    set +e
    "$@" >"$LOG" 2>&1
    local rc=$?
    set -e
    while IFS= read -r line; do
        case "$line" in
            ok:\ *) ok "${line#ok: }" ;;
            FAIL:\ *) fail "${line#FAIL: }" ;;
            *) echo "    $line" ;;
        esac
    done <"$LOG"
    if ! grep -Eq '^(ok|FAIL): ' "$LOG"; then
        fail "$name printed no result"
    elif [ "$rc" != 0 ] && ! grep -q '^FAIL: ' "$LOG"; then
        fail "$name exited $rc"
    fi
}

if [ -d node_modules/js-yaml ]; then
    run_reporting "monitoring configuration check" node tools/check-monitoring-config.mjs "$HERE"
else
    fail "monitoring configuration (js-yaml not installed)"
fi

# --- 4. the scripts' own code against an in-memory fake API (oracle logic, negative controls) --
run_reporting "oracle simulation" node tools/simulate.mjs

echo "validations: $passed passed, $failed failed"
[ "$failed" = 0 ]
