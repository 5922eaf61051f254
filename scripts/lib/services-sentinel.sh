# The replicated Redis set of scripts/services.sh (sourced by it, not run): a primary, one replica and three
# Sentinels, for the chaos suite's redis-failover fault. Uses services.sh's helpers (node_dir, start_redis_node,
# kill_redis_node, redis_cmd, pid_is, render, ...). Every process is found by its pid file and checked by name.

REPLICATED_PORTS_CSV="${DUALLOCK_REPLICATED_PORTS:-16383,16384}"
SENTINEL_PORTS_CSV="${DUALLOCK_SENTINEL_PORTS:-26383,26384,26385}"
SENTINEL_NAME="${DUALLOCK_SENTINEL_NAME:-duallock}"
SENTINEL_DOWN_AFTER_MS="${DUALLOCK_SENTINEL_DOWN_AFTER_MS:-1000}"
SENTINEL_FAILOVER_TIMEOUT_MS="${DUALLOCK_SENTINEL_FAILOVER_TIMEOUT_MS:-3000}"
SENTINEL_DIR="$SERVICES_DIR/sentinel"

mapfile -t REPLICATED_PORTS < <(split_ports "$REPLICATED_PORTS_CSV" DUALLOCK_REPLICATED_PORTS)
mapfile -t SENTINEL_PORTS < <(split_ports "$SENTINEL_PORTS_CSV" DUALLOCK_SENTINEL_PORTS)
((${#REPLICATED_PORTS[@]} >= 2)) || die "DUALLOCK_REPLICATED_PORTS needs 2 ports (a primary and a replica)"
((${#SENTINEL_PORTS[@]} == 3)) || die "DUALLOCK_SENTINEL_PORTS needs 3 ports (quorum 2 of 3)"
[[ "$SENTINEL_NAME" =~ ^[A-Za-z0-9_-]+$ ]] || die "DUALLOCK_SENTINEL_NAME: '$SENTINEL_NAME' is not a plain name"
[[ "$SENTINEL_DOWN_AFTER_MS" =~ ^[0-9]+$ && "$SENTINEL_FAILOVER_TIMEOUT_MS" =~ ^[0-9]+$ ]] ||
    die "DUALLOCK_SENTINEL_DOWN_AFTER_MS and DUALLOCK_SENTINEL_FAILOVER_TIMEOUT_MS must be numbers of ms"

is_replicated_port() {
    local p
    for p in "${REPLICATED_PORTS[@]}"; do [[ "$p" == "$1" ]] && return 0; done
    return 1
}

sentinel_pid() { # a sentinel runs the redis-server program under the name redis-sentinel
    local pid
    pid="$(read_pid "$SENTINEL_DIR/$1/sentinel.pid")"
    if pid_is "$pid" redis-sentinel redis-server; then printf '%s' "$pid"; fi
}

# The primary's port as the Sentinels name it (the first one that answers), or nothing.
sentinel_primary() {
    local port answer
    for port in "${SENTINEL_PORTS[@]}"; do
        [[ -n "$(sentinel_pid "$port")" ]] || continue
        answer="$(redis_cmd "$port" sentinel get-master-addr-by-name "$SENTINEL_NAME" 2>/dev/null | tr -d '\r' | sed -n 2p)"
        if is_port "$answer"; then
            printf '%s' "$answer"
            return 0
        fi
    done
}

node_role() { redis_cmd "$1" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^role://p'; }

repl_offset() { redis_cmd "$1" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^master_repl_offset://p'; }

# start_replicated_node PORT: the primary the Sentinels name (the first port on a fresh set) is started
# standalone; any other node as its replica, so a restarted old primary never serves as a second primary.
start_replicated_node() {
    local port="$1" primary dir
    if [[ -z "$(redis_pid "$port")" ]]; then
        primary="$(sentinel_primary)"
        [[ -n "$primary" ]] || primary="${REPLICATED_PORTS[0]}"
        write_redis_conf "$port" standalone
        if [[ "$port" != "$primary" ]]; then
            dir="$(node_dir "$port")"
            render "$CONFIG_DIR/redis-replica.conf" "$dir/replica.part" PRIMARY_PORT="$primary"
            cat "$dir/replica.part" >>"$dir/redis.conf"
            rm -f "$dir/replica.part"
        fi
    fi
    start_redis_node "$port"
}

start_sentinel() {
    local port="$1" primary="$2" dir pid
    dir="$SENTINEL_DIR/$port"
    pid="$(sentinel_pid "$port")"
    if [[ -n "$pid" ]]; then
        log "sentinel $port: already running (pid $pid)"
        return 0
    fi
    rm -f "$dir/sentinel.pid"
    ! port_busy "$port" || die "sentinel $port: port is in use by a process this script did not start; set DUALLOCK_SENTINEL_PORTS"
    mkdir -p "$dir"
    # A fresh file each start: a Sentinel restarted with its old rewritten file would also remember the old epoch's view.
    render "$CONFIG_DIR/redis-sentinel.conf" "$dir/sentinel.conf" PORT="$port" DIR="$dir" NAME="$SENTINEL_NAME" \
        PRIMARY_PORT="$primary" DOWN_AFTER_MS="$SENTINEL_DOWN_AFTER_MS" FAILOVER_TIMEOUT_MS="$SENTINEL_FAILOVER_TIMEOUT_MS"
    log "sentinel $port: starting (monitors $SENTINEL_NAME at 127.0.0.1:$primary)"
    spawn_detached "$dir/sentinel.out" "$REDIS_SENTINEL" "$dir/sentinel.conf"
    wait "$SPAWNED_PID" || die "sentinel $port: redis-sentinel failed to start (log: $dir/sentinel.log)"
}

sentinel_field() { # sentinel_field PORT FIELD -> value from SENTINEL MASTER
    redis_cmd "$1" sentinel master "$SENTINEL_NAME" 2>/dev/null | tr -d '\r' | sed -n "/^$2\$/{n;p;q}"
}

# Ready: every Sentinel names the same primary, sees the replica and the two other Sentinels; the replica's link is up.
sentinel_set_ready() {
    local primary="$1" port p
    for port in "${SENTINEL_PORTS[@]}"; do
        [[ "$(redis_cmd "$port" sentinel get-master-addr-by-name "$SENTINEL_NAME" 2>/dev/null | tr -d '\r' | sed -n 2p)" == "$primary" ]] || return 1
        (($(sentinel_field "$port" num-slaves || echo 0) >= ${#REPLICATED_PORTS[@]} - 1)) || return 1
        [[ "$(sentinel_field "$port" num-other-sentinels)" == $((${#SENTINEL_PORTS[@]} - 1)) ]] || return 1
    done
    for p in "${REPLICATED_PORTS[@]}"; do
        [[ "$p" == "$primary" ]] && continue
        redis_cmd "$p" info replication 2>/dev/null | tr -d '\r' | grep -qx 'master_link_status:up' || return 1
    done
}

up_sentinel() {
    [[ -n "$REDIS_SENTINEL" ]] || die "redis-sentinel is not installed (scripts/install-services.sh)"
    local port primary
    primary="$(sentinel_primary)"
    [[ -n "$primary" ]] || primary="${REPLICATED_PORTS[0]}"
    start_replicated_node "$primary"
    for port in "${REPLICATED_PORTS[@]}"; do [[ "$port" == "$primary" ]] || start_replicated_node "$port"; done
    for port in "${SENTINEL_PORTS[@]}"; do start_sentinel "$port" "$primary"; done
    local deadline=$((SECONDS + TIMEOUT))
    until sentinel_set_ready "$primary"; do
        ((SECONDS < deadline)) || die "sentinel: the set (primary $primary) was not ready within ${TIMEOUT}s (logs: $SENTINEL_DIR/*/sentinel.log)"
        sleep 0.2
    done
    log "sentinel: $SENTINEL_NAME ready: primary 127.0.0.1:$primary, ${#REPLICATED_PORTS[@]} nodes, Sentinels ${SENTINEL_PORTS[*]}"
}

stop_sentinels() { # before the nodes, so no Sentinel fails over a primary that is being stopped
    local port pid
    for port in "${SENTINEL_PORTS[@]}"; do
        pid="$(sentinel_pid "$port")"
        [[ -n "$pid" ]] || continue
        log "sentinel $port: stopping pid $pid"
        stop_pid "sentinel $port" "$pid" 15
        rm -f "$SENTINEL_DIR/$port/sentinel.pid"
    done
}

# kill_redis_primary [--lose-writes MS]: SIGKILL the node the Sentinels name as primary, then wait (bounded) for them
# to promote another. --lose-writes: first SIGSTOP the replicas and cut their links (CLIENT KILL TYPE replica), let
# the primary take writes for MS without replicating them, then kill it and SIGCONT the replicas: the promoted replica
# lacks those writes for certain, not by luck of timing.
kill_redis_primary() {
    local lose_ms="${1:-}" primary port offset lag
    primary="$(sentinel_primary)"
    [[ -n "$primary" ]] || die "sentinel: no Sentinel names a primary for $SENTINEL_NAME (run 'up sentinel' first)"
    is_replicated_port "$primary" || die "sentinel: the primary named ($primary) is not one of DUALLOCK_REPLICATED_PORTS; not touching it"
    [[ -n "$(redis_pid "$primary")" ]] || die "redis $primary: the named primary is not a process this script started"
    local -a paused=()
    if [[ -n "$lose_ms" ]]; then
        for port in "${REPLICATED_PORTS[@]}"; do
            [[ "$port" != "$primary" && -n "$(redis_pid "$port")" ]] || continue
            signal_redis_node "$port" STOP
            paused+=("$port")
        done
        redis_cmd "$primary" client kill type replica >/dev/null || log "redis $primary: CLIENT KILL TYPE replica failed"
        sleep "$(awk -v ms="$lose_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    fi
    offset="$(repl_offset "$primary")"
    kill_redis_node "$primary"
    for port in "${paused[@]}"; do signal_redis_node "$port" CONT; done
    # What the replicas got, read while they are still replicas (promotion takes at least down-after-milliseconds):
    # a replica resumed from SIGSTOP first reads what reached its socket before the cut, hence the short pause.
    sleep 0.3
    local best=-1 got
    for port in "${REPLICATED_PORTS[@]}"; do
        [[ "$port" != "$primary" && -n "$(redis_pid "$port")" ]] || continue
        got="$(redis_cmd "$port" info replication 2>/dev/null | tr -d '\r' | sed -n 's/^slave_repl_offset://p')"
        if [[ "$got" =~ ^[0-9]+$ ]] && ((got > best)); then best=$got; fi
    done
    local deadline=$((SECONDS + TIMEOUT)) next=""
    until [[ -n "$next" && "$next" != "$primary" && "$(node_role "$next")" == master ]]; do
        ((SECONDS < deadline)) || die "sentinel: no replica promoted within ${TIMEOUT}s after killing $primary"
        sleep 0.1
        next="$(sentinel_primary)"
    done
    lag="unknown"
    if ((best >= 0)); then lag=$((offset - best)); fi
    log "sentinel: 127.0.0.1:$next promoted after the primary $primary was SIGKILLed; the primary's replication offset at the kill: $offset, the most a replica had: $best (writes lost in the failover: $lag bytes of the replication stream)"
}

start_redis_replicated() { # restart every node of the set that is down, as a replica of the current primary
    local port
    for port in "${REPLICATED_PORTS[@]}"; do start_replicated_node "$port"; done
}

status_sentinel() {
    local port role
    for port in "${REPLICATED_PORTS[@]}"; do
        role=""
        if [[ -n "$(redis_pid "$port")" && -n "$REDIS_CLI" ]]; then role=" role=$(node_role "$port")"; fi
        status_line "replicated-$port" "$port" "$(redis_pid "$port")" "$role"
    done
    for port in "${SENTINEL_PORTS[@]}"; do status_line "sentinel-$port" "$port" "$(sentinel_pid "$port")"; done
}

env_sentinel() {
    local sentinels
    sentinels="$(join_endpoints "${SENTINEL_PORTS[@]}")"
    cat <<EOF
export DUALLOCK_REPLICATED_PORTS="$(IFS=,; printf '%s' "${REPLICATED_PORTS[*]}")"
export DUALLOCK_SENTINEL_PORTS="$(IFS=,; printf '%s' "${SENTINEL_PORTS[*]}")"
export DUALLOCK_SENTINEL_NAME="$SENTINEL_NAME"
export ConnectionStrings__RedisSentinel="$sentinels,serviceName=$SENTINEL_NAME,abortConnect=false,connectTimeout=2000,syncTimeout=2000"
EOF
}
